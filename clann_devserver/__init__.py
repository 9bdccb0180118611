"""The reference dev server for openapi.yaml: the Clann chat API on SQLite (`pip install "pyclann[server]"`).

This module imports nothing beyond the standard library, so that the command
line can tell a user without the `server` extra how to get it.
"""

# The users `clann-devserver` knows when given no --token: token -> username.
DEV_TOKENS = {"dev-token-alice": "alice", "dev-token-bob": "bob"}
