"""The soak's follows: sync and async followers and several writers, through the fault proxy, across a restart.

    result = run(FollowSettings(seed=7))
    print("\\n".join(result.lines()))

A run starts a dev server on a file of its own and a `FaultProxy` in front of it.
Writers (half `ChatClient` in worker threads, half `AsyncChatClient`) append
messages to the sessions, each with an idempotency key and called again until it
lands; followers (a `ChatClient` and an `AsyncChatClient` per session) follow each
session from its start with `follow_messages`. Half way through the writes, the
dev server is stopped and started again on the same file and port. A follow that
ends with an error (the proxy's 401, or a 429 over the SDK's cap) is resumed by its
caller, as the guide says: `follow_messages(session, after=<the last message it yielded>)`.

When the writes are done and every follower has caught up with what the server
holds (or a deadline passes), the followers are stopped as users stop them: the
async ones by cancelling their tasks, the sync ones by closing their clients.
Then each follower's messages are audited against the server's SQLite file: every
message of its session exactly once, in order, and nothing else; and every write
stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pyclann import AsyncChatClient, ChatClient, ClannError, ClannUsageError
from pyclann.devserver.server import running
from pyclann.testing import scaled_retries
from scripts.faults.proxy import TAG_HEADER, FaultProxy, SeededFaults

USER = "follower"
TOKEN = "soak-token-follower"  # noqa: S105 - the soak's own dev server's token, not a secret
FOLLOW_HEADLINE = ("missed", "doubled", "out of order", "phantom", "appends lost", "appends doubled")


@dataclass(frozen=True)
class FollowSettings:
    """One run of the follows.

    Attributes:
        seed: Seeds the writes and the proxy's faults.
        sessions: Sessions followed, each by one sync and one async follower.
        writers: Writers at once, half of them sync.
        messages: Messages each writer appends, to sessions chosen at random.
        rate: The chance that a request meets a fault.
        scale: The SDK's waits between attempts are slept this many times as long.
        timeout: The clients' `timeout`; a follow's requests may take `wait` seconds longer.
        wait: The followers' `wait`.
        catch_up: Seconds the followers are given, after the last write, to yield every message.
        sync_client: The followers' sync client class (a broken one, to show the audit sees it).
        async_client: The followers' async client class.
    """

    seed: int = 2026
    sessions: int = 2
    writers: int = 4
    messages: int = 60
    rate: float = 0.3
    scale: float = 0.01
    timeout: float = 1.0
    wait: int = 2
    catch_up: float = 60.0
    sync_client: type[ChatClient] = ChatClient
    async_client: type[AsyncChatClient] = AsyncChatClient


@dataclass
class Follower:
    """What one follower was given, in order, over all its follows."""

    name: str
    session: str
    got: list[str] = field(default_factory=list)
    follows: int = 0
    ended: Counter[str] = field(default_factory=Counter)


@dataclass
class FollowResult:
    """A run's figures, and what its audit found."""

    settings: FollowSettings
    appended: int
    held: int
    followers: list[Follower]
    counts: Counter[str]
    examples: list[str]
    faults: Counter[str]
    requests: int
    restart_seconds: float
    seconds: float

    @property
    def failures(self) -> int:
        return self.counts.total()

    def lines(self) -> list[str]:
        s = self.settings
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(self.faults.items()))
        resumed = sum(f.follows - 1 for f in self.followers)
        ended = Counter[str]()
        for follower in self.followers:
            ended.update(follower.ended)
        why = ", ".join(f"{name} {n}" for name, n in ended.most_common())
        return [
            f"follow: {s.sessions} sessions, {len(self.followers)} followers (half sync, half async),"
            f" {s.writers} writers, 1 dev server restart ({self.restart_seconds:.1f} s down), seed {s.seed},"
            f" {self.seconds:.0f} s",
            f"  messages appended      {self.appended} (the server holds {self.held})",
            f"  messages followed      {sum(len(f.got) for f in self.followers)}"
            f" ({', '.join(f'{f.name} {len(f.got)}' for f in self.followers)})",
            f"  requests to the proxy  {self.requests}",
            f"  faults injected        {self.faults.total()} ({faults})",
            f"  follows resumed        {resumed} by their callers, after the last message yielded ({why or 'none'})",
            *(f"  {name:<22} {self.counts[name]}" for name in FOLLOW_HEADLINE),
        ]


def run(settings: FollowSettings) -> FollowResult:
    """Run the writers and followers against a dev server behind the fault proxy; both stopped on return."""
    started = time.perf_counter()
    tokens = {TOKEN: USER}
    with tempfile.TemporaryDirectory(prefix="clann-soak-follow-") as folder, contextlib.ExitStack() as stack:
        db = Path(folder) / "follow.sqlite3"
        first = contextlib.ExitStack()
        server = first.enter_context(running(db, tokens))
        restarting = _Restart(db, tokens, server.port, first)
        stack.callback(restarting.close)  # after the proxy has stopped
        # Faults on every request, however many a tag has sent: a follow's polls all carry one tag.
        policy = SeededFaults(settings.seed, settings.rate, faulted_requests=1 << 30)
        proxy = stack.enter_context(FaultProxy(server.url, policy, drip_seconds=3 * settings.timeout))
        with ChatClient(server.url, token=TOKEN) as setup:
            sessions = [setup.create_session(f"followed {n}", USER).id for n in range(settings.sessions)]
        followers, told = asyncio.run(_drive(settings, proxy.url, sessions, restarting))
        counts, examples, held = _audit(db, sessions, followers, told)
        return FollowResult(
            settings,
            len(told),
            held,
            followers,
            counts,
            examples,
            proxy.injected,
            proxy.requests,
            restarting.down,
            time.perf_counter() - started,
        )


class _Restart:
    """Stops the dev server and starts it again, on the same file and port."""

    def __init__(self, db: Path, tokens: dict[str, str], port: int, first: contextlib.ExitStack) -> None:
        self._db, self._tokens, self._port = db, tokens, port
        self._first = first  # the first server, stopped by `restart`
        self._again = contextlib.ExitStack()
        self.down = 0.0

    def restart(self) -> None:
        stopping = time.perf_counter()
        self._first.close()
        self._again.enter_context(running(self._db, self._tokens, port=self._port))
        self.down = time.perf_counter() - stopping

    def close(self) -> None:
        self._first.close()
        self._again.close()


async def _drive(
    settings: FollowSettings, url: str, sessions: list[str], restarting: _Restart
) -> tuple[list[Follower], list[tuple[str, str]]]:
    loop = asyncio.get_running_loop()
    threads = settings.writers + settings.sessions + 2
    loop.set_default_executor(ThreadPoolExecutor(max_workers=threads, thread_name_prefix="soak-follow"))
    told: list[tuple[str, str]] = []  # (session, message ID) of every append that was answered
    with scaled_retries(settings.scale):
        followers: list[Follower] = []
        stops: list[Callable[[], None]] = []
        tasks: list[asyncio.Future[None]] = []
        for n, session in enumerate(sessions):
            sync, sync_stop = _sync_follower(settings, url, Follower(f"sync{n}", session))
            followers.append(sync.follower)
            stops.append(sync_stop)
            tasks.append(asyncio.ensure_future(asyncio.to_thread(sync.run)))
            follower = Follower(f"async{n}", session)
            followers.append(follower)
            tasks.append(asyncio.ensure_future(_async_follow(settings, url, follower)))
        half_way = asyncio.Event()

        def progress() -> None:
            if len(told) >= settings.writers * settings.messages // 2:
                half_way.set()

        writers = [_write(settings, url, sessions, n, told, progress, sync=n % 2 == 0) for n in range(settings.writers)]

        async def restart_half_way() -> None:
            await half_way.wait()
            await asyncio.to_thread(restarting.restart)

        await asyncio.gather(*writers, restart_half_way())
        expected = Counter(session for session, _ in told)
        for _ in range(int(settings.catch_up / 0.05)):
            if all(len(f.got) >= expected[f.session] for f in followers):
                break
            await asyncio.sleep(0.05)
        for stop in stops:
            stop()  # a sync follow blocked in a poll ends with ClannUsageError
        for task in tasks:
            task.cancel()  # an async follow's task; a sync one's thread ends by the stop above
        await asyncio.gather(*tasks, return_exceptions=True)
    return followers, told


@dataclass
class _SyncFollow:
    settings: FollowSettings
    url: str
    follower: Follower
    client: ChatClient

    def run(self) -> None:
        """Follow until the client is closed, resuming after the last message when a follow ends."""
        follower, wait = self.follower, self.settings.wait
        while True:
            follower.follows += 1
            tagged = self.client.with_options(headers={TAG_HEADER: f"{follower.name}/{follower.follows}"})
            last = follower.got[-1] if follower.got else None
            try:
                for message in tagged.follow_messages(follower.session, after=last, wait=wait):
                    follower.got.append(message.id)
            except ClannUsageError:
                return  # the client was closed: how the run stops a sync follower
            except ClannError as error:
                follower.ended[type(error).__name__] += 1
                time.sleep(0.01)


def _sync_follower(settings: FollowSettings, url: str, follower: Follower) -> tuple[_SyncFollow, Callable[[], None]]:
    client = settings.sync_client(url, token=TOKEN, timeout=settings.timeout)
    return _SyncFollow(settings, url, follower, client), client.close


async def _async_follow(settings: FollowSettings, url: str, follower: Follower) -> None:
    """Follow until cancelled, resuming after the last message when a follow ends."""
    async with settings.async_client(url, token=TOKEN, timeout=settings.timeout) as client:
        while True:
            follower.follows += 1
            tagged = client.with_options(headers={TAG_HEADER: f"{follower.name}/{follower.follows}"})
            last = follower.got[-1] if follower.got else None
            try:
                async for message in tagged.follow_messages(follower.session, after=last, wait=settings.wait):
                    follower.got.append(message.id)
            except ClannError as error:
                follower.ended[type(error).__name__] += 1
                await asyncio.sleep(0.01)


async def _write(
    settings: FollowSettings,
    url: str,
    sessions: list[str],
    n: int,
    told: list[tuple[str, str]],
    progress: Callable[[], None],
    *,
    sync: bool,
) -> None:
    """Append `settings.messages` messages, each called again with its key until it is answered."""
    rng = random.Random(f"{settings.seed}/writer{n}")
    if sync:
        sync_client = ChatClient(url, token=TOKEN, timeout=settings.timeout)
    else:
        async_client = AsyncChatClient(url, token=TOKEN, timeout=settings.timeout)
    try:
        for m in range(settings.messages):
            session = rng.choice(sessions)
            key = f"follow-{settings.seed}-w{n}-{m}"
            headers = {TAG_HEADER: f"writer{n}/{m}"}
            content = f"writer {n} message {m}"
            for _ in range(100):
                try:
                    if sync:
                        chat = sync_client.with_options(headers=headers)
                        message = await asyncio.to_thread(
                            chat.append_message, session, "user", content, idempotency_key=key
                        )
                    else:
                        message = await async_client.with_options(headers=headers).append_message(
                            session, "user", content, idempotency_key=key
                        )
                except ClannError as error:
                    key = error.idempotency_key or key
                    await asyncio.sleep(0.01)
                else:
                    told.append((session, message.id))
                    progress()
                    break
    finally:
        if sync:
            sync_client.close()
        else:
            await async_client.aclose()


def _audit(
    db: Path, sessions: list[str], followers: list[Follower], told: list[tuple[str, str]]
) -> tuple[Counter[str], list[str], int]:
    """What the server holds, against what each follower was given and each writer was told."""
    counts: Counter[str] = Counter({name: 0 for name in FOLLOW_HEADLINE})
    examples: list[str] = []

    def flag(kind: str, example: str, n: int = 1) -> None:
        counts[kind] += n
        if len(examples) < 10:
            examples.append(f"{kind}: {example}")

    held: dict[str, list[str]] = {}
    contents: Counter[str] = Counter()
    with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)) as store:
        # The order the contract lists them in: oldest first, ties broken on the ID.
        rows = store.execute("SELECT ulid, session, content FROM chat_message ORDER BY session, created_at, ulid")
        for ulid, session, content in rows:
            held.setdefault(f"chat_session:{session}", []).append(f"chat_message:{ulid}")
            contents[content] += 1
    for content, n in contents.items():
        if n > 1:
            flag("appends doubled", f"{content!r} is stored {n} times", n - 1)
    stored = {message for messages in held.values() for message in messages}
    for session, message in told:
        if message not in stored:
            flag("appends lost", f"{message} of {session} was answered, and is not stored")
    for follower in followers:
        expected = held.get(follower.session, [])
        got = follower.got
        repeats = Counter(got)
        for message, n in repeats.items():
            if n > 1:
                flag("doubled", f"{follower.name} was given {message} {n} times", n - 1)
        missing = [message for message in expected if message not in repeats]
        if missing:
            flag("missed", f"{follower.name} was never given {missing[:3]}", len(missing))
        strays = [message for message in repeats if message not in set(expected)]
        if strays:
            flag("phantom", f"{follower.name} was given {strays[:3]}, not of its session", len(strays))
        once = list(dict.fromkeys(got))
        in_order = [message for message in once if message in set(expected)]
        if in_order != [message for message in expected if message in repeats]:
            flag("out of order", f"{follower.name} was given its messages out of order")
    return counts, examples, sum(len(messages) for messages in held.values())
