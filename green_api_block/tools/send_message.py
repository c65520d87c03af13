"""green_api_send_message -> POST sendMessage."""

from __future__ import annotations

from ..models import SendMessageInput
from .base import ApiCall, Plan, ToolSpec, require_id_message

__all__ = ["SPEC", "plan"]


def plan(args: SendMessageInput) -> Plan:
    call = ApiCall("POST", "sendMessage", json={"chatId": args.chatId, "message": args.message}, is_send=True)
    body = yield call
    return require_id_message(call, body)


SPEC = ToolSpec("green_api_send_message", SendMessageInput, plan)
