"""The block's exceptions, split by where a call failed.

    GreenApiBlockError
    ├── ConfigError                 bad or missing configuration (host, credentials)
    ├── InputValidationError        bad tool input; raised before any HTTP request
    │   └── UnknownToolError
    └── GreenApiError               the call itself failed (.status_code .code .retryable)
        ├── TransportError          no response came back            code transport_error
        │   ├── APITimeoutError     ... because a timeout expired    code timeout
        │   └── OutcomeUnknownError a send left, no answer came      code outcome_unknown
        ├── APIStatusError          Green API answered with an error status
        │   ├── BadRequestError           400  bad_request
        │   │   └── InstanceNotAuthorizedError 400 instance_not_authorized
        │   ├── AuthenticationError       401  unauthorized
        │   ├── ForbiddenError            403  forbidden
        │   ├── NotFoundError             404  not_found
        │   ├── RateLimitError            429  rate_limited (.retry_after)
        │   ├── QuotaExceededError        466  quota_exceeded
        │   └── ServerError               499, 5xx  server_error
        └── BadResponseError        200, but the body is not what the API documents  bad_response

No exception keeps an httpx ``Request`` or ``Response``: both carry the URL, and the URL carries
the token. Messages are built from masked parts only.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIStatusError",
    "APITimeoutError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BadResponseError",
    "ConfigError",
    "ForbiddenError",
    "GreenApiBlockError",
    "GreenApiError",
    "InputValidationError",
    "InstanceNotAuthorizedError",
    "NotFoundError",
    "OutcomeUnknownError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
    "TransportError",
    "UnknownToolError",
]


class GreenApiBlockError(Exception):
    """Base of every error this package raises."""


class ConfigError(GreenApiBlockError, ValueError):
    """The block is configured wrongly (host, credentials); never echoes the token."""


class InputValidationError(GreenApiBlockError, ValueError):
    """Tool input broke the tool's input schema; no HTTP request was made.

    ``errors`` lists every problem as ``{"path": "buttons[0].buttonText", "message": "...",
    "rule": "maxLength"}``; the message names the field and the rule, never the rejected value
    (which could be a secret).
    """

    def __init__(self, tool: str | None, errors: list[dict[str, str]]) -> None:
        self.tool = tool
        self.errors = errors
        where = f"{tool}: " if tool else ""
        details = "; ".join(f"{e['path']}: {e['message']}" if e["path"] else e["message"] for e in errors)
        super().__init__(f"{where}invalid input: {details}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, safe to show to a user or a model."""
        return {"code": "invalid_input", "message": str(self), "errors": self.errors, "retryable": False}


class UnknownToolError(InputValidationError):
    """The tool id is not one of this block's tools."""


class GreenApiError(GreenApiBlockError):
    """A call to Green API failed.

    ``code`` is a stable string a workflow can branch on; ``retryable`` says whether the same call
    may succeed later; ``outcome_unknown`` is true when a send may have reached WhatsApp even
    though it failed here (check ``lastOutgoingMessages`` before sending again).
    """

    default_code = "api_error"
    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        tool: str | None = None,
        api_method: str | None = None,
        url: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
        body_excerpt: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.tool = tool
        self.api_method = api_method
        self.url = url
        self.status_code = status_code
        self.code = code or self.default_code
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        self.body_excerpt = body_excerpt
        self.details = details or {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, status_code={self.status_code!r}, "
            f"api_method={self.api_method!r}, message={self.message!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, safe to show to a user or a model."""
        out: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status_code": self.status_code,
            "retryable": self.retryable,
            "outcome_unknown": self.outcome_unknown,
        }
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        if self.api_method:
            out["api_method"] = self.api_method
        return out


class TransportError(GreenApiError):
    default_code = "transport_error"


class APITimeoutError(TransportError, TimeoutError):
    default_code = "timeout"


#: The name before error classes were spelled ``API...`` throughout (as openai-python does).
ApiTimeoutError = APITimeoutError


class OutcomeUnknownError(TransportError):
    """A send reached the wire but no answer came back: it may or may not have been sent."""

    default_code = "outcome_unknown"


class APIStatusError(GreenApiError):
    default_code = "api_error"


class BadRequestError(APIStatusError):
    default_code = "bad_request"


class InstanceNotAuthorizedError(BadRequestError):
    default_code = "instance_not_authorized"


class AuthenticationError(APIStatusError):
    default_code = "unauthorized"


class ForbiddenError(APIStatusError):
    default_code = "forbidden"


class NotFoundError(APIStatusError):
    default_code = "not_found"


class RateLimitError(APIStatusError):
    default_code = "rate_limited"
    default_retryable = True


class QuotaExceededError(APIStatusError):
    default_code = "quota_exceeded"


class ServerError(APIStatusError):
    default_code = "server_error"
    default_retryable = True


class BadResponseError(GreenApiError):
    default_code = "bad_response"
