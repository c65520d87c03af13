"""green_api_get_notifications -> GET receiveNotification, then DELETE deleteNotification/{receiptId}.

Rules: a notification is deleted only after it was received and is in the list handed back; if a
later receive or delete fails, what was already received is returned rather than lost (a
notification whose delete failed stays queued and comes back: callers de-duplicate on receiptId).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from ..errors import BadResponseError, GreenApiError
from ..events.schema import tool_event
from ..models import GetNotificationsInput
from .base import ApiCall, CallerGone, Plan, ToolSpec

__all__ = ["FOLLOW_UP_WAIT", "SPEC", "plan"]

logger = logging.getLogger(__name__)

# After the first notification, each further receive waits the API's minimum: an empty queue only
# shows itself by a receive that times out, and receiveTimeout cannot go below 5 seconds.
FOLLOW_UP_WAIT = 5


@functools.cache  # 56 possible waits; one shared (frozen) call each, not one per held poll
def _receive(wait: int) -> ApiCall:
    return ApiCall("GET", "receiveNotification", query={"receiveTimeout": str(wait)}, long_poll=float(wait))


def _parse(call: ApiCall, body: Any) -> tuple[int, dict[str, Any]]:
    receipt = body.get("receiptId") if isinstance(body, dict) else None
    payload = body.get("body") if isinstance(body, dict) else None
    if isinstance(receipt, bool) or not isinstance(receipt, int) or not isinstance(payload, dict):
        raise BadResponseError(
            "Green API receiveNotification answered with neither null nor {receiptId, body}",
            api_method=call.api_method,
        )
    return receipt, payload


def plan(args: GetNotificationsInput) -> Plan:
    # The plan lives as long as its long poll is held (a host may hold a thousand at once): keep
    # the three values it needs, not the validated model with its credentials.
    limit, first_wait, delete = args.maxNotifications, args.receiveTimeout, args.deleteAfterReceive
    del args
    items: list[dict[str, Any]] = []
    seen: set[int] = set()
    try:
        for index in range(limit):
            call = _receive(first_wait if index == 0 else FOLLOW_UP_WAIT)
            try:
                body = yield call
                if body is None:
                    break
                receipt, payload = _parse(call, body)
            except GreenApiError as exc:
                if not items:
                    raise
                logger.warning(
                    "receiveNotification failed after %d notification(s); returning those: %s",
                    len(items),
                    exc.code,
                )
                break
            if receipt in seen:
                break  # the head came back: its delete did not take, so the queue cannot advance
            seen.add(receipt)
            items.append({"receiptId": receipt, "body": payload, "event": tool_event(payload)})
            if not delete:
                break  # the head is returned until deleted: a peek can only ever see one
            try:
                yield ApiCall("DELETE", "deleteNotification", path_arg=str(receipt))
            except GreenApiError as exc:
                logger.warning(
                    "deleteNotification failed (receiptId %d stays queued and will be received again): %s",
                    receipt,
                    exc.code,
                )
                break
    except CallerGone:
        # The caller is gone mid-drain: what was received (and maybe deleted) goes back to the
        # block, which hands it to the next call instead of losing it.
        pass
    return {"notifications": items, "receiptId": items[-1]["receiptId"] if items else None}


SPEC = ToolSpec("green_api_get_notifications", GetNotificationsInput, plan)
