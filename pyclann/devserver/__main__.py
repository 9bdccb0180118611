"""Run the dev server: `clann-devserver` or `python -m pyclann.devserver`.

With no options it serves http://127.0.0.1:8765 from ./clann-dev.sqlite3 and
knows two users: alice (token `dev-token-alice`) and bob (`dev-token-bob`).
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Sequence

from . import DEV_TOKENS, tokens_of

# What the `server` extra installs, by the name each is imported as.
SERVER_DEPENDENCIES = frozenset({"uvicorn", "h11", "jsonschema_rs", "ulid", "yaml"})


def _port(text: str) -> int:
    # ASCII digits only: int() would also take "-1", "+80", "8_0" and other scripts' digits.
    port = int(text) if text.isascii() and text.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535 (0 picks a free one), got {text!r}")
    return port


def _host(text: str) -> str:
    # The socket module encodes a host name that is not ASCII with IDNA, and fails with a TypeError
    # (a label over 63 characters, say); one that is ASCII goes to the resolver as it is.
    if not text.isascii():
        try:
            text.encode("idna")
        except UnicodeError:
            raise argparse.ArgumentTypeError(f"not a host name or address: {text!r}") from None
    return text


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:  # NaN fails both comparisons
        raise argparse.ArgumentTypeError(f"expected seconds from 0 to 3600, got {text!r}")
    return seconds


def _token(text: str) -> tuple[str, str]:
    user, sep, token = text.partition("=")
    if not sep or not user or not token:
        raise argparse.ArgumentTypeError(f"expected USER=TOKEN, got {text!r}")
    return user, token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clann-devserver", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", type=_host, default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=8765, help="port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--db", default="clann-dev.sqlite3", help="SQLite file (default: %(default)s)")
    parser.add_argument(
        "--token",
        type=_token,
        action="append",
        metavar="USER=TOKEN",
        help="a user and their bearer token; repeat for more (default: alice and bob's dev tokens)",
    )
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument(
        "--write-delay",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="keep each write in flight this long before carrying it out, so that a request sent again "
        "with its Idempotency-Key meanwhile is answered 409 (default: 0, none)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve until interrupted; the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        tokens = tokens_of(args.token) if args.token else DEV_TOKENS
    except ValueError as error:
        parser.error(f"argument --token: {error}")
    try:
        from .server import CannotServe, bind, serve_forever
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in SERVER_DEPENDENCIES:
            raise
        print(
            f'clann-devserver needs the server extra (no module {error.name!r}): pip install "pyclann[server]"',
            file=sys.stderr,
        )
        return 1
    try:
        sock = bind(args.host, args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(
                f"clann-devserver: port {args.port} on {args.host} is already in use; "
                "choose another with --port, or --port 0 for a free one",
                file=sys.stderr,
            )
        else:
            print(
                f"clann-devserver: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr
            )
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        serve_forever(sock, args.db, tokens, port_file=args.port_file, write_delay=args.write_delay)
    except CannotServe as error:
        print(f"clann-devserver: {error}", file=sys.stderr)
        return 1
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
