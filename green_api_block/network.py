"""Which proxy each Green API host is reached through, and which CAs its TLS trusts.

The block's wires drive ``httpx.HTTPTransport`` and aiohttp directly (see ``transport.py``), so
the proxy selection ``httpx.Client`` does on every request never runs for them, and aiohttp's own
``trust_env`` reads neither ``ALL_PROXY`` nor SOCKS proxies. It is done here instead, once per
block: a block talks to two fixed hosts (``api_url`` and ``media_url``), so each gets its proxy
(or none) at construction, chosen the way ``httpx.Client`` chooses it:

1. ``proxy=`` given to the block: every host goes through it (``NO_PROXY`` does not apply,
   as with ``httpx.Client(proxy=...)``);
2. else the environment: ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` and ``NO_PROXY``, upper or
   lower case (lower case wins, as in ``urllib``), with httpx's own parsing and matching, so the
   block goes wherever ``httpx.get`` would;
3. else a direct connection.

A transport the caller passes (``transport=``/``async_transport=`` an object) is the caller's:
the environment is not applied to it, as httpx skips it for a client given a transport.

Proxy URLs may carry a user name and password: only :func:`mask_proxy_url` forms of them appear
in messages and ``repr``.
"""

from __future__ import annotations

import importlib.util
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from .errors import ConfigError
from .redact import MASK, register_secret

__all__ = ["HostName", "NetworkConfig", "coerce_verify", "mask_proxy_url", "resolve_network"]

HostName = Literal["api", "media"]
VerifyTypes = str | os.PathLike[str] | ssl.SSLContext | None

_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_SOCKS = ("socks5", "socks5h")


def mask_proxy_url(url: str) -> str:
    """The proxy URL with its password (and user name) masked, for messages and ``repr``."""
    try:
        parts = urlsplit(url)
        hostinfo = parts.netloc.rpartition("@")[2]
    except ValueError:
        return MASK
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=f"{MASK}@{hostinfo}").geturl()


@dataclass(frozen=True, slots=True)
class ProxyURL:
    """A validated proxy URL: ``url`` (credentials included) goes to the network library only."""

    url: str = field(repr=False)
    scheme: str

    @property
    def display(self) -> str:
        return mask_proxy_url(self.url)

    def __repr__(self) -> str:
        return f"ProxyURL({self.display!r})"


def _parse_proxy(url: str, source: str) -> ProxyURL:
    try:
        parts = urlsplit(url.strip())
        hostname, _ = parts.hostname, parts.port  # .port raises on a bad port
    except ValueError:
        raise ConfigError(f"{source}: not a valid proxy URL ({mask_proxy_url(url)})") from None
    if parts.scheme.lower() not in _PROXY_SCHEMES or not hostname:
        raise ConfigError(
            f"{source}: a proxy URL must be http://, https://, socks5:// or socks5h:// with a host "
            f"(got {mask_proxy_url(url)})"
        )
    # Error texts from the libraries may echo the proxy's userinfo: mask it like a token.
    if parts.password:
        register_secret(unquote(parts.password))
        register_secret(parts.password)  # as written in the URL, percent-escapes and all
    return ProxyURL(url.strip(), parts.scheme.lower())


#: What ``urllib.request.getproxies`` (and so httpx) reads for http, https, all and no-proxy;
#: ``REQUEST_METHOD`` because urllib ignores ``HTTP_PROXY`` under CGI.
_ENV_NAMES = tuple(
    name
    for upper in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")
    for name in (upper, upper.lower())
)
#: Per snapshot of those variables and base URL, the proxy chosen: reading the environment with
#: urllib and matching httpx's patterns cost about 100 µs, most of a block's construction, which
#: a host building a block per tenant pays thousands of times. Bounded: cleared when full.
_ROUTES: dict[tuple[tuple[str | None, ...], str], tuple[str, str] | None] = {}
_ROUTES_MAX = 256


def _env_proxy_for(base_url: str) -> tuple[str, str] | None:
    """The proxy ``httpx.Client`` would take from the environment for ``base_url``, and its key.

    httpx's own helpers, so that the block and ``httpx.get`` never disagree; they are private to
    httpx (pinned below 1.0 in pyproject), which is why they are imported here and nowhere else.
    (On macOS and Windows urllib also reads the system's proxy settings; those are read once per
    snapshot of the variables above.)
    """
    key = (tuple(os.environ.get(name) for name in _ENV_NAMES), base_url)
    try:
        return _ROUTES[key]
    except KeyError:
        pass
    import httpx
    from httpx._utils import URLPattern, get_environment_proxies

    patterns = sorted((URLPattern(k), v) for k, v in get_environment_proxies().items())
    url = httpx.URL(base_url)
    found = next(((proxy, p.pattern) for p, proxy in patterns if p.matches(url)), None)
    route = None if found is None or found[0] is None else (found[0], found[1])
    if len(_ROUTES) >= _ROUTES_MAX:
        _ROUTES.clear()
    _ROUTES[key] = route
    return route


def _env_source(pattern: str) -> str:
    scheme = pattern.partition("://")[0]
    return f"the {scheme.upper()}_PROXY environment variable"


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    """Per host (``"api"``/``"media"``), the proxy to go through (None: direct), and the TLS trust."""

    proxies: Mapping[HostName, ProxyURL | None]
    ssl_context: ssl.SSLContext | None = None

    def __repr__(self) -> str:
        shown = {host: (p.display if p else None) for host, p in self.proxies.items()}
        return f"NetworkConfig(proxies={shown!r})"


def coerce_verify(verify: object) -> ssl.SSLContext | None:
    """``verify=`` as one ``ssl.SSLContext`` for every wire (None: each library's default CAs).

    A path is a CA bundle file (PEM) or a directory of hashed CA files, as for ``httpx``.
    """
    if verify is None or isinstance(verify, ssl.SSLContext):
        return verify
    if isinstance(verify, bool):
        # Turning verification off would send the token to whoever answers: not offered.
        raise TypeError("verify must be a CA bundle path or an ssl.SSLContext, not a bool")
    if not isinstance(verify, str | os.PathLike):
        raise TypeError(f"verify must be a CA bundle path or an ssl.SSLContext, not {type(verify).__name__}")
    path = os.fspath(verify)
    if not isinstance(path, str) or not os.path.exists(path):
        raise ConfigError(f"verify: no CA bundle at {path!r}")
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        raise ConfigError(f"verify: {path!r} is not a PEM CA bundle ({exc.reason})") from None


def _check_support(
    proxy: ProxyURL, source: str, *, sync_httpx: bool, async_path: Literal["aiohttp", "httpcore"] | None
) -> None:
    """Fail now, not at the first call, where a path cannot speak the proxy's protocol."""
    if proxy.scheme not in _SOCKS:
        return
    if async_path == "aiohttp":
        raise ConfigError(
            f"{source} is a SOCKS proxy ({proxy.display}), which the default async transport "
            '(aiohttp) cannot use: pass async_transport="httpcore" to GreenApiBlock '
            "(and install green-api-block[socks])"
        )
    if (sync_httpx or async_path == "httpcore") and importlib.util.find_spec("socksio") is None:
        raise ConfigError(
            f"{source} is a SOCKS proxy ({proxy.display}); httpx needs its socks extra for it: "
            "pip install 'green-api-block[socks]'"
        )


def resolve_network(
    proxy: str | None,
    api_url: str,
    media_url: str,
    *,
    verify: object = None,
    sync_httpx: bool = True,
    async_path: Literal["aiohttp", "httpcore"] | None = "aiohttp",
) -> NetworkConfig:
    """The proxies of a block's two hosts and its TLS trust, validated for the paths it builds.

    ``sync_httpx``: the block builds its own sync transport (no ``transport=`` given);
    ``async_path``: the async wire the block builds, None when the caller passed a transport.
    The environment applies only to what the block builds (as httpx ignores it for a client given
    a transport); an explicit ``proxy`` with a caller's transport on both paths is refused, since
    it could not apply.
    """
    if proxy is not None and not isinstance(proxy, str):
        raise TypeError(f"proxy must be a URL string such as 'http://proxy:3128', not {type(proxy).__name__}")
    if proxy is not None and not sync_httpx and async_path is None:
        raise ConfigError(
            "proxy= has no effect with your own transport and async_transport: configure the proxy on them"
        )
    if verify is not None and not sync_httpx and async_path is None:
        raise ConfigError(
            "verify= has no effect with your own transport and async_transport: configure TLS on them"
        )
    proxies: dict[HostName, ProxyURL | None] = {}
    for host, base_url in (("api", api_url), ("media", media_url)):
        chosen: ProxyURL | None
        if proxy is not None:
            chosen, source = _parse_proxy(proxy, "proxy"), "proxy"
        elif sync_httpx or async_path is not None:
            found = _env_proxy_for(base_url)
            source = _env_source(found[1]) if found else ""
            chosen = _parse_proxy(found[0], source) if found else None
        else:
            chosen = None
        if chosen is not None:
            _check_support(chosen, source, sync_httpx=sync_httpx, async_path=async_path)
        proxies[host] = chosen  # type: ignore[index]  # the loop's literals are HostName
    return NetworkConfig(proxies, coerce_verify(verify))
