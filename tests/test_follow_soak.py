"""The soak's follows, small: sync and async followers through the fault proxy, across a restart, miss nothing.

And the audit sees it when they do not: followers that forget where they were when
they resume are caught giving messages twice.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

from pyclann import AsyncChatClient, ChatClient, ChatMessage, ChatSession
from scripts.faults.follow import FOLLOW_HEADLINE, FollowResult, FollowSettings, run

SMALL = FollowSettings(seed=5, messages=15, scale=0.005)


def report(result: FollowResult) -> str:
    return "\n".join([*result.lines(), *result.examples])


def test_followers_through_a_faulting_wire_and_a_restart_miss_nothing_and_double_nothing() -> None:
    result = run(SMALL)
    assert result.failures == 0, report(result)
    assert set(result.counts) == set(FOLLOW_HEADLINE)
    assert result.held == result.appended == SMALL.writers * SMALL.messages
    assert sum(len(follower.got) for follower in result.followers) == 2 * result.held, "each session, by two"
    assert result.faults.total() > 0
    assert result.restart_seconds > 0


class Forgetful(ChatClient):
    """A follow that starts from the first message again whenever it is resumed."""

    def follow_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        wait: int = 30,
        page_size: int | None = None,
    ) -> Generator[ChatMessage, None, None]:
        return super().follow_messages(session_id, wait=wait, page_size=page_size)


class AsyncForgetful(AsyncChatClient):
    def follow_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        wait: int = 30,
        page_size: int | None = None,
    ) -> AsyncGenerator[ChatMessage, None]:
        return super().follow_messages(session_id, wait=wait, page_size=page_size)


def test_the_audit_catches_followers_that_forget_where_they_were() -> None:
    result = run(FollowSettings(seed=5, messages=15, scale=0.005, sync_client=Forgetful, async_client=AsyncForgetful))
    assert sum(follower.follows for follower in result.followers) > len(result.followers), "some were resumed"
    assert result.counts["doubled"] > 0, report(result)
