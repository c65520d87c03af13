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

__all__ = ["Target", "build_target"]

T = TypeVar("T")


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
    """The :class:`Target` of one call: its display URL and its real URL.

    The inputs were validated already (digits-only id, path-safe token); quoting is a second
    line of defence so that nothing a caller passes can add a path segment.
    """
    parts = urlsplit(base_url)
    base_path = parts.path.rstrip("/")
    instance = quote(id_instance, safe="")
    tail = f"/{quote(path_arg, safe='')}" if path_arg is not None else ""
    qs = f"?{urlencode(query)}" if query else ""
    display = f"{base_url}/waInstance{instance}/{api_method}/{MASK}{tail}{qs}"
    method = quote(api_method, safe="")
    real_path = f"{base_path}/waInstance{instance}/{method}/{quote(token, safe='')}{tail}{qs}"
    return Target(display, f"{parts.scheme}://{parts.netloc}{real_path}")
