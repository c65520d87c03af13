"""green_api_send_buttons -> POST sendInteractiveButtonsReply or sendInteractiveButtons.

The legacy ``sendButtons`` answers 403 since December 2023 (REFERENCE.md §4), so it is never
called. Interactive buttons are a Green API beta: the message text should carry a fallback.
"""

from __future__ import annotations

from typing import Any

from ..models import Button, SendButtonsInput
from .base import ApiCall, Plan, ToolSpec, require_id_message

__all__ = ["SPEC", "assign_button_ids", "plan"]

_ACTION_VALUE = {"copy": "copyCode", "call": "phoneNumber", "url": "url"}


def assign_button_ids(buttons: list[Button]) -> list[str]:
    """Each button's id: its own, else the first of "1", "2", "3"... no other button uses."""
    taken = {b.buttonId for b in buttons if b.buttonId is not None}
    ids: list[str] = []
    counter = 0
    for button in buttons:
        if button.buttonId is not None:
            ids.append(button.buttonId)
            continue
        counter += 1
        while str(counter) in taken:
            counter += 1
        taken.add(str(counter))
        ids.append(str(counter))
    return ids


def plan(args: SendButtonsInput) -> Plan:
    ids = assign_button_ids(args.buttons)
    action = args.buttons[0].is_action  # validation guarantees one kind per message
    buttons: list[dict[str, Any]] = []
    for button, button_id in zip(args.buttons, ids, strict=True):
        item: dict[str, Any] = {"buttonId": button_id, "buttonText": button.buttonText}
        if action:
            assert button.type is not None
            key = _ACTION_VALUE[button.type]
            item = {"type": button.type, **item, key: getattr(button, key)}
        buttons.append(item)
    body: dict[str, Any] = {"chatId": args.chatId}
    if args.header is not None:
        body["header"] = args.header
    body["body"] = args.message
    if args.footer is not None:
        body["footer"] = args.footer
    body["buttons"] = buttons
    method = "sendInteractiveButtons" if action else "sendInteractiveButtonsReply"
    call = ApiCall("POST", method, json=body, is_send=True)
    answer = yield call
    return require_id_message(call, answer)


SPEC = ToolSpec("green_api_send_buttons", SendButtonsInput, plan)
