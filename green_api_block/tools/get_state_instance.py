"""green_api_get_state_instance -> GET getStateInstance."""

from __future__ import annotations

from ..errors import BadResponseError
from ..models import GetStateInstanceInput
from .base import ApiCall, Plan, ToolSpec

__all__ = ["SPEC", "plan"]


def plan(args: GetStateInstanceInput) -> Plan:
    call = ApiCall("GET", "getStateInstance")
    body = yield call
    state = body.get("stateInstance") if isinstance(body, dict) else None
    if not isinstance(state, str) or not state:
        # A freshly created instance answers `null` for up to ~5 minutes (REFERENCE.md §7).
        hint = (
            " (a new instance answers null while it initialises: try again in a few minutes)"
            if body is None
            else ""
        )
        raise BadResponseError(
            f"Green API getStateInstance answered without a stateInstance{hint}",
            api_method=call.api_method,
            retryable=body is None,
        )
    return {"stateInstance": state}


SPEC = ToolSpec("green_api_get_state_instance", GetStateInstanceInput, plan)
