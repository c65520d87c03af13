"""green-api-block: Green API (WhatsApp) tools for workflow engines, visual builders and LLM agents."""

from __future__ import annotations

from typing import Any

from .block import GreenApiBlock
from .config import RetryPolicy, Timeouts
from .contract import TOOL_IDS, ToolDefinition
from .errors import (
    APIStatusError,
    APITimeoutError,
    ApiTimeoutError,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    ConfigError,
    ForbiddenError,
    GreenApiBlockError,
    GreenApiError,
    InputValidationError,
    InstanceNotAuthorizedError,
    NotFoundError,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TransportError,
    UnknownToolError,
)

__all__ = [
    "TOOL_IDS",
    "APIStatusError",
    "APITimeoutError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BadResponseError",
    "ConfigError",
    "ForbiddenError",
    "GreenApiBlock",
    "GreenApiBlockError",
    "GreenApiError",
    "InputValidationError",
    "InstanceNotAuthorizedError",
    "NotFoundError",
    "OutcomeUnknownError",
    "QuotaExceededError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "Timeouts",
    "ToolDefinition",
    "TransportError",
    "UnknownToolError",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("green-api-block")
    raise AttributeError(f"module 'green_api_block' has no attribute {name!r}")
