"""green_api_send_file -> POST sendFileByUrl."""

from __future__ import annotations

from typing import Any

from ..models import SendFileInput
from .base import ApiCall, Plan, ToolSpec, require_id_message

__all__ = ["SPEC", "plan"]


def plan(args: SendFileInput) -> Plan:
    body: dict[str, Any] = {"chatId": args.chatId, "urlFile": args.urlFile, "fileName": args.fileName}
    if args.caption is not None:
        body["caption"] = args.caption
    call = ApiCall("POST", "sendFileByUrl", json=body, is_send=True)
    answer = yield call
    return require_id_message(call, answer)


SPEC = ToolSpec("green_api_send_file", SendFileInput, plan)
