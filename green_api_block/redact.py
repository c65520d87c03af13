"""Keep the instance token out of everything a person or a model can read.

Green API puts the token in the URL path, so every URL is a secret until masked. Three things
are masked, each at a cost that does not depend on how many tokens the process has met (a host
serving a thousand instances from one block meets a thousand tokens):

* the token segment of any Green API URL, found by its shape (``/waInstance{id}/{method}/{token}``),
  wherever the URL appears (our logs, httpx's, httpcore's, aiohttp's, an exception's text);
* registered secrets (:func:`register_secret`: a block's bound token, the CLI's token), kept for
  the life of the process;
* the token of each call in flight (:func:`in_flight`): with unbound credentials a block holds no
  token, and an error body may echo the token outside any URL while the call is running. The
  token is held only while the call runs, so a long-lived host does not keep every token it was
  ever given.

Held secrets are indexed by their first characters and length, so that registering one is a dict
insert (no regex of all secrets, which made registering 2,000 tokens take 70 s), and masking a
text looks each position up once, however many secrets are held.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MASK",
    "RedactingFilter",
    "held_secrets",
    "in_flight",
    "install_log_filter",
    "mask_token",
    "redact",
    "redact_obj",
    "register_secret",
]

MASK = "***"
_MIN_SECRET = 4  # shorter strings would mask ordinary text; tokens are ~50 characters
_KEY = _MIN_SECRET  # secrets are indexed by their first _KEY characters

#: The token segment of a Green API URL: ``/waInstance{id}/{method}/{token}``. The segment ends at
#: anything a token cannot hold (tokens are ``[A-Za-z0-9_-]``; the rest covers a token that is
#: not, so that it is still cut at the path's end, a quote or a space).
#: Any case: a proxy or a server log may print the path lowercased.
_URL_TOKEN = re.compile(r"(/waInstance[^/\s]*/[^/\s?#]+/)([^/\s?#\"'<>&]+)", re.IGNORECASE)


_MASKED_SEGMENT = r"\1" + MASK


class _Bucket:
    """The held secrets that start with one key: a set per length, lengths longest first.

    ``lengths`` is replaced, never changed in place, so that :func:`redact` can read it while
    another thread adds or drops a secret.
    """

    __slots__ = ("by_length", "lengths")

    def __init__(self) -> None:
        self.by_length: dict[int, set[str]] = {}
        self.lengths: tuple[int, ...] = ()


_lock = threading.Lock()
_index: dict[str, _Bucket] = {}
_holders: dict[str, int] = {}  # secret -> how many hold it (a registration, each call in flight)
_registered: set[str] = set()


def mask_token(token: str | None) -> str:
    """A display form of a token: its first 4 characters, so a person can tell two apart."""
    if not token:
        return ""
    return token[:4] + "…" + MASK if len(token) > 12 else MASK


def _hold(secret: str) -> None:
    # Called with _lock held.
    count = _holders.get(secret, 0)
    _holders[secret] = count + 1
    if count:
        return
    bucket = _index.get(secret[:_KEY])
    if bucket is None:
        bucket = _index[secret[:_KEY]] = _Bucket()
    same = bucket.by_length.get(len(secret))
    if same is None:
        bucket.by_length[len(secret)] = {secret}
        bucket.lengths = tuple(sorted(bucket.by_length, reverse=True))
    else:
        same.add(secret)


def _release(secret: str) -> None:
    # Called with _lock held.
    count = _holders[secret] - 1
    if count:
        _holders[secret] = count
        return
    del _holders[secret]
    bucket = _index[secret[:_KEY]]
    same = bucket.by_length[len(secret)]
    same.discard(secret)
    if not same:
        del bucket.by_length[len(secret)]
        bucket.lengths = tuple(sorted(bucket.by_length, reverse=True))
        if not bucket.lengths:
            del _index[secret[:_KEY]]


def register_secret(secret: str | None) -> None:
    """Remember a secret so that :func:`redact` and the log filter mask it from now on."""
    if not secret or len(secret) < _MIN_SECRET or secret in _registered:
        return
    with _lock:
        if secret not in _registered:
            _registered.add(secret)
            _hold(secret)


class in_flight:  # lower case: used like a function, ``with in_flight(token):``
    """Mask ``secret`` while the block runs (a call made with unbound credentials).

    A class, not a ``@contextmanager``: one is alive per call in flight (a thousand long polls
    hold a thousand), and a generator with its frame costs several times these two slots.
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: str | None) -> None:
        # Registered secrets are held for good already; too short ones are never masked.
        held = secret and len(secret) >= _MIN_SECRET and secret not in _registered
        self._secret = secret if held else None

    def __enter__(self) -> None:
        if self._secret is not None:
            with _lock:
                _hold(self._secret)

    def __exit__(self, *exc: object) -> None:
        if self._secret is not None:
            with _lock:
                _release(self._secret)


def held_secrets() -> int:
    """How many distinct secrets are masked right now (registered or in flight)."""
    return len(_holders)


def _mask_held(text: str) -> str:
    """``text`` with every held secret masked, longest first where two start at one place.

    One dict look-up per position (the key is the secret's first characters), then one set
    look-up per length held under that key: the cost follows the text's length, not the number
    of secrets held.
    """
    index = _index
    last = len(text) - _KEY
    if last < 0 or not index:
        return text
    get = index.get
    out: list[str] = []
    start = i = 0
    while i <= last:
        bucket = get(text[i : i + _KEY])
        if bucket is not None:
            hit = 0
            for length in bucket.lengths:
                same = bucket.by_length.get(length)
                if same is not None and text[i : i + length] in same:
                    hit = length
                    break
            if hit:
                out.append(text[start:i])
                out.append(MASK)
                i += hit
                start = i
                continue
        i += 1
    if not out:
        return text
    out.append(text[start:])
    return "".join(out)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every token in a Green API URL, every held secret and every string in
    ``extra`` replaced by ``***``."""
    for secret in extra:
        if secret and len(secret) >= _MIN_SECRET:
            text = text.replace(secret, MASK)
    text = _URL_TOKEN.sub(_MASKED_SEGMENT, text)
    return _mask_held(text)


class RedactingFilter(logging.Filter):
    """Masks tokens in a record's message and arguments.

    Attached to handlers as well as loggers, because a filter on a logger does not run for
    records of its child loggers (``httpcore.http11`` under ``httpcore``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix; do not drop the record
            return True
        masked = redact(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


_installed = False
# Filters on a logger do not apply to its children, so each logger that may format a URL is named.
_URL_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "aiohttp.client",
    "green_api_block",
)


def install_log_filter(logger_names: Iterable[str] = _URL_LOGGERS) -> None:
    """Attach one :class:`RedactingFilter` to the loggers that can see URLs, once per process.

    The filter masks whatever is held when a record is emitted, so one filter serves every
    block: constructing a block does not touch the logging configuration again.
    """
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        flt = RedactingFilter()
        for name in logger_names:
            logging.getLogger(name).addFilter(flt)
        _installed = True


def redact_obj(value: Any, extra: Iterable[str] = ()) -> Any:
    """Recursively mask tokens inside JSON-like data (``extra`` as for :func:`redact`)."""
    extra = tuple(extra)
    if isinstance(value, str):
        return redact(value, extra)
    if isinstance(value, dict):
        return {k: redact_obj(v, extra) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_obj(v, extra) for v in value]
    return value
