"""The reference dev server for openapi.yaml: the Clann chat API on SQLite (`pip install "pyclann[server]"`).

This module imports nothing beyond the standard library, so that the command
line can tell a user without the `server` extra how to get it.
"""

from collections.abc import Iterable

# The users `clann-devserver` knows when given no --token: token -> username.
DEV_TOKENS = {"dev-token-alice": "alice", "dev-token-bob": "bob"}


def tokens_of(users: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The server's token -> username map for `(user, token)` pairs.

    Raises:
        ValueError: If two users are given the same token: the server could tell them apart by nothing else.
    """
    tokens: dict[str, str] = {}
    for user, token in users:
        if tokens.setdefault(token, user) != user:
            raise ValueError(f"users {tokens[token]!r} and {user!r} have the same token: give each their own")
    return tokens
