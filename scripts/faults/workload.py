"""The soak's workload: lanes of calls through the fault proxy, each settled as the retries guide says, each audited.

    result = run(Settings("async", calls=300, seed=7))
    print("\\n".join(result.lines()))

A run starts a dev server with a fresh database and a `FaultProxy` in front of
it, both on free ports of 127.0.0.1, and stops both before it returns. Each lane
is one user with a client of its own (`ChatClient` in a worker thread, or
`AsyncChatClient`), making its calls one at a time, all lanes at once; every
method of the client is called, with its records chosen by a generator seeded
with the run's seed and the lane. When a call raises, the lane does what the
retries guide says: a write is called again with `idempotency_key=error.idempotency_key`
unless the error says it was not carried out (and is not a 429); a read is
called again unless it was refused (a 4xx other than 408 and 429); before each,
it waits what a 429 asked for, or a second, scaled like the SDK's own waits by
`pyclann.testing.scaled_retries`. What the call was finally told is audited
(`scripts.faults.audit`) against the server's SQLite file.

Walks (`iter_sessions`, `iter_messages`) take small pages, and between pages the
lane may write (append, rename, create, delete), so that what a walk sees when
records change under it is audited too.

Each call tags its requests for the proxy (`X-Fault-Tag: <user>/<n>`), so the
same seed meets the same faults, and gives the same result, in every run.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pyclann import (
    NOT_GIVEN,
    AsyncChatClient,
    ChatClient,
    ClannAPIError,
    ClannConnectionError,
    ClannError,
    ClannNotFoundError,
    NotGiven,
)
from pyclann.devserver.server import running
from pyclann.testing import scaled_retries
from scripts.faults.audit import CATEGORIES, HEADLINE, Audit, ServerStore, State, Told
from scripts.faults.proxy import TAG_HEADER, FaultProxy, SeededFaults

Flavour = Literal["sync", "async"]
OUTSIDER = "outsider"
ROLES = ("user", "assistant", "system")
TREES = ("alpha", "beta")
WEIGHTS = {
    "create": 10,
    "append": 28,
    "update": 8,
    "delete": 6,
    "get_session": 6,
    "get_message": 6,
    "list_sessions": 8,
    "list_messages": 8,
    "iter_sessions": 10,
    "iter_messages": 10,
}
_CONTENT_TAILS = ("", "", "", " — ünïcödé ✓ 中文", " with\ttabs\nand\x01controls", " " + "long " * 400)
_TITLE_TAILS = ("", "", " — ünïcödé ✓")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The retries guide's loop gives up after this many rounds; so does a lane, with the last error.
ROUNDS = 20


@dataclass(frozen=True)
class Settings:
    """One run.

    Attributes:
        flavour: Which client: `ChatClient` (each lane's calls in a worker thread) or `AsyncChatClient`.
        calls: The calls to make in all, shared among the lanes.
        seed: Seeds the calls, their records and the proxy's faults.
        lanes: Users calling at once, one client each.
        rate: The chance that a request meets a fault.
        scale: Every wait (the SDK's between attempts, the caller's between calls) is slept this many times as long.
        timeout: The clients' `timeout`, which bounds each attempt; a dripped response takes three times as long.
        sync_client: The class of the sync clients (a deliberately broken one, to show the audit sees it).
        async_client: The class of the async clients.
    """

    flavour: Flavour
    calls: int
    seed: int
    lanes: int = 4
    rate: float = 0.3
    scale: float = 0.01
    timeout: float = 1.0
    sync_client: type[ChatClient] = ChatClient
    async_client: type[AsyncChatClient] = AsyncChatClient


@dataclass
class Tally:
    """What the callers did and were told."""

    calls: Counter[str] = field(default_factory=Counter)
    recalls: int = 0
    raised: Counter[str] = field(default_factory=Counter)
    outcomes: list[str] = field(default_factory=list)


@dataclass
class Result:
    """A run's figures, and its audit."""

    settings: Settings
    audit: Audit
    tally: Tally
    faults: Counter[str]
    requests: int
    retries: int
    drips_abandoned: int
    history: dict[str, tuple[str, ...]]
    seconds: float

    @property
    def failures(self) -> int:
        return self.audit.failures

    def fingerprint(self) -> tuple[Any, ...]:
        """What the same seed must reproduce: every request's fault, every call's outcome, the audit's counts."""
        return self.history, sorted(self.tally.outcomes), self.audit.counts

    def lines(self) -> list[str]:
        s, t = self.settings, self.tally
        client = s.sync_client.__name__ if s.flavour == "sync" else s.async_client.__name__
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(self.faults.items()))
        raised = ", ".join(f"{name} {n}" for name, n in t.raised.most_common())
        methods = ", ".join(f"{name} {n}" for name, n in sorted(t.calls.items()))
        return [
            f"{s.flavour}: {client}, {s.lanes} lanes at once, seed {s.seed}, {s.calls} calls in {self.seconds:.0f} s",
            f"  calls                  {sum(t.calls.values())} ({methods})",
            f"  requests to the proxy  {self.requests}",
            f"  faults injected        {self.faults.total()} ({faults})",
            f"  drips timed out        {self.drips_abandoned} of {self.faults['drip']} (the client gave up first)",
            f"  retries by the SDK     {self.retries}",
            f"  calls that raised      {sum(t.raised.values())} ({raised})",
            f"  called again           {t.recalls} (a write with the error's idempotency key, or a read)",
            *(f"  {name:<22} {self.audit.counts[name]}" for name in CATEGORIES),
        ]


def run(settings: Settings) -> Result:
    """Run the workload against a fresh dev server behind a fresh fault proxy, both stopped on return."""
    users = [f"{settings.flavour}{i}" for i in range(settings.lanes)]
    tokens = {_token(user): user for user in [*users, OUTSIDER]}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clann-soak-") as folder:
        db = Path(folder) / "soak.sqlite3"
        policy = SeededFaults(settings.seed, settings.rate)
        with (
            running(db, tokens) as server,
            FaultProxy(server.url, policy, drip_seconds=3 * settings.timeout) as proxy,
        ):
            store = ServerStore(db)
            try:
                outsider = _outsider(server.url)
                outsider_state = store.state(OUTSIDER)
                audit, tally, retries = asyncio.run(_drive(settings, proxy.url, store, users, outsider))
                audit.settled(OUTSIDER, outsider_state, store.state(OUTSIDER))
            finally:
                store.close()
        return Result(
            settings,
            audit,
            tally,
            proxy.injected,
            proxy.requests,
            retries,
            proxy.drips_abandoned,
            proxy.history(),
            time.perf_counter() - started,
        )


def headline(results: list[Result]) -> str:
    """The four figures that must be zero, over several runs."""
    counts: Counter[str] = Counter()
    for result in results:
        counts.update(result.audit.counts)
    return ", ".join(f"{counts[name]} {name}" for name in HEADLINE)


def _token(user: str) -> str:
    return f"soak-token-{user}"


def _outsider(url: str) -> str:
    """Another user's session, with a message, which the lanes aim at now and then: never theirs to see."""
    with ChatClient(url, token=_token(OUTSIDER)) as chat:
        session = chat.create_session("not yours", OUTSIDER)
        chat.append_message(session, "user", "not yours either")
    return session.id


async def _drive(
    settings: Settings, url: str, store: ServerStore, users: list[str], outsider: str
) -> tuple[Audit, Tally, int]:
    audit, tally = Audit(), Tally()
    loop = asyncio.get_running_loop()
    # A worker thread for every sync lane; asyncio.to_thread carries the scaled waits over.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=settings.lanes, thread_name_prefix="soak-lane"))
    with scaled_retries(settings.scale) as waits:
        lanes = [
            Lane(settings, user, _calls(settings, url, user), store, audit, tally, outsider, quota)
            for user, quota in zip(users, _shares(settings.calls, len(users)), strict=True)
        ]
        try:
            await asyncio.gather(*(lane.run() for lane in lanes))
        finally:
            for lane in lanes:
                await lane.calls.close()
    for lane in lanes:
        audit.settled(lane.user, lane.state, store.state(lane.user))
    return audit, tally, len(waits)


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _calls(settings: Settings, url: str, user: str) -> Calls:
    if settings.flavour == "sync":
        return SyncCalls(settings.sync_client(url, token=_token(user), timeout=settings.timeout))
    return AsyncCalls(settings.async_client(url, token=_token(user), timeout=settings.timeout))


class Calls:
    """A lane's client, called the same way whichever its flavour: every call awaited, its requests tagged."""

    def __init__(self, client: ChatClient | AsyncChatClient) -> None:
        self._client = client

    def _tagged(self, tag: str, method: str) -> Any:
        return getattr(self._client.with_options(headers={TAG_HEADER: tag}), method)

    async def invoke(self, tag: str, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def walk(self, tag: str, method: str, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class AsyncCalls(Calls):
    _client: AsyncChatClient

    async def invoke(self, tag: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return await self._tagged(tag, method)(*args, **kwargs)

    def walk(self, tag: str, method: str, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        iterator: AsyncIterator[Any] = self._tagged(tag, method)(*args, **kwargs)
        return iterator

    async def close(self) -> None:
        await self._client.aclose()


_END = object()


class SyncCalls(Calls):
    """A `ChatClient`, each call (and each step of a walk) made in a worker thread."""

    _client: ChatClient

    async def invoke(self, tag: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._tagged(tag, method), *args, **kwargs)

    async def walk(self, tag: str, method: str, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        items: Iterator[Any] = iter(self._tagged(tag, method)(*args, **kwargs))
        try:
            while (item := await asyncio.to_thread(next, items, _END)) is not _END:
                yield item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    async def close(self) -> None:
        self._client.close()


def _refused(error: ClannError) -> bool:
    """A read's error that calling again would only meet again: a 4xx other than 408 and 429, or no request at all."""
    if isinstance(error, ClannAPIError):
        return 400 <= error.status_code < 500 and error.status_code not in (408, 429)
    return not isinstance(error, ClannConnectionError)


class Lane:
    """One user's calls, one at a time, each audited against the server as soon as it is settled."""

    def __init__(
        self,
        settings: Settings,
        user: str,
        calls: Calls,
        store: ServerStore,
        audit: Audit,
        tally: Tally,
        outsider: str,
        quota: int,
    ) -> None:
        self.settings, self.user, self.calls, self.store = settings, user, calls, store
        self.audit, self.tally, self.outsider, self.quota = audit, tally, outsider, quota
        self.rng = random.Random(f"{settings.seed}/{user}")
        self.state: State = store.state(user)
        self.live: list[str] = []  # sessions it was told it created, and not told are gone
        self.gone: list[str] = []
        self.messages: dict[str, list[str]] = {}  # messages it was told it stored, by session
        self.never = _fake_id(self.rng, "chat_session")
        self.done = 0

    async def run(self) -> None:
        while self.done < self.quota:
            await getattr(self, self._choose())()

    def _choose(self) -> str:
        if len(self.live) < 2:
            return "create"
        weights = dict(WEIGHTS)
        if len(self.live) > 12:
            weights["delete"] *= 3
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def _call(self, method: str) -> str:
        """Count a call; its tag, which names it in the proxy's history and the audit."""
        self.tally.calls[method] += 1
        self.done += 1
        return f"{self.user}/{self.done}"

    def _wrote(self) -> tuple[State, State]:
        before, self.state = self.state, self.store.state(self.user)
        return before, self.state

    # -- choosing records --------------------------------------------------------------

    def _session(self, stale: float = 0.08) -> str:
        """A session it believes it has; now and then one it deleted, another user's, or one that never was."""
        if not self.live or self.rng.random() < stale:
            return self.rng.choice([self.outsider, self.never, *self.gone[-4:]])
        return self.rng.choice(self.live)

    def _message(self) -> tuple[str, str]:
        """A session and a message it was told is in it; now and then a message of another session."""
        known = [(s, m) for s in self.live for m in self.messages.get(s, ())]
        if not known:
            return self._session(), _fake_id(self.rng, "chat_message")
        session, message = self.rng.choice(known)
        if self.rng.random() < 0.05:
            session = self._session(stale=0)
        return session, message

    def _text(self, tails: tuple[str, ...], stem: str) -> str:
        return f"{self.user} {stem}{self.done}{self.rng.choice(tails)}"

    # -- settling a call ---------------------------------------------------------------

    async def _settle(self, tag: str, method: str, *args: Any, write: bool, **kwargs: Any) -> Told:
        """Call until told something final, as the retries guide says; what it was told last."""
        key = f"soak-{self.settings.seed}-{tag}" if write else None
        trail: list[str] = []
        while True:
            if write:
                kwargs["idempotency_key"] = key
            try:
                value = await self.calls.invoke(tag, method, *args, **kwargs)
            except ClannError as error:
                trail.append(type(error).__name__)
                self.tally.raised[type(error).__name__] += 1
                if write:
                    if error.idempotency_key != key:
                        self.audit.flag(
                            "wrong keys", f"{tag}: {method} sent {key!r}, its error says {error.idempotency_key!r}"
                        )
                    key = error.idempotency_key or key
                    # As the retries guide's loop: a session gone is final, whatever was written to it.
                    final = isinstance(error, ClannNotFoundError) or (not error.may_have_landed and _refused(error))
                else:
                    final = _refused(error)
                if final or len(trail) >= ROUNDS:
                    return self._told(tag, method, trail, Told(error=error))
                self.tally.recalls += 1
                await self._pause(error)
            except Exception as error:  # not a ClannError: it escaped the SDK
                self.audit.flag("escaped errors", f"{tag}: {method} raised {error!r}")
                return self._told(tag, method, [*trail, type(error).__name__], Told(error=error))
            else:
                return self._told(tag, method, [*trail, "ok"], Told(value=value))

    def _told(self, tag: str, method: str, trail: list[str], told: Told) -> Told:
        """Note how a call went, each error it raised and then its end, for the same-seed check."""
        self.tally.outcomes.append(f"{tag} {method} {'>'.join(trail)}")
        return told

    async def _pause(self, error: BaseException) -> None:
        """The caller's wait before calling again: what a 429 asked for, else a second; scaled."""
        await asyncio.sleep(self.settings.scale * min(getattr(error, "retry_after", None) or 1.0, 60.0))

    async def _walk(
        self,
        tag: str,
        method: str,
        args: tuple[Any, ...],
        page_size: int,
        limit: int | None,
        between: list[Callable[[], Awaitable[None]]],
        check: Callable[[list[State], list[Any], bool, Told], None],
        **kwargs: Any,
    ) -> None:
        """Walk a listing, writing between pages; on an error, walk again (as `_settle` calls again)."""
        trail: list[str] = []
        while True:
            fetched: list[State] = []
            got: list[Any] = []
            whole = False
            error: BaseException | None = None
            items = self.calls.walk(tag, method, *args, page_size=page_size, **kwargs)
            try:
                while limit is None or len(got) < limit:
                    if len(got) % page_size == 0:
                        # The next item comes with a new page, fetched from the state as it is now.
                        if got and between and self.done < self.quota:
                            await between.pop(0)()
                        fetched.append(self.state)
                    try:
                        got.append(await anext(items))
                    except StopAsyncIteration:
                        whole = True
                        break
            except ClannError as raised:
                error = raised
                trail.append(type(raised).__name__)
                self.tally.raised[type(raised).__name__] += 1
            except Exception as raised:  # not a ClannError: it escaped the SDK
                self.audit.flag("escaped errors", f"{tag}: {method} raised {raised!r}")
                error = raised
            finally:
                aclose = getattr(items, "aclose", None)
                if aclose is not None:
                    await aclose()
            told = Told(value=got) if error is None else Told(error=error)
            check(fetched, got, whole, told)
            if error is None or not isinstance(error, ClannError) or _refused(error) or len(trail) >= ROUNDS:
                self._told(tag, method, [*trail, f"ok:{len(got)}" if error is None else "end"], told)
                return
            self.tally.recalls += 1
            await self._pause(error)

    # -- writes --------------------------------------------------------------------------

    async def create(self) -> None:
        tag = self._call("create_session")
        title, tree = self._text(_TITLE_TAILS, "t"), self.rng.choice([None, *TREES])
        told = await self._settle(tag, "create_session", title, self.user, tree, write=True)
        self.audit.create(tag, title, tree, told, *self._wrote())
        if told.ok:
            self.live.append(told.value.id)

    async def append(self, session: str | None = None) -> None:
        tag = self._call("append_message")
        session = session or self._session()
        role, content = self.rng.choice(ROLES), self._text(_CONTENT_TAILS, "m")
        told = await self._settle(tag, "append_message", session, role, content, write=True)
        self.audit.append(tag, session, content, told, *self._wrote())
        if told.ok:
            self.messages.setdefault(session, []).append(told.value.id)

    async def update(self) -> None:
        tag = self._call("update_session")
        session, title = self._session(), self._text(_TITLE_TAILS, "r")
        tree: str | NotGiven | None = self.rng.choice([NOT_GIVEN, NOT_GIVEN, None, *TREES])
        changes: dict[str, Any] = {"title": title} if isinstance(tree, NotGiven) else {"title": title, "tree": tree}
        told = await self._settle(tag, "update_session", session, write=True, **changes)
        self.audit.update(tag, session, title, tree, told, *self._wrote())

    async def delete(self) -> None:
        tag = self._call("delete_session")
        session = self._session(stale=0.25)
        told = await self._settle(tag, "delete_session", session, write=True)
        self.audit.delete(tag, session, told, *self._wrote())
        if (told.ok or told.not_found) and session in self.live:
            self.live.remove(session)
            self.gone.append(session)

    # -- reads ---------------------------------------------------------------------------

    async def get_session(self) -> None:
        tag = self._call("get_session")
        session = self._session()
        told = await self._settle(tag, "get_session", session, write=False)
        self.audit.get_session(tag, session, told, self.state)

    async def get_message(self) -> None:
        tag = self._call("get_message")
        session, message = self._message()
        told = await self._settle(tag, "get_message", session, message, write=False)
        self.audit.get_message(tag, session, message, told, self.state)

    async def list_sessions(self) -> None:
        tag = self._call("list_sessions")
        tree = self.rng.choice([None, None, *TREES])
        told = await self._settle(tag, "list_sessions", self.user, tree, write=False)
        self.audit.list_sessions(tag, tree, told, self.state)

    async def list_messages(self) -> None:
        tag = self._call("list_messages")
        session = self._session()
        told = await self._settle(tag, "list_messages", session, write=False)
        self.audit.list_messages(tag, session, told, self.state)

    async def iter_sessions(self) -> None:
        tag = self._call("iter_sessions")
        tree = self.rng.choice([None, None, *TREES])
        page_size, limit = self.rng.choice([1, 2, 3, 5]), self._limit()
        writes: list[Callable[[], Awaitable[None]]] = [self.append, self.append, self.update, self.create, self.delete]
        between = [self.rng.choice(writes) for _ in range(self.rng.randint(0, 3))]

        def check(fetched: list[State], got: list[Any], whole: bool, told: Told) -> None:
            self.audit.walk_sessions(tag, tree, page_size, fetched, got, whole=whole)

        await self._walk(tag, "iter_sessions", (self.user, tree), page_size, limit, between, check)

    async def iter_messages(self) -> None:
        tag = self._call("iter_messages")
        session = self._session()
        after: str | None = None
        if self.messages.get(session) and self.rng.random() < 0.4:
            after = self.rng.choice(self.messages[session])
        elif self.rng.random() < 0.03:
            after = _fake_id(self.rng, "chat_message")
        page_size, limit = self.rng.choice([1, 2, 3, 4]), self._limit()

        async def append_here() -> None:
            await self.append(session)

        writes: list[Callable[[], Awaitable[None]]] = [append_here, append_here, append_here, self.append, self.delete]
        between = [self.rng.choice(writes) for _ in range(self.rng.randint(0, 3))]

        def check(fetched: list[State], got: list[Any], whole: bool, told: Told) -> None:
            self.audit.walk_messages(tag, session, after, page_size, fetched, got, whole=whole, told=told)

        await self._walk(tag, "iter_messages", (session,), page_size, limit, between, check, after=after)

    def _limit(self) -> int | None:
        """Most walks run to their end; some stop part way, as `islice` would."""
        return self.rng.randint(1, 8) if self.rng.random() < 0.25 else None


def _fake_id(rng: random.Random, table: str) -> str:
    """A record ID that no server issued (seeded, so runs agree)."""
    return f"{table}:{rng.choice('01234567')}{''.join(rng.choice(_CROCKFORD) for _ in range(25))}"
