"""Keep the instance token out of everything a person or a model can read.

Green API puts the token in the URL path, so every URL is a secret until masked. The token
registry is process-wide: a block registers each token it uses, and the logging filter masks any
registered token wherever it appears (our logs, httpx's, httpcore's, an application's).
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
    "install_log_filter",
    "mask_token",
    "redact",
    "redact_obj",
    "register_secret",
]

MASK = "***"
_MIN_SECRET = 4  # shorter strings would mask ordinary text; tokens are ~50 characters
_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_pattern: re.Pattern[str] | None = None


def mask_token(token: str | None) -> str:
    """A display form of a token: its first 4 characters, so a person can tell two apart."""
    if not token:
        return ""
    return token[:4] + "…" + MASK if len(token) > 12 else MASK


def register_secret(secret: str | None) -> None:
    """Remember a secret so that :func:`redact` and the log filter mask it from now on."""
    global _secrets, _pattern
    if not secret or len(secret) < _MIN_SECRET or secret in _secrets:
        return
    with _lock:
        secrets = _secrets | {secret}
        # Longest first so that a token containing another is masked whole.
        alternatives = sorted(secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in alternatives))
        _secrets = secrets


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and every string in ``extra``) replaced by ``***``."""
    for secret in extra:
        if secret and len(secret) >= _MIN_SECRET:
            text = text.replace(secret, MASK)
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None and _secrets else text


class RedactingFilter(logging.Filter):
    """Masks registered secrets in a record's message and arguments.

    Attached to handlers as well as loggers, because a filter on a logger does not run for
    records of its child loggers (``httpcore.http11`` under ``httpcore``).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
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
    """Attach :class:`RedactingFilter` to the loggers that can see URLs (idempotent)."""
    global _installed
    if _installed:
        return
    flt = RedactingFilter()
    for name in logger_names:
        logger = logging.getLogger(name)
        logger.addFilter(flt)
    _installed = True


def redact_obj(value: Any) -> Any:
    """Recursively mask registered secrets inside JSON-like data."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_obj(v) for v in value]
    return value
