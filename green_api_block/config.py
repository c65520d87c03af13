"""Configuration values and their defaults, in one place."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal
from urllib.parse import urlsplit

import httpx

from .errors import ConfigError
from .limits import METHOD_RATE_LIMITS
from .netaddr import is_loopback

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_MEDIA_URL",
    "ENV_API_URL",
    "ENV_ID_INSTANCE",
    "ENV_MEDIA_URL",
    "ENV_TOKEN_INSTANCE",
    "Hosts",
    "RetryPolicy",
    "Timeouts",
    "check_async_transport",
    "check_rate_limits",
    "check_retry",
    "check_transport",
    "coerce_timeouts",
    "normalize_base_url",
    "suggest_pool_hosts",
]

DEFAULT_API_URL = "https://api.green-api.com"
DEFAULT_MEDIA_URL = "https://media.green-api.com"
ENV_API_URL = "GREEN_API_URL"
ENV_MEDIA_URL = "GREEN_API_MEDIA_URL"
ENV_ID_INSTANCE = "GREEN_API_ID_INSTANCE"
ENV_TOKEN_INSTANCE = "GREEN_API_TOKEN_INSTANCE"

AsyncTransportName = Literal["aiohttp", "httpcore"]


def _type_name(value: object) -> str:
    # Only the type goes into a message: the value could be a token passed in the wrong place.
    return type(value).__name__


def _seconds(value: object, what: str, *, zero_ok: bool = False) -> float:
    """A finite number of seconds, > 0 (or >= 0 with ``zero_ok``); bools are not numbers here."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {_type_name(value)}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        sign = "non-negative" if zero_ok else "positive"
        raise ConfigError(f"{what} must be a {sign}, finite number of seconds")
    return float(value)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``read`` is per socket read; a long poll adds ``long_poll_margin`` to its wait.

    Every limit is a positive, finite number: there is no "no limit" (a silent server would hold
    the worker forever), and a wrong value fails here, not at the first call.
    """

    connect: float = 10.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 10.0
    long_poll_margin: float = 15.0

    def __post_init__(self) -> None:
        for f in fields(self):
            _seconds(getattr(self, f.name), f"Timeouts.{f.name}", zero_ok=f.name == "long_poll_margin")


def coerce_timeouts(value: object, what: str = "timeouts") -> Timeouts:
    """``timeout=``/``timeouts=`` as the block takes it: None (the defaults), a number of seconds
    for every limit (as httpx's ``timeout=5.0``), an ``httpx.Timeout`` or a :class:`Timeouts`.

    The one conversion: a number or an ``httpx.Timeout`` keeps the default ``long_poll_margin``,
    so that a long poll still gets its wait plus the margin to answer in.
    """
    if value is None:
        return Timeouts()
    if isinstance(value, Timeouts):
        return value
    if isinstance(value, httpx.Timeout):
        limits = {"connect": value.connect, "read": value.read, "write": value.write, "pool": value.pool}
        for name, seconds in limits.items():
            if seconds is None:
                raise ConfigError(
                    f"{what}: an httpx.Timeout without a {name} limit (None) is not supported: "
                    "every call needs one, or a silent server holds the worker forever"
                )
        try:
            return Timeouts(**limits)  # type: ignore[arg-type]  # None was ruled out just above
        except ConfigError as exc:
            raise ConfigError(f"{what}: {exc}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = _seconds(value, what)
        return Timeouts(connect=seconds, read=seconds, write=seconds, pool=seconds)
    raise TypeError(
        f"{what} must be a number of seconds, an httpx.Timeout or a Timeouts, not {_type_name(value)}"
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed calls are retried (``retry.py`` applies it).

    ``retry_statuses`` is the one list of error statuses the block retries: 429 included, so a
    policy without 429 hands every 429 straight back to the caller. A listed status is still not
    retried when the answer says a retry cannot help (``retryable`` false on the error, e.g. an
    upload over the size limit). Sends are never retried once the request may have reached the
    server, whatever these say: after an error status only if it is one Green API answers before
    processing (429).
    """

    max_retries: int = 3
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.25
    # A Retry-After above this is not waited out: the error goes back to the caller with
    # ``retry_after`` set, so a workflow engine can schedule it instead of blocking a worker.
    retry_after_max: float = 30.0
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 499, 500, 502, 503, 504}))

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(f"RetryPolicy.max_retries must be an int, not {_type_name(self.max_retries)}")
        if self.max_retries < 0:
            raise ConfigError("RetryPolicy.max_retries must not be negative")
        for name in ("backoff_initial", "backoff_max", "retry_after_max"):
            _seconds(getattr(self, name), f"RetryPolicy.{name}", zero_ok=True)
        jitter = self.jitter
        if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not 0 <= jitter <= 1:
            raise ConfigError("RetryPolicy.jitter must be a number from 0 to 1")
        statuses = self.retry_statuses
        if not isinstance(statuses, (set, frozenset)) or not all(
            isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in statuses
        ):
            raise ConfigError("RetryPolicy.retry_statuses must be a set of HTTP status codes (ints)")
        # A plain set is taken too, and frozen, so that the policy stays immutable.
        object.__setattr__(self, "retry_statuses", frozenset(statuses))


def check_retry(value: object) -> RetryPolicy:
    """``retry=`` as the block takes it: None (the defaults) or a :class:`RetryPolicy`."""
    if value is None:
        return RetryPolicy()
    if isinstance(value, RetryPolicy):
        return value
    raise TypeError(f"retry must be a RetryPolicy (e.g. RetryPolicy(max_retries=3)), not {_type_name(value)}")


def check_rate_limits(value: object) -> dict[str, float] | bool:
    """``rate_limits=``: True (Green API's table), False (off) or ``{method: requests per second}``.

    A mapping replaces the table. A rate must be positive and finite: the limiter reads 0, a
    negative or an infinite rate as "no spacing", so such a value would switch it off unseen; and
    a method name it never meets (a typo) would leave the real one unlimited.
    """
    if isinstance(value, bool):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(
            "rate_limits must be True, False or a mapping of method to requests per second, "
            f"not {_type_name(value)}"
        )
    rates: dict[str, float] = {}
    for method, rate in value.items():
        if not isinstance(method, str) or method not in METHOD_RATE_LIMITS:
            shown = repr(method)[:60] if isinstance(method, str) else _type_name(method)
            raise ConfigError(
                f"rate_limits: {shown} is not a Green API method the limiter knows "
                f"(one of: {', '.join(sorted(METHOD_RATE_LIMITS))})"
            )
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise TypeError(
                f"rate_limits[{method!r}] must be a number of requests per second, not {_type_name(rate)}"
            )
        if not math.isfinite(rate) or rate <= 0:
            raise ConfigError(
                f"rate_limits[{method!r}] must be a positive, finite number of requests per second "
                "(leave the method out, or pass rate_limits=False, to not space its calls)"
            )
        rates[method] = float(rate)
    return rates


def check_transport(value: object) -> httpx.BaseTransport | None:
    """``transport=``: the sync calls' httpx transport, or None for the block's own pool."""
    if value is None or isinstance(value, httpx.BaseTransport):
        return value
    if isinstance(value, httpx.AsyncBaseTransport):
        raise TypeError(
            "transport is an async transport: pass it as async_transport= (transport= is for sync calls)"
        )
    raise TypeError(f"transport must be an httpx.BaseTransport, not {_type_name(value)}")


def check_async_transport(value: object) -> httpx.AsyncBaseTransport | AsyncTransportName:
    """``async_transport=``: "aiohttp", "httpcore" or an ``httpx.AsyncBaseTransport``."""
    if value == "aiohttp" or value == "httpcore":
        return "aiohttp" if value == "aiohttp" else "httpcore"
    if isinstance(value, httpx.AsyncBaseTransport):
        return value
    if isinstance(value, httpx.BaseTransport):
        raise TypeError(
            "async_transport is a sync transport (httpx.BaseTransport): pass an httpx.AsyncBaseTransport "
            "such as httpx.AsyncHTTPTransport(), or give the sync one as transport="
        )
    choices = "async_transport must be 'aiohttp', 'httpcore' or an httpx.AsyncBaseTransport"
    if isinstance(value, str):
        raise ConfigError(f"{choices}, not {value[:40]!r}")
    raise TypeError(f"{choices}, not {_type_name(value)}")


def normalize_base_url(url: str, *, what: str = "api_url") -> str:
    """Validate a Green API base URL and strip trailing slashes.

    Plain http is allowed only for loopback hosts (the sandbox): the token travels in the path.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise ConfigError(f"{what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an http(s) URL such as {DEFAULT_API_URL}")
    if parts.username or parts.password:
        raise ConfigError(f"{what} must not carry a user name or password")
    if parts.query or parts.fragment:
        raise ConfigError(f"{what} must not carry a query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{what} uses plain http:// for a non-loopback host; the API token travels in the URL path, "
            "so only https:// is allowed (http:// is accepted for 127.0.0.1/localhost, e.g. the sandbox)"
        )
    return url.strip().rstrip("/")


def suggest_pool_hosts(id_instance: str) -> tuple[str, str]:
    """The per-pool hosts commonly derived from the first 4 digits of the instance id.

    Unverified (REFERENCE.md §1, "not a 1:1 rule"): only a suggestion to print for a user; the
    block never switches hosts on its own. The console shows the real apiUrl/mediaUrl.
    """
    code = id_instance[:4]
    if code.startswith("7"):
        return f"https://{code}.api.greenapi.com", f"https://{code}.media.greenapi.com"
    return DEFAULT_API_URL, DEFAULT_MEDIA_URL


@dataclass(frozen=True, slots=True)
class Hosts:
    api_url: str
    media_url: str

    @classmethod
    def resolve(cls, api_url: str | None, media_url: str | None) -> Hosts:
        """Explicit arguments win, then the environment, then Green API's default hosts."""
        api = api_url or os.environ.get(ENV_API_URL) or DEFAULT_API_URL
        # A custom api host without a media host (the sandbox, a proxy) serves media too.
        media = (
            media_url
            or os.environ.get(ENV_MEDIA_URL)
            or (api if api != DEFAULT_API_URL else DEFAULT_MEDIA_URL)
        )
        return cls(normalize_base_url(api, what="api_url"), normalize_base_url(media, what="media_url"))
