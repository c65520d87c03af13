"""What every tool module is made of: a sans-I/O plan that yields API calls and returns the output.

A plan is a generator: it yields :class:`ApiCall` values, receives each call's decoded JSON body
(or has the call's :class:`~green_api_block.errors.GreenApiError` thrown into it), and returns the
tool's output dict. The same plan runs under the sync and the async driver, so no tool is written
twice, and tests can drive a plan with no network at all.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import BadResponseError
from ..models import ToolInput

__all__ = ["ApiCall", "CallerGone", "Plan", "PlanFactory", "ToolSpec", "require_id_message"]


class CallerGone(Exception):
    """Thrown into a plan whose caller stopped waiting (a cancelled task, an interrupt) while a
    call was in flight. A plan holding effects it cannot undo (deleted notifications) returns
    them instead of dropping them; any other plan lets it propagate."""


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Green API request, described without I/O.

    ``path_arg`` is appended after the token segment (deleteNotification's receiptId).
    ``is_send`` marks calls with effects in the world: they are never retried once they may have
    reached the server. ``long_poll`` is the seconds the server may hold the request.
    """

    http_method: Literal["GET", "POST", "DELETE"]
    api_method: str
    json: dict[str, Any] | None = None
    query: dict[str, str] | None = None
    path_arg: str | None = None
    host: Literal["api", "media"] = "api"
    is_send: bool = False
    long_poll: float | None = None


Plan = Generator[ApiCall, Any, dict[str, Any]]
PlanFactory = Callable[[Any], Plan]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """How one tool runs: its input model and its plan."""

    tool_id: str
    model: type[ToolInput]
    plan: PlanFactory


def require_id_message(call: ApiCall, body: Any) -> dict[str, Any]:
    """The send tools' response mapping: Green API answers ``{"idMessage": "..."}``."""
    id_message = body.get("idMessage") if isinstance(body, dict) else None
    if not isinstance(id_message, str) or not id_message:
        # The server accepted the request, so the message may well be queued: say so.
        raise BadResponseError(
            f"Green API {call.api_method} answered 200 without an idMessage; the message may have been "
            "queued: check lastOutgoingMessages before sending again",
            api_method=call.api_method,
            outcome_unknown=True,
        )
    return {"idMessage": id_message, "success": True}
