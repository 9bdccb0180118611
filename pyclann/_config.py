"""A client's settings: read from arguments and the environment, checked once, secrets masked.

Everything a user can get wrong about a client is refused here, at construction
or in `with_options`, with a `ClannConfigError` that names it; nothing is left to
fail at the first call. The token (and any password) never sits in a plain
string that a repr, a log record, a pickle or a traceback's locals would show.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from typing import Final

import httpx2

from ._printable import quoted
from ._types import NotGiven
from ._version import __version__
from .errors import ClannConfigError

DEFAULT_TIMEOUT: Final = httpx2.Timeout(30.0, connect=5.0)
"""30 s for an attempt as a whole, 5 s of it at most to connect."""
DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_MAX_RESPONSE_SIZE: Final = 8 * 1024 * 1024
"""8 MiB: eight times the largest page the contract allows."""
MAX_RESPONSE_SIZE: Final = 2**31 - 2
"""The largest `max_response_size`: zlib cannot be asked for more output at once."""
MAX_SECONDS: Final = 365 * 24 * 3600.0
"""The longest timeout: a year; a socket cannot wait past about 9.2e9 s."""
MAX_BASE_URL: Final = 2000
"""The longest base URL: it leaves room for the longest path under httpx2's limit on a URL."""

# Compiled when a client is first made (re's cache keeps them), not with pyclann. All ASCII-only.
_VISIBLE = r"[!-~]+"
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_HEADER_VALUE = r"[\t -~]*"
# Headers that frame the message: set from the request itself, never by hand.
_FRAMING = frozenset({"content-length", "transfer-encoding", "host", "connection", "upgrade", "te", "trailer"})


class Secret:
    """A string that never shows: its repr is masked and it refuses to be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def is_well_formed(self) -> bool:
        # Checked here and reported by the caller, so that no frame that raises holds the value.
        return re.fullmatch(_VISIBLE, self._value, re.ASCII) is not None

    def __repr__(self) -> str:
        return "Secret('***')"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a pyclann Secret is never pickled")


class Settings:
    """What a client needs to make a call, besides its HTTP client; never changed once made (`evolve` makes another).

    A plain class: a dataclass would cost `import pyclann` most of a millisecond to write its methods.
    """

    __slots__ = (
        "attempt_timeout",
        "base_url",
        "bearer",
        "header_items",
        "headers",
        "max_response_size",
        "max_retries",
        "timeout",
        "total_timeout",
    )

    def __init__(
        self,
        *,
        base_url: str,
        timeout: httpx2.Timeout,
        attempt_timeout: float | None,
        total_timeout: float | None,
        max_retries: int,
        max_response_size: int,
        headers: httpx2.Headers,
        bearer: bool,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        # The bound on an attempt as a whole; the largest of `timeout`'s parts, or None for none.
        self.attempt_timeout = attempt_timeout
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.max_response_size = max_response_size
        # Sent with every request; httpx2.Headers masks Authorization in its repr.
        self.headers = headers
        # Whether pyclann sends the token: then `headers=` may not replace its Authorization.
        self.bearer = bearer
        # `headers` as (name, value) pairs, read once: each request sets them over its HTTP client's.
        self.header_items = tuple(headers.items())


def settings(
    base_url: Secret | None,
    token: Secret | None,
    *,
    timeout: float | httpx2.Timeout | NotGiven | None,
    max_retries: int,
    total_timeout: float | None,
    max_response_size: int,
    headers: Mapping[str, str] | None,
    http_client: httpx2.Client | httpx2.AsyncClient | None,
    http_type: type[httpx2.Client] | type[httpx2.AsyncClient],
) -> Settings:
    """Check every setting; `ClannConfigError` names the first that is wrong (`TypeError`, its type)."""
    if http_client is not None and not isinstance(http_client, http_type):
        raise TypeError(_wrong_http_client(http_client, http_type))
    if base_url is None and os.environ.get("CLANN_BASE_URL"):
        base_url = Secret(os.environ["CLANN_BASE_URL"])
    if base_url is None or base_url.reveal() == "":
        raise ClannConfigError("no base URL: pass base_url= or set CLANN_BASE_URL")
    if token is None:
        # Straight into a Secret: no local of this frame may hold the token, as a traceback shows locals.
        token = Secret(os.environ["CLANN_TOKEN"]) if os.environ.get("CLANN_TOKEN") else None
    elif not isinstance(token.reveal(), str):
        raise TypeError(f"token must be a str, got {type(token.reveal()).__name__}")
    elif not token.reveal():
        token = None  # token="" sends no token at all, and does not read $CLANN_TOKEN
    if token is not None and not token.is_well_formed():
        raise ClannConfigError("token must be visible ASCII characters, with no spaces (the token is not shown)")
    if isinstance(timeout, NotGiven):
        timeout = http_client.timeout if http_client is not None else DEFAULT_TIMEOUT
    agent = http_client.headers.get("user-agent") if http_client is not None else None
    sent = httpx2.Headers({"User-Agent": f"{agent} pyclann/{__version__}" if agent else f"pyclann/{__version__}"})
    sent["Accept"] = "application/json"
    # Bodies are decompressed by pyclann in bounded memory; it knows these two.
    sent["Accept-Encoding"] = "gzip, deflate"
    if token is not None:
        sent["Authorization"] = f"Bearer {token.reveal()}"
    _add(sent, _headers(headers), bearer=token is not None)
    checked = _timeout(timeout)
    return Settings(
        base_url=_base_url(base_url),
        timeout=checked,
        attempt_timeout=_largest(checked),
        total_timeout=_seconds("total_timeout", total_timeout, optional=True),
        max_retries=_count("max_retries", max_retries),
        max_response_size=_count("max_response_size", max_response_size, least=1, most=MAX_RESPONSE_SIZE),
        headers=sent,
        bearer=token is not None,
    )


def evolve(
    current: Settings,
    *,
    timeout: float | httpx2.Timeout | NotGiven | None,
    max_retries: int | NotGiven,
    total_timeout: float | NotGiven | None,
    max_response_size: int | NotGiven,
    headers: Mapping[str, str] | None,
) -> Settings:
    """`current` with the given settings changed, checked as at construction."""
    sent = httpx2.Headers(current.headers)
    _add(sent, _headers(headers), bearer=current.bearer)
    checked = current.timeout if isinstance(timeout, NotGiven) else _timeout(timeout)
    return Settings(
        base_url=current.base_url,
        timeout=checked,
        attempt_timeout=_largest(checked),
        total_timeout=current.total_timeout
        if isinstance(total_timeout, NotGiven)
        else _seconds("total_timeout", total_timeout, optional=True),
        max_retries=current.max_retries if isinstance(max_retries, NotGiven) else _count("max_retries", max_retries),
        max_response_size=current.max_response_size
        if isinstance(max_response_size, NotGiven)
        else _count("max_response_size", max_response_size, least=1, most=MAX_RESPONSE_SIZE),
        headers=sent,
        bearer=current.bearer,
    )


def _base_url(given: Secret) -> str:
    # A URL naming a user or password is refused before any local of this frame holds it: tracebacks
    # show locals. Past that check, the URL holds nothing secret.
    if not isinstance(given.reveal(), str):
        raise TypeError(f"base_url must be a str, got {type(given.reveal()).__name__}")
    if any(character.isspace() for character in given.reveal()):
        # httpx2 would quote it: a trailing space would become part of every path as %20.
        raise ClannConfigError("base_url must not contain white space")
    if _names_a_user(given) or "@" in given.reveal():
        # Never echoed: it may hold a password, whether or not it parses. The API takes a bearer token instead.
        raise ClannConfigError("base_url must not hold a user name or password; pass the API token as token=")
    if len(given.reveal()) > MAX_BASE_URL:
        raise ClannConfigError(f"base_url must be at most {MAX_BASE_URL} characters, got {len(given.reveal())}")
    try:
        url: httpx2.URL | None = httpx2.URL(given.reveal())
    except (httpx2.InvalidURL, ValueError, UnicodeError) as error:
        url, reason = None, str(error)
    if url is None:
        # Raised here, not in the except clause, so it has no context: httpx2's frames hold a URL built
        # in part, whose repr fails, and a traceback rendered with locals (pytest -l, rich, Sentry) would too.
        raise ClannConfigError(f"base_url is not a URL: {reason}")
    shown = _clip(given.reveal())
    if url.scheme not in ("http", "https") or not url.raw_host:
        raise ClannConfigError(f"base_url must be an http:// or https:// URL with a host, got {shown}")
    if url.query or url.fragment or "?" in given.reveal() or "#" in given.reveal():
        raise ClannConfigError(f"base_url must not have a query or a fragment, got {shown}")
    if url.port is not None and not 0 < url.port < 65536:
        raise ClannConfigError(f"base_url's port must be 1 to 65535, got {url.port}")
    if not _valid_host(url.raw_host.decode("ascii", "replace")):
        raise ClannConfigError(f"base_url's host is not a valid host name or IP address, got {shown}")
    # The URL as given (percent-escapes kept: %2F is not /), without its trailing slashes.
    return str(url).rstrip("/")


def _names_a_user(given: Secret) -> bool:
    """Whether the URL has a user name or password (when it does not parse: whether it has an "@")."""
    try:
        return bool(httpx2.URL(given.reveal()).userinfo)
    except (httpx2.InvalidURL, ValueError, UnicodeError):
        return "@" in given.reveal()


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253 or not all(re.fullmatch(_LABEL, label, re.ASCII) for label in name.split(".")):
        return False
    import idna  # here: only a client's construction needs it, and httpx2 has it imported by then

    # An A-label (xn--...) must decode: httpx2 encodes the host again for each request. Other
    # labels are checked above; an underscore (a Docker Compose service's name) is fine there.
    try:
        return all(idna.decode(label) for label in name.split(".") if label.lower().startswith("xn--"))
    except (idna.IDNAError, UnicodeError):
        return False


def _wrong_http_client(given: object, wanted: type[httpx2.Client] | type[httpx2.AsyncClient]) -> str:
    """What to pass instead of `given`, told without importing httpx (which pyclann does not depend on)."""
    kind = type(given)
    if any(cls.__module__.partition(".")[0] == "httpx" for cls in kind.__mro__):
        return (
            f"http_client must be an httpx2.{wanted.__name__}, got {kind.__module__}.{kind.__name__} (from httpx):"
            f" pyclann runs on httpx2, httpx's maintained continuation with the same API; make it with"
            f" httpx2.{wanted.__name__}(...) (import httpx2) instead"
        )
    other = "AsyncChatClient" if wanted is httpx2.Client else "ChatClient"
    return f"http_client must be an httpx2.{wanted.__name__} (its other kind goes with {other}), got {kind.__name__}"


def _timeout(value: float | httpx2.Timeout | None) -> httpx2.Timeout:
    if isinstance(value, httpx2.Timeout):
        for part in ("connect", "read", "write", "pool"):
            _seconds(f"timeout.{part}", getattr(value, part), optional=True)
        return value
    return httpx2.Timeout(_seconds("timeout", value, optional=True))


def _largest(timeout: httpx2.Timeout) -> float | None:
    parts = [timeout.connect, timeout.read, timeout.write, timeout.pool]
    return None if any(part is None for part in parts) else max(p for p in parts if p is not None)


def _seconds(name: str, value: object, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{name} must be a number of seconds{' or None' if optional else ''}, got {type(value).__name__}"
        )
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float: 10**400
        seconds = math.inf
    if not math.isfinite(seconds) or seconds <= 0:
        raise ClannConfigError(f"{name} must be a finite number of seconds above 0, got {_clip(str(value))}")
    if seconds > MAX_SECONDS:
        # A socket cannot wait that long (past ~9.2e9 s it overflows); None is the way to say "no limit".
        raise ClannConfigError(f"{name} must be at most {MAX_SECONDS:g} s (a year); pass None for no limit")
    return seconds


def _count(name: str, value: object, *, least: int = 0, most: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < least or (most is not None and value > most):
        bounds = f"{least} or more" if most is None else f"{least} to {most}"
        raise ClannConfigError(f"{name} must be {bounds}, got {_clip(str(value))}")
    return value


def _add(sent: httpx2.Headers, extra: dict[str, str], *, bearer: bool) -> None:
    """`extra` added to `sent`: a User-Agent of yours keeps pyclann's name after it; the token's header stays."""
    for name, value in extra.items():
        lowered = name.lower()
        if lowered == "authorization" and bearer:
            raise ClannConfigError("headers= may not set Authorization when token= is given (or $CLANN_TOKEN is set)")
        sent[name] = f"{value} pyclann/{__version__}" if lowered == "user-agent" else value


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping of str to str, got {type(headers).__name__}")
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("headers must be a mapping of str to str")
        if not re.fullmatch(_HEADER_NAME, name, re.ASCII):
            raise ClannConfigError(f"header name {_clip(name)} is not a valid HTTP header name")
        if name.lower() in _FRAMING:
            raise ClannConfigError(f"header {name!r} is set by httpx2 for each request; headers= may not set it")
        if not re.fullmatch(_HEADER_VALUE, value, re.ASCII):
            # The value is not echoed: it may be a credential.
            raise ClannConfigError(f"header {name!r} has a value with characters HTTP does not allow (not shown)")
    return dict(headers)


def _clip(text: str) -> str:
    return quoted(text, 80)
