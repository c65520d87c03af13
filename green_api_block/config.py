"""Configuration values and their defaults, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigError
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
    "normalize_base_url",
    "suggest_pool_hosts",
]

DEFAULT_API_URL = "https://api.green-api.com"
DEFAULT_MEDIA_URL = "https://media.green-api.com"
ENV_API_URL = "GREEN_API_URL"
ENV_MEDIA_URL = "GREEN_API_MEDIA_URL"
ENV_ID_INSTANCE = "GREEN_API_ID_INSTANCE"
ENV_TOKEN_INSTANCE = "GREEN_API_TOKEN_INSTANCE"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. ``read`` is per socket read; a long poll adds ``long_poll_margin`` to its wait."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 10.0
    long_poll_margin: float = 15.0


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
