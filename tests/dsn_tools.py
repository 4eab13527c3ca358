"""The independent DSN check for the tests: dsn-tools (Python >= 3.12) in its own environment, .venv-dsn.

:func:`dsn_tools_validate` runs ``.venv-dsn/bin/python scripts/dsn_tools_check.py FILE`` and returns its JSON
summary (``ok``, ``errors``, ``declarations``, ``individus``, ``rubrics``, ``blocks``). The environment is
built by ``make test`` (target ``.venv-dsn/bin/.installed``, from requirements-dsn-tools.txt); when it is
missing the test FAILS, with the command that builds it: the independent check is never skipped.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DSN_PYTHON = REPO / ".venv-dsn" / "bin" / "python"
CHECK = REPO / "scripts" / "dsn_tools_check.py"


def dsn_tools_validate(path: Path) -> dict[str, Any]:
    """dsn-tools' summary of the DSN file ``path`` (see scripts/dsn_tools_check.py)."""
    if not DSN_PYTHON.exists():
        pytest.fail(
            f"{DSN_PYTHON.relative_to(REPO)} is missing: the independent DSN check needs it; build it with "
            "`make .venv-dsn/bin/.installed` (or `make test`, which builds it)",
            pytrace=False,
        )
    done = subprocess.run(
        [str(DSN_PYTHON), str(CHECK.relative_to(REPO)), str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        summary: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"dsn_tools_check.py printed no JSON (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    if done.returncode != (0 if summary.get("ok") else 1):
        pytest.fail(f"dsn_tools_check.py exited {done.returncode} for ok={summary.get('ok')}:\n{done.stderr}")
    return summary
