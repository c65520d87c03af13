"""The only place where a host, an instance id, a method and the token are joined into a URL.

Two forms are built: the *display* URL, with the token segment masked, which is what httpx's
request object, its log line and our errors carry; and the real path, which travels in a request
extension and replaces the masked one only inside the transport (see ``transport.py``).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from .redact import MASK

__all__ = ["TOKEN_EXTENSION", "build_urls"]

#: The request-extension key carrying the real (unmasked) path and query.
TOKEN_EXTENSION = "green_api_real_target"


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
