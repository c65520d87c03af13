"""Tool plans driven with no network: the notification rules in particular."""

from __future__ import annotations

from typing import Any

import pytest

from green_api_block import GreenApiError, ServerError
from green_api_block.events.schema import tool_event
from green_api_block.models import GetNotificationsInput, SendButtonsInput
from green_api_block.tools import SPECS
from green_api_block.tools.base import ApiCall
from green_api_block.tools.send_buttons import assign_button_ids

CREDS = {"idInstance": "1101000001", "apiTokenInstance": "tok123"}


def drive(plan: Any, answers: list[Any]) -> tuple[list[ApiCall], Any]:
    """Run a plan, answering each call from ``answers`` (an exception is thrown in)."""
    calls: list[ApiCall] = []
    try:
        call = next(plan)
        while True:
            calls.append(call)
            answer = answers.pop(0)
            call = plan.throw(answer) if isinstance(answer, BaseException) else plan.send(answer)
    except StopIteration as done:
        return calls, done.value


def notif(n: int) -> dict[str, Any]:
    return {"receiptId": n, "body": {"typeWebhook": "incomingMessageReceived", "idMessage": f"M{n}"}}


def handed(n: int) -> dict[str, Any]:
    """What the tool returns for ``notif(n)``: the item plus its event."""
    item = notif(n)
    return {**item, "event": tool_event(item["body"])}


def plan(**kw: Any) -> Any:
    return SPECS["green_api_get_notifications"].plan(GetNotificationsInput.model_validate({**CREDS, **kw}))


def test_receive_failure_after_some_returns_them() -> None:
    calls, out = drive(
        plan(maxNotifications=5), [notif(1), {"result": True}, ServerError("boom", status_code=502)]
    )
    assert out == {"notifications": [handed(1)], "receiptId": 1}
    assert [c.api_method for c in calls] == [
        "receiveNotification",
        "deleteNotification",
        "receiveNotification",
    ]


def test_receive_failure_with_nothing_received_raises() -> None:
    with pytest.raises(GreenApiError):
        drive(plan(maxNotifications=5), [ServerError("boom", status_code=502)])


def test_delete_failure_still_hands_back_and_stops() -> None:
    calls, out = drive(plan(maxNotifications=5), [notif(1), ServerError("boom", status_code=500)])
    assert out["notifications"] == [handed(1)]
    assert len(calls) == 2


def test_delete_result_false_means_gone_and_draining_goes_on() -> None:
    _, out = drive(plan(maxNotifications=3), [notif(1), {"result": False}, notif(2), {"result": True}, None])
    assert [n["receiptId"] for n in out["notifications"]] == [1, 2]


def test_head_repeating_stops_the_drain() -> None:
    calls, out = drive(plan(maxNotifications=5), [notif(1), {"result": True}, notif(1)])
    assert out["notifications"] == [handed(1)]
    assert [c.http_method for c in calls] == ["GET", "DELETE", "GET"]


def test_only_received_notifications_are_ever_deleted() -> None:
    calls, out = drive(
        plan(maxNotifications=4),
        [notif(3), {"result": True}, notif(4), {"result": True}, notif(5), {"result": True}, None],
    )
    deleted = [int(c.path_arg or -1) for c in calls if c.api_method == "deleteNotification"]
    returned = [n["receiptId"] for n in out["notifications"]]
    assert deleted == returned == [3, 4, 5]


def test_long_poll_sets_the_read_window() -> None:
    calls, _ = drive(plan(receiveTimeout=45, maxNotifications=2), [notif(1), {"result": True}, None])
    assert calls[0].long_poll == 45 and calls[0].query == {"receiveTimeout": "45"}
    assert calls[2].long_poll == 5


@pytest.mark.parametrize(
    ("given", "ids"),
    [
        ([None, None, None], ["1", "2", "3"]),
        (["2", None, None], ["2", "1", "3"]),
        ([None, "1", None], ["2", "1", "3"]),
        (["a", None], ["a", "1"]),
    ],
)
def test_button_ids(given: list[str | None], ids: list[str]) -> None:
    buttons = [{"buttonText": f"b{i}", **({"buttonId": g} if g else {})} for i, g in enumerate(given)]
    model = SendButtonsInput.model_validate(
        {**CREDS, "chatId": "79001234567@c.us", "message": "m", "buttons": buttons}
    )
    assert assign_button_ids(model.buttons) == ids
