"""Errors a user can act on.

Every problem caused by input (rules, timesheets, ledger, bank files, command-line arguments) is raised
as an :class:`InputError` that names where it is (file, line or key path) and what to do. The CLI prints
them without a traceback and exits 1. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One located problem: ``file:line [key]: message (fix)``."""

    message: str
    file: str | None = None
    line: int | None = None
    key: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
        if self.key:
            where += f" [{self.key}]" if where else f"[{self.key}]"
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" — {self.fix}"
        return text

    def relative_to(self, root: Path) -> Problem:
        """The same problem with its file shown relative to ``root`` when it is an absolute path under it
        (a relative file is already shown as the user or eage wrote it)."""
        if not self.file or not Path(self.file).is_absolute():
            return self
        try:
            shown = Path(self.file).resolve().relative_to(root.resolve()).as_posix()
        except (ValueError, OSError):
            return self
        if shown == ".":
            return self  # the group's folder itself: shown as the user gave it
        return Problem(self.message, shown, self.line, self.key, self.fix)


class InputError(Exception):
    """Bad input: one or more located problems. Exit code 1, no traceback."""

    def __init__(self, problems: Problem | Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def at(
        cls,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
        fix: str | None = None,
    ) -> InputError:
        return cls(Problem(message, str(file) if file is not None else None, line, key, fix))


class UsageError(Exception):
    """Wrong command-line usage. Exit code 2."""


def raise_if(problems: Iterable[Problem]) -> None:
    """Raise an :class:`InputError` carrying every problem, if there is any."""
    found = list(problems)
    if found:
        raise InputError(found)
