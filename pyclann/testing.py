"""What tests need, yours and ours: retries that do not wait.

    from pyclann.testing import instant_retries

    with instant_retries() as waits:
        chat.list_sessions("alice")  # retried at once, however long the waits
    assert waits == [2.0]  # what it would have waited
"""

from __future__ import annotations

from ._retry import instant_retries

__all__ = ["instant_retries"]
