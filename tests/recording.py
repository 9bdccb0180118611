"""What the cassette tests and `make record` share: where the server is, and its users' tokens.

Replaying, the clients point at an address nothing listens on: every request must
be answered from a cassette. Recording, `make record` sets CLANN_RECORD_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
RECORD_URL = os.environ.get("CLANN_RECORD_URL")
BASE_URL = RECORD_URL or "http://127.0.0.1:9"
# The tokens the dev server is given while recording; never to be found in a cassette.
RECORD_TOKENS = {"rec-alice-7c41f0d2e9": "alice", "rec-bob-2b8e6a91c3": "bob"}
ALICE_TOKEN, BOB_TOKEN = RECORD_TOKENS
REDACTED = "Bearer REDACTED"
# Cassettes name this host instead of the recording server's port.
RECORDED_HOST = "devserver.invalid"
