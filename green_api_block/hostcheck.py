"""Which ``Host`` and ``Origin`` headers a local server answers: one rule for sandbox, preview, MCP.

A web page the user visits can make the browser send requests to ``127.0.0.1``. Two things keep
it out: a ``Host`` check (a DNS-rebinding page's requests carry its own name, never this
machine's) and an ``Origin`` check (browsers send ``Origin`` on every cross-site POST and on
``fetch``; a page's origin is never one of ours). Clients that are not browsers (``curl``, the
block) send no ``Origin`` and pass.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from .netaddr import is_loopback

__all__ = ["HostPolicy", "bearer_ok", "host_names", "same_secret"]

#: The names a loopback server is reached by, whatever address of 127.0.0.0/8 or ::1 it binds.
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_WILDCARDS = ("0.0.0.0", "::", "")


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def host_names(bind_host: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The host names (no port) a server bound to ``bind_host`` answers to, lowercased.

    Loopback and wildcard binds answer to the loopback names (a wildcard bind is reached from
    this machine that way); any bind answers to its own address. ``extra`` adds names the
    operator vouches for (``--allow-host``): a LAN address or a DNS name behind a wildcard bind.
    """
    names: list[str] = []
    if is_loopback(bind_host) or bind_host in _WILDCARDS:
        names.extend(_LOOPBACK_NAMES)
    if bind_host not in _WILDCARDS:
        names.append(_bracket(bind_host))
    names.extend(_bracket(h.strip()) for h in extra if h.strip())
    return tuple(dict.fromkeys(n.lower() for n in names))


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Allowed ``Host`` values (``name:port``) and ``Origin`` values (``http://name:port``).

    ``extra_origins`` are origins allowed as given (``--allow-origin``, e.g. a web client served
    from elsewhere that the operator trusts).
    """

    hosts: frozenset[str]
    origins: frozenset[str]

    @classmethod
    def for_bind(
        cls,
        bind_host: str,
        port: int,
        *,
        extra_hosts: Iterable[str] = (),
        extra_origins: Iterable[str] = (),
        scheme: str = "http",
    ) -> HostPolicy:
        names = host_names(bind_host, extra_hosts)
        # The port is part of the rule: another local server's page (another port) is foreign too.
        hosts = frozenset(f"{n}:{port}" for n in names)
        origins = frozenset(f"{scheme}://{h}" for h in hosts) | {
            o.strip().lower().rstrip("/") for o in extra_origins
        }
        return cls(hosts=hosts, origins=origins)

    def host_ok(self, host: str | None) -> bool:
        return host is not None and host.lower() in self.hosts

    def origin_ok(self, origin: str | None) -> bool:
        # No Origin: not a browser's cross-site request (curl, the block, same-origin GETs).
        # "null" (sandboxed iframes, file:// pages) is an opaque, foreign origin.
        return origin is None or origin.lower().rstrip("/") in self.origins


def same_secret(given: str | None, token: str) -> bool:
    """Whether ``given`` is ``token``, compared in constant time (no timing hint to a prober)."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def bearer_ok(authorization: str | None, token: str) -> bool:
    """Whether ``Authorization`` carries ``Bearer <token>``; compared in constant time."""
    if authorization is None:
        return False
    scheme, _, value = authorization.strip().partition(" ")
    return scheme.lower() == "bearer" and same_secret(value.strip(), token)
