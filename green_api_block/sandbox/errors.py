"""The one exception the sandbox backend raises; the wire layer renders it (moto's ``exceptions.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["APIError", "ApiError", "SandboxError", "UnknownInstanceError"]


class SandboxError(Exception):
    """Misuse of the sandbox's Python control API (not something Green API would answer)."""


class UnknownInstanceError(SandboxError, KeyError):
    """The control API was given an idInstance the sandbox does not hold."""

    def __str__(self) -> str:  # KeyError's repr-quoting makes the message hard to read
        return str(self.args[0]) if self.args else "unknown instance"


class APIError(Exception):
    """An answer other than 200, as Green API would give it.

    ``body`` replaces the standard error envelope when the status has a documented body of its
    own (466); ``retry_after`` is the limiter's estimate in seconds, which the wire layer turns
    into a header only when the sandbox is configured to send one.
    """

    def __init__(
        self,
        status: int,
        message: str = "",
        *,
        body: Any = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}".strip())
        self.status = status
        self.message = message
        self.body = body
        self.retry_after = retry_after
        self.headers = dict(headers or {})


#: The old spelling, kept for code written against it.
ApiError = APIError
