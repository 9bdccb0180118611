"""A seeded mix of calls through faults, and the audit afterwards: was any message lost or doubled?

Every `append_message` carries a unique content string, and every
`create_session` a unique title, so the server's final state can be compared
with what each call told its caller.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from pyclann import AsyncChatClient, ChatClient, ClannError
from tests.faults.injector import AsyncFaultyTransport, FaultyTransport
from tests.helpers import call


@dataclass
class Report:
    calls: int = 0
    returned: int = 0
    raised: int = 0
    unexpected: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    appends_returned: int = 0
    appends_raised: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    raised_but_written: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(self.faults.items()))
        return [
            f"calls                      {self.calls}",
            f"faults injected            {self.faults.total()} ({faults})",
            f"retries                    {self.retries}",
            f"calls that returned        {self.returned}",
            f"calls that raised          {self.raised} (ClannError subclasses; anything else: {len(self.unexpected)})",
            f"appends returned / raised  {self.appends_returned} / {self.appends_raised}",
            f"messages lost              {len(self.lost)}",
            f"messages duplicated        {len(self.duplicated)}",
            f"appends raised, yet kept   {len(self.raised_but_written)}",
        ]


@dataclass
class Plan:
    """Chooses each call from a seeded generator, and remembers what each call said."""

    seed: int
    tree: str
    user: str = "alice"
    sessions: list[str] = field(default_factory=list)
    title_of: dict[str, str] = field(default_factory=dict)  # session id -> title
    with_appends: set[str] = field(default_factory=set)
    appended: dict[str, bool] = field(default_factory=dict)  # content -> returned?
    created: dict[str, bool] = field(default_factory=dict)  # title -> returned?
    deleted: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def next_call(self, i: int) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        roll = self.rng.random()
        live = [s for s in self.sessions if s not in self.deleted]
        if not live or roll < 0.2:
            return "create_session", (f"{self.tree}-s{i}", self.user), {"tree": self.tree}
        if roll < 0.7:
            session = self.rng.choice(live)
            self.with_appends.add(session)
            return "append_message", (session, "user", f"{self.tree}-m{i}"), {}
        if roll < 0.8:
            return "list_messages", (self.rng.choice(live),), {}
        disposable = [s for s in live if s not in self.with_appends]
        if roll < 0.9 or not disposable:
            return "list_sessions", (self.user,), {"tree": self.tree}
        session = self.rng.choice(disposable)
        self.deleted.add(session)
        return "delete_session", (session,), {}

    def record(self, method: str, args: tuple[Any, ...], outcome: Any, report: Report) -> None:
        report.calls += 1
        ok = not isinstance(outcome, BaseException)
        if ok:
            report.returned += 1
        elif isinstance(outcome, ClannError):
            report.raised += 1
        else:
            report.unexpected.append(repr(outcome))
        if method == "create_session":
            self.created[args[0]] = ok
            if ok:
                self.sessions.append(outcome.id)
                self.title_of[outcome.id] = args[0]
        elif method == "append_message":
            self.appended[args[2]] = ok
            report.appends_returned += ok
            report.appends_raised += not ok


def audit(plan: Plan, report: Report, base_url: str, token: str) -> None:
    """Compare the server's state, read without faults, with what the calls said."""
    with ChatClient(base_url, token=token) as clean:
        sessions = clean.list_sessions(plan.user, tree=plan.tree)
        contents = Counter(m.content for s in sessions for m in clean.list_messages(s.id))
    for content, returned in plan.appended.items():
        if returned and contents[content] == 0:
            report.lost.append(content)
        if not returned and contents[content] == 1:
            report.raised_but_written.append(content)
    report.duplicated = [content for content, n in contents.items() if n > 1]
    titles = Counter(s.title for s in sessions)
    report.duplicated += [title for title, n in titles.items() if n > 1]
    # A session may be absent only if some delete_session call was aimed at it.
    deleted_titles = {plan.title_of[session] for session in plan.deleted}
    report.lost += [t for t, ok in plan.created.items() if ok and titles[t] == 0 and t not in deleted_titles]


def run_sync(base_url: str, token: str, *, seed: int, calls: int, rate: float = 0.3) -> Report:
    transport = FaultyTransport(httpx.HTTPTransport(), seed, rate)
    report, plan = Report(), Plan(seed, f"faults-sync-{seed}")
    with ChatClient(base_url, token=token, http_client=httpx.Client(transport=transport)) as client:
        client._sleep = lambda seconds: None
        for i in range(calls):
            method, args, kwargs = plan.next_call(i)
            try:
                outcome = getattr(client, method)(*args, **kwargs)
            except Exception as error:
                outcome = error
            plan.record(method, args, outcome, report)
    report.faults, report.retries = transport.injected, transport.attempts - report.calls
    audit(plan, report, base_url, token)
    return report


async def run_async(
    base_url: str, token: str, *, seed: int, calls: int, rate: float = 0.3, concurrency: int = 8
) -> Report:
    transport = AsyncFaultyTransport(httpx.AsyncHTTPTransport(), seed, rate)
    report, plan = Report(), Plan(seed, f"faults-async-{seed}")
    client = AsyncChatClient(base_url, token=token, http_client=httpx.AsyncClient(transport=transport))

    async def no_sleep(seconds: float) -> None:
        return None

    client._sleep = no_sleep

    async def one(i: int) -> None:
        method, args, kwargs = plan.next_call(i)
        try:
            outcome = await call(client, method, *args, **kwargs)
        except Exception as error:
            outcome = error
        plan.record(method, args, outcome, report)

    for start in range(0, calls, concurrency):
        await asyncio.gather(*(one(i) for i in range(start, min(start + concurrency, calls))))
    await client._http.aclose()
    report.faults, report.retries = transport.injected, transport.attempts - report.calls
    await asyncio.to_thread(audit, plan, report, base_url, token)
    return report
