"""The `pyclann` logger, and `CLANN_LOG`, which turns its output on.

`CLANN_LOG=info` shows each retry; `CLANN_LOG=debug` also shows each response
(method, path and query, status, request ID). Neither ever shows a header, so
the token never appears. `CLANN_LOG` sets the `pyclann` logger's level (it wins
over a level set in code), and sends its records to stderr unless the
application's logging already has a handler that would print them. Without
`CLANN_LOG`, the logger is left to the application, as a library's should be.
"""

from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger("pyclann")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_configured = False


def configure_from_env() -> None:
    """Honour `CLANN_LOG`, once per process."""
    global _configured
    if _configured:
        return
    _configured = True
    value = os.environ.get("CLANN_LOG", "").strip().lower()
    level = _LEVELS.get(value)
    if level is None:
        if value:
            logger.warning("CLANN_LOG=%r is not one of debug, info; ignored", value[:20])
        return
    logger.setLevel(level)
    # A handler of pyclann's own only where nothing else would print the records: an
    # application that has configured logging already shows them through its handlers.
    if not logger.hasHandlers():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)
