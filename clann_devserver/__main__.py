"""Run the dev server: `python -m devserver` or `clann-devserver`.

With no options it serves http://127.0.0.1:8765 from ./clann-dev.sqlite3 and
knows two users: alice (token `dev-token-alice`) and bob (`dev-token-bob`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from .server import DEV_TOKENS, serve_forever


def _token(text: str) -> tuple[str, str]:
    user, sep, token = text.partition("=")
    if not sep or not user or not token:
        raise argparse.ArgumentTypeError(f"expected USER=TOKEN, got {text!r}")
    return token, user


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="clann-devserver", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--db", default="clann-dev.sqlite3", help="SQLite file (default: %(default)s)")
    parser.add_argument(
        "--token",
        type=_token,
        action="append",
        metavar="USER=TOKEN",
        help="a user and their bearer token; repeat for more (default: alice and bob's dev tokens)",
    )
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    tokens = dict(args.token) if args.token else DEV_TOKENS
    serve_forever(args.host, args.port, args.db, tokens, port_file=args.port_file)


if __name__ == "__main__":
    main()
