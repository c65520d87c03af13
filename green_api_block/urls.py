"""The only place where a host, an instance id, a method and the token are joined into a URL.

Two forms are built: the *display* URL, with the token segment masked, which is what our errors
and log lines carry; and the real URL, which only a wire in ``transport.py`` reads, to build the
one request object that goes to the network library. A :class:`Target` holds both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from .redact import MASK

__all__ = ["Target", "build_target", "build_urls"]

T = TypeVar("T")


def build_urls(
    base_url: str,
    id_instance: str,
    api_method: str,
    token: str,
    path_arg: str | None = None,
    query: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """``(display_url, real_raw_path)`` for one call; the raw path includes the query string.

    The inputs were validated already (digits-only id, path-safe token); quoting is a second
    line of defence so that nothing a caller passes can add a path segment.
    """
    base_path = urlsplit(base_url).path.rstrip("/")
    head = f"{base_path}/waInstance{quote(id_instance, safe='')}/{quote(api_method, safe='')}/"
    tail = f"/{quote(path_arg, safe='')}" if path_arg is not None else ""
    qs = f"?{urlencode(query)}" if query else ""
    display = f"{base_url}/waInstance{quote(id_instance, safe='')}/{api_method}/{MASK}{tail}{qs}"
    real = f"{head}{quote(token, safe='')}{tail}{qs}".encode("ascii")
    return display, real


class Target:
    """One call's URL in both forms: ``display`` (token masked) for everything a person or a log
    can see, and the real URL, which only a wire (``transport.py``) reads.

    ``repr`` shows the display form only. A wire may keep the parsed form of the real URL it needs
    (an ``httpx.URL``, a ``yarl.URL``) in :meth:`parsed`, so that a target the session reuses
    (same instance, method and query) is parsed once, not on every call.
    """

    __slots__ = ("_parsed", "_real_url", "display")

    def __init__(self, display: str, real_url: str) -> None:
        self.display = display
        self._real_url = real_url
        self._parsed: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Target({self.display!r})"

    def real_url(self) -> str:
        """The URL with the token: for a wire's request object, nothing else."""
        return self._real_url

    def parsed(self, kind: str, parse: Callable[[str], T]) -> T:
        """``parse(real_url)``, computed once per target and kind."""
        try:
            value: T = self._parsed[kind]
        except KeyError:
            value = self._parsed[kind] = parse(self._real_url)
        return value


def build_target(
    base_url: str,
    id_instance: str,
    api_method: str,
    token: str,
    path_arg: str | None = None,
    query: dict[str, str] | None = None,
) -> Target:
    """The :class:`Target` of one call (same arguments and quoting as :func:`build_urls`)."""
    display, real_path = build_urls(base_url, id_instance, api_method, token, path_arg, query)
    parts = urlsplit(base_url)
    return Target(display, f"{parts.scheme}://{parts.netloc}{real_path.decode('ascii')}")
