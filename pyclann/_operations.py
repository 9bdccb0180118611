"""Each API operation as a typed request and the reader of its answer; the one door to generated/.

The paths, parameters, headers and body shapes come from openapi.yaml, through
the generated package's public request builders (`request_kwargs`) and models.
Its parsers are not used: the answers are decoded by `pyclann._parse`, once,
straight into pyclann's records. Arguments are checked here, so that a value
that cannot be sent fails before any request, naming itself.

generated/ is imported when the first operation is made, not with pyclann: it is
a third of what `import pyclann` costs beyond httpx2 (attrs classes, ten models),
and a program that makes no call never needs it. It is imported once, into this
module's globals (`_load_generated`), not by an import statement in each
operation: that statement costs a call a microsecond or two, every time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

import msgspec

from . import _parse
from ._printable import quoted
from ._types import NotGiven
from .errors import ClannError, ClannInvalidArgumentError
from .models import ChatMessage, ChatSession, MessageRole
from .pages import MessagePage, SessionPage

# As pyclann.ids names them: that module (an attrs class) is imported only for an ID that needs normalising.
SESSION_TABLE = "chat_session"
MESSAGE_TABLE = "chat_message"

if TYPE_CHECKING:  # at run time, _load_generated() binds these names, when the first operation is made
    from ._generated.api.chat import append_message as _append_message
    from ._generated.api.chat import create_session as _create_session
    from ._generated.api.chat import delete_session as _delete_session
    from ._generated.api.chat import get_message as _get_message
    from ._generated.api.chat import get_session as _get_session
    from ._generated.api.chat import list_messages as _list_messages
    from ._generated.api.chat import list_sessions as _list_sessions
    from ._generated.api.chat import update_session as _update_session
    from ._generated.models import AppendMessageRequest, CreateSessionRequest, UpdateSessionRequest
    from ._generated.types import UNSET, Unset

T = TypeVar("T")
P = TypeVar("P", SessionPage, MessagePage)
Pages: TypeAlias = Callable[[str | None, int | None], "Operation[P]"]
"""A listing: a function from what resumes it (None: its start), and the most records still wanted (None:
as many as a page holds), to the request of that page, which asks for no more than are wanted."""

MAX_PAGE_SIZE = 100
"""The contract's largest page; the walks ask for it, to send the fewest requests."""
_KEY = r"[!-~]{1,255}"  # a caller's idempotency key; compiled when first used (by re's cache)
_loaded = False


def _load_generated() -> None:
    """Bind generated/'s request builders and body models to the names above, once."""
    global _loaded
    from ._generated import models, types
    from ._generated.api.chat import (
        append_message,
        create_session,
        delete_session,
        get_message,
        get_session,
        list_messages,
        list_sessions,
        update_session,
    )

    globals().update(
        _append_message=append_message,
        _create_session=create_session,
        _delete_session=delete_session,
        _get_message=get_message,
        _get_session=get_session,
        _list_messages=list_messages,
        _list_sessions=list_sessions,
        _update_session=update_session,
        AppendMessageRequest=models.AppendMessageRequest,
        CreateSessionRequest=models.CreateSessionRequest,
        UpdateSessionRequest=models.UpdateSessionRequest,
        UNSET=types.UNSET,
    )
    _loaded = True


class Operation(Generic[T]):
    """One request to send, and how to read the answer that means it worked (a plain class: one per call).

    Not a typed named tuple: generic, one costs `import pyclann` a third of a millisecond, and is slower to make.

    Attributes:
        name: The method's name, for log lines and errors.
        method: The HTTP method.
        path: The path below the base URL.
        params: The query parameters, if any.
        body: The JSON body, encoded, if any.
        headers: The operation's own headers (`Content-Type`, `Idempotency-Key`).
        success: The status that means it worked.
        read: Turns the body of a success into the result; raises ValueError or RecursionError
            when it is not JSON, `_parse.FieldError` when it breaks the contract.
        idempotency_key: The key every attempt sends, on writes; None on reads.
        callers_key: Whether the caller gave that key: an earlier call with it, from anywhere, may
            have been carried out, and only the server's answer to the key can tell.
    """

    __slots__ = (
        "body",
        "callers_key",
        "headers",
        "idempotency_key",
        "method",
        "name",
        "params",
        "path",
        "read",
        "success",
    )

    def __init__(
        self,
        name: str,
        method: str,
        path: str,
        params: dict[str, str | int] | None,
        body: bytes | None,
        headers: dict[str, str],
        success: int,
        read: Callable[[bytes], T],
        idempotency_key: str | None = None,
        callers_key: bool = False,
    ) -> None:
        self.name = name
        self.method = method
        self.path = path
        self.params = params
        self.body = body
        self.headers = headers
        self.success = success
        self.read = read
        self.idempotency_key = idempotency_key
        self.callers_key = callers_key


def list_sessions(
    created_by: str, tree: str | None, page_size: int | None, cursor: str | None = None, name: str = "list_sessions"
) -> Pages[SessionPage]:
    """The pages of a user's sessions from `cursor` (None: the first): a function from a cursor to its request."""
    with _refused():
        user = _owner(created_by)
        scope = _optional_text("tree", tree)
        limit = _page_size(page_size)
        start = _cursor(cursor)
    walk = _parse.SessionWalk(user, scope)

    def read(body: bytes) -> SessionPage:
        items, following = walk.page(body)
        return SessionPage(tuple(items), following is not None, following)

    def page(cursor: str | None, most: int | None) -> Operation[SessionPage]:
        if not _loaded:
            _load_generated()

        at, size = _unset(cursor or start), limit if most is None else min(limit, most)
        kwargs = _list_sessions.request_kwargs(created_by=user, tree=_unset(scope), limit=size, cursor=at)
        return _operation(name, kwargs, 200, read)

    return page


def following(page: SessionPage | MessagePage) -> str | None:
    """What resumes a listing after `page`, for `Pages`; None after its last page."""
    if isinstance(page, SessionPage):
        return page.next_cursor
    return page.next_after if page.has_more else None


def create_session(title: str, created_by: str, tree: str | None, key: str | None) -> Operation[ChatSession]:
    if not _loaded:
        _load_generated()
    with _refused(key):
        body = CreateSessionRequest(
            title=_text("title", title),
            created_by=_owner(created_by),
            tree=_unset(_optional_text("tree", tree)),
        )
        kwargs = _create_session.request_kwargs(body=body, idempotency_key=_key(key))
    asked = {"title": body.title, "created_by": body.created_by, "tree": _given(body.tree)}
    return _operation("create_session", kwargs, 201, _parse.NewSession(asked).read, key)


def get_session(session_id: str | ChatSession) -> Operation[ChatSession]:
    if not _loaded:
        _load_generated()
    with _refused():
        ulid = session_ulid(session_id)
        kwargs = _get_session.request_kwargs(ulid)
    return _operation("get_session", kwargs, 200, _parse.TheSession(ulid).read)


def update_session(
    session_id: str | ChatSession, title: str | NotGiven, tree: str | NotGiven | None, key: str | None
) -> Operation[ChatSession]:
    if not _loaded:
        _load_generated()
    with _refused(key):
        ulid = session_ulid(session_id)
        if isinstance(title, NotGiven) and isinstance(tree, NotGiven):
            raise ClannInvalidArgumentError("update_session needs title=, tree= or both")
        body = UpdateSessionRequest(
            title=UNSET if isinstance(title, NotGiven) else _text("title", title),
            tree=UNSET if isinstance(tree, NotGiven) else _optional_text("tree", tree),
        )
        kwargs = _update_session.request_kwargs(ulid, body=body, idempotency_key=_key(key))
    # What the update asked for, the session must hold now: a tree not given is left as it was.
    asked = {name: _given(value) for name, value in (("title", body.title), ("tree", body.tree)) if value is not UNSET}
    return _operation("update_session", kwargs, 200, _parse.TheSession(ulid, asked).read, key)


def delete_session(session_id: str | ChatSession, key: str | None) -> Operation[None]:
    if not _loaded:
        _load_generated()
    with _refused(key):
        kwargs = _delete_session.request_kwargs(session_ulid(session_id), idempotency_key=_key(key))
    return _operation("delete_session", kwargs, 204, _parse.nothing, key)


def list_messages(
    session_id: str | ChatSession, after: str | ChatMessage | None, page_size: int | None, name: str = "list_messages"
) -> Pages[MessagePage]:
    """The pages of a session's messages after `after`: a function from a cursor (None: the first) to its request."""
    with _refused():
        ulid = session_ulid(session_id)
        start = None if after is None else message_ulid(after, "after")
        limit = _page_size(page_size)
    walk = _parse.MessageWalk(ulid, start)

    def page(cursor: str | None, most: int | None) -> Operation[MessagePage]:
        if not _loaded:
            _load_generated()

        # The cursor is the last message's full ID, checked by _parse; the bare ULID is shorter.
        after = cursor.removeprefix(f"{MESSAGE_TABLE}:") if cursor else start
        asked = None if after is None else f"{MESSAGE_TABLE}:{after}"

        def read(body: bytes) -> MessagePage:
            items, more = walk.read(body)
            return MessagePage(tuple(items), more is not None, asked)

        # No `wait`: the generated builder would send its default, 0, on every listing; a plain
        # listing's request stays as it was (and as the cassettes hold it).
        size = limit if most is None else min(limit, most)
        kwargs = _list_messages.request_kwargs(ulid, limit=size, after=_unset(after), wait=UNSET)
        return _operation(name, kwargs, 200, read)

    return page


FOLLOW_MEMORY = 10_000
"""How many of the latest message IDs a follow remembers, to refuse a server's repeat (about 1.5 MB at most)."""

MAX_WAIT = 30
"""The longest a server holds a messages listing waiting for a new message, in seconds (the contract's `wait`)."""


Polls: TypeAlias = Callable[[str | None], Operation[MessagePage]]
"""A follow's long polls: from the last message read (None: none yet) to the request for what comes after it."""


def follow_messages(
    session_id: str | ChatSession, after: str | ChatMessage | None, page_size: int | None, wait: int
) -> Polls:
    """The long polls of a follow: a function from the last message read (None: none yet) to its request.

    One walk reads every answer, so a server that repeats a message cannot make the follow yield it twice.
    """
    with _refused():
        ulid = session_ulid(session_id)
        start = None if after is None else message_ulid(after, "after")
        limit = _page_size(page_size)
        held = _wait(wait)
    walk = _parse.MessageWalk(ulid, start, remember=FOLLOW_MEMORY)

    def poll(last: str | None) -> Operation[MessagePage]:
        if not _loaded:
            _load_generated()

        after = last.removeprefix(f"{MESSAGE_TABLE}:") if last else start
        asked = None if after is None else f"{MESSAGE_TABLE}:{after}"

        def read(body: bytes) -> MessagePage:
            items, more = walk.read(body)
            return MessagePage(tuple(items), more is not None, asked)

        kwargs = _list_messages.request_kwargs(ulid, limit=limit, after=_unset(after), wait=held)
        return _operation("follow_messages", kwargs, 200, read)

    return poll


def append_message(
    session_id: str | ChatSession, role: MessageRole, content: str, key: str | None
) -> Operation[ChatMessage]:
    if not _loaded:
        _load_generated()
    with _refused(key):
        ulid = session_ulid(session_id)
        # The role is an open string in the contract: a server may know roles this client does not (CustomRole).
        body = AppendMessageRequest(role=_text("role", role), content=_text("content", content))
        kwargs = _append_message.request_kwargs(ulid, body=body, idempotency_key=_key(key))
    sent: dict[str, str | None] = {"role": body.role, "content": body.content}
    return _operation("append_message", kwargs, 201, _parse.TheMessage(ulid, None, sent).read, key)


def get_message(session_id: str | ChatSession, message_id: str | ChatMessage) -> Operation[ChatMessage]:
    if not _loaded:
        _load_generated()
    with _refused():
        ulid, message = session_ulid(session_id), message_ulid(message_id, "message_id")
        kwargs = _get_message.request_kwargs(ulid, message)
    return _operation("get_message", kwargs, 200, _parse.TheMessage(ulid, message).read)


class _refused:  # lower case: used as `with _refused(key):`, as a function would be
    """A call refused before any request: its error says nothing was sent, and carries a write's key.

    A class, not a generator: it is entered on every call, and a @contextmanager costs several times more.
    """

    __slots__ = ("_key",)

    def __init__(self, key: str | None = None) -> None:
        self._key = key

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if isinstance(error, ClannError):
            key = self._key
            error.idempotency_key = key
            # Nothing was sent now; but an earlier call with a key of the caller's may have been carried out,
            # and nothing here can rule that out (a key the server would refuse was never carried out).
            error.may_have_landed = isinstance(key, str) and re.fullmatch(_KEY, key, re.ASCII) is not None
            said = f"{error}; nothing was sent"
            if error.may_have_landed:
                said += (
                    f", but an earlier call with idempotency_key={key!r} may have been carried out, which this"
                    " error cannot rule out"
                )
            error.args = (said,)


def session_ulid(session_id: str | ChatSession) -> str:
    """The bare ULID of a session, from any accepted form; raises before any I/O."""
    return _ulid(session_id, ChatSession, SESSION_TABLE, _parse.is_session_id, "session_id")


def message_ulid(message_id: str | ChatMessage, name: str) -> str:
    """The bare ULID of a message, from any accepted form; errors name the argument, `name`."""
    try:
        return _ulid(message_id, ChatMessage, MESSAGE_TABLE, _parse.is_message_id, name)
    except ClannInvalidArgumentError as error:
        raise type(error)(f"{name}: {error}") from None


def _ulid(
    value: str | ChatSession | ChatMessage,
    record: type[ChatSession | ChatMessage],
    table: str,
    is_full_id: Callable[[str], bool],
    name: str,
) -> str:
    if isinstance(value, record):
        value = value.id
    if type(value) is str and is_full_id(value):  # as records carry it: nothing to normalise
        return value[len(table) + 1 :]
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str or a {record.__name__}, got {type(value).__name__}")
    from .ids import RecordId

    return RecordId.parse(value, table).ulid


def _operation(
    name: str, kwargs: dict[str, Any], success: int, read: Callable[[bytes], T], key: str | None = None
) -> Operation[T]:
    headers: dict[str, str] = kwargs.get("headers", {})
    body = kwargs.get("json")
    # Made by position: made by keyword, it costs twice as much, on every call.
    return Operation(
        name,
        kwargs["method"].upper(),
        kwargs["url"],
        kwargs.get("params") or None,
        # Encoded here, not by httpx2: the arguments were checked to be encodable, so this cannot fail. msgspec
        # writes the bytes json.dumps(ensure_ascii=False, separators=(",", ":")) would, every code point alike.
        None if body is None else msgspec.json.encode(body),
        headers,
        success,
        read,
        headers.get("Idempotency-Key"),
        key is not None,
    )


def _key(key: str | None) -> str:
    """The caller's idempotency key, checked, or a new one: made once per call, sent by every attempt."""
    if key is None:
        return _new_key()
    if not isinstance(key, str):
        raise TypeError(f"idempotency_key must be a str or None, got {type(key).__name__}")
    if not re.fullmatch(_KEY, key, re.ASCII):
        raise ClannInvalidArgumentError(
            f"idempotency_key must be 1 to 255 visible ASCII characters, got {_parse_echo(key)}"
        )
    return key


def _new_key() -> str:
    """A random UUID, version 4, as `str(uuid.uuid4())` writes it: the same bits, set the same way.

    Without the UUID object, whose checks and formatting in Python cost more than the random
    bytes do (about 4 us a key against 2.5 us, measured on 3.11).
    """
    value = int.from_bytes(os.urandom(16))
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # the variant: RFC 4122
    value = (value & ~(0xF000 << 64)) | (4 << 76)  # the version: 4, random
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _cursor(cursor: str | None) -> str | None:
    """A page's `next_cursor`, as the caller kept it, checked to be one."""
    if cursor is None:
        return None
    if not isinstance(cursor, str):
        raise TypeError(f"cursor must be a str or None, got {type(cursor).__name__}")
    if not _parse.is_cursor(cursor):
        raise ClannInvalidArgumentError(
            f"cursor must be a page's next_cursor, 1 to 200 of A-Z, a-z, 0-9, '_' and '-', got {_parse_echo(cursor)}"
        )
    return cursor


def _page_size(size: int | None) -> int:
    if size is None:
        return MAX_PAGE_SIZE
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"page_size must be an int or None, got {type(size).__name__}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ClannInvalidArgumentError(f"page_size must be 1 to {MAX_PAGE_SIZE}, got {size}")
    return size


def max_items(most: int | None) -> int | None:
    """A walk's `max_items`, checked: None (every record) or 0 or more; raises before any request."""
    with _refused():
        if most is None:
            return None
        if isinstance(most, bool) or not isinstance(most, int):
            raise TypeError(f"max_items must be an int or None, got {type(most).__name__}")
        if most < 0:
            raise ClannInvalidArgumentError(f"max_items must be 0 or more, got {most}")
        return most


def _text(name: str, value: object) -> str:
    """`value`, checked to be a str UTF-8 can carry, as a plain str.

    A str subclass (an enum's member, say) is sent as the string it holds, the one
    checked here: str() of it might say something else (`User.ALICE`).
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if type(value) is not str:
        value = str.__str__(value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ClannInvalidArgumentError(
                f"{name} holds a lone surrogate ({value[error.start]!r} at index {error.start}), which UTF-8 cannot"
                " carry"
            ) from None
    return value


def _owner(value: object) -> str:
    """`created_by`, checked: a user's name is never empty (the server would list, or refuse, no one)."""
    user = _text("created_by", value)
    if not user:
        raise ClannInvalidArgumentError("created_by must be a user's name, got an empty string")
    return user


def _optional_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, got {type(value).__name__}")
    return _text(name, value)


def _given(value: object) -> str | None:
    """A field of a request body as the record holds it: a string, or None for null or absent."""
    return value if isinstance(value, str) else None


def _unset(value: T | None) -> T | Unset:
    return UNSET if value is None else value


def _parse_echo(value: str) -> str:
    return quoted(value, 60)


def _wait(wait: int) -> int:
    # 0 would make a follow a busy loop: an idle follow sends one request per wait.
    if isinstance(wait, bool) or not isinstance(wait, int):
        raise TypeError(f"wait must be an int, got {type(wait).__name__}")
    if not 1 <= wait <= MAX_WAIT:
        raise ClannInvalidArgumentError(f"wait must be 1 to {MAX_WAIT} seconds, got {wait}")
    return wait
