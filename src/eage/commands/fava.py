"""``eage fava [--port N] [--read-only]``: Fava on 127.0.0.1 with the eage extension.

The books hold salaries and members' debts: Fava listens on the loopback interface only, never on all
interfaces; reach it from elsewhere through an SSH tunnel. The extension is declared in main.beancount
(``custom "fava-extension" "eage.fava_ext"``), so plain ``fava`` shows the same pages.
"""

from __future__ import annotations

import argparse

HELP = "serve the books in Fava on 127.0.0.1 with the eage pages"
HOST = "127.0.0.1"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=5000, help="port to listen on (default 5000)")
    parser.add_argument(
        "--read-only", action="store_true", help="Fava's read-only mode: no edits from the browser"
    )


def run(args: argparse.Namespace) -> int:
    from eage.errors import InputError, UsageError

    main = (args.root / "ledger" / "main.beancount").resolve()  # Beancount asserts absolute paths
    if not main.is_file():
        raise InputError.at("the ledger is missing", file="ledger/main.beancount", fix="run `eage init DIR`")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"port {args.port} is not between 0 and 65535")
    from fava.application import create_app
    from werkzeug.serving import make_server

    app = create_app([main], read_only=args.read_only)
    server = make_server(HOST, args.port, app, threaded=True)
    mode = " (lecture seule)" if args.read_only else ""
    print(f"Fava{mode}: http://{HOST}:{server.server_port}/ — Ctrl+C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
