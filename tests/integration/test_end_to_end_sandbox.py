"""The five tools end to end against the embedded sandbox over real HTTP, sync and async."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from green_api_block import GreenApiBlock, GreenApiError, RetryPolicy
from green_api_block.sandbox import Notification, Sandbox, SandboxInstance

FAST = RetryPolicy(max_retries=3, backoff_initial=0.001, backoff_max=0.005)


pytestmark = [
    pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.3),
    pytest.mark.green_api_instance(settings={"outgoingAPIMessageWebhook": "no", "outgoingWebhook": "no"}),
]


def _run(mode: str, block: GreenApiBlock, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    if mode == "sync":
        return block.execute(tool, args)

    async def go() -> dict[str, Any]:
        return await block.aexecute(tool, args)

    return asyncio.run(go())


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_five_tools(mode: str, sandbox: Sandbox, instance: SandboxInstance) -> None:
    block = GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        api_token=instance.api_token,
        retry=FAST,
        credentials_from_env=False,
    )
    chat = "79001234567@c.us"
    assert _run(mode, block, "green_api_get_state_instance", {}) == {"stateInstance": "authorized"}
    sent_text = _run(
        mode, block, "green_api_send_message", {"chatId": "+7 900 123-45-67", "message": "Order #42 is ready"}
    )
    sent_file = _run(
        mode,
        block,
        "green_api_send_file",
        {
            "chatId": chat,
            "urlFile": "https://example.org/files/invoice-42.pdf",
            "fileName": "invoice-42.pdf",
            "caption": "Invoice",
        },
    )
    sent_buttons = _run(
        mode,
        block,
        "green_api_send_buttons",
        {"chatId": chat, "message": "Confirm?", "buttons": [{"buttonText": "Yes"}, {"buttonText": "No"}]},
    )
    for out in (sent_text, sent_file, sent_buttons):
        assert out["success"] is True and out["idMessage"]
    recorded = sandbox.sent_messages(instance)
    assert [m.id_message for m in recorded] == [
        sent_text["idMessage"],
        sent_file["idMessage"],
        sent_buttons["idMessage"],
    ]
    assert [m.method for m in recorded] == ["sendMessage", "sendFileByUrl", "sendInteractiveButtonsReply"]

    sandbox.inject_button_tap(instance, chat, button_text="No")
    sandbox.inject_incoming_text(instance, chat, "and deliver at 5 pm please")
    out = _run(mode, block, "green_api_get_notifications", {"maxNotifications": 10, "receiveTimeout": 5})
    bodies = [n["body"] for n in out["notifications"]]
    assert [b["messageData"]["typeMessage"] for b in bodies] == ["interactiveButtonsResponse", "textMessage"]
    tap = bodies[0]["messageData"]["interactiveButtonsResponse"]
    assert (tap["selectedId"], tap["selectedDisplayText"], tap["stanzaId"]) == (
        "2",
        "No",
        sent_buttons["idMessage"],
    )
    assert out["receiptId"] == out["notifications"][-1]["receiptId"]
    assert sandbox.notifications(instance) == [], "both were deleted after they were handed back"
    assert _run(mode, block, "green_api_get_notifications", {}) == {"notifications": [], "receiptId": None}
    block.close()


@pytest.mark.green_api_sandbox(max_receive_wait=None)  # faithful long poll: holds up to receiveTimeout
def test_long_poll_returns_as_soon_as_a_message_arrives(sandbox: Sandbox, instance: SandboxInstance) -> None:
    with GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        api_token=instance.api_token,
        credentials_from_env=False,
        rate_limits=False,
    ) as block:
        # The message arrives while the poll is held (the sandbox has peeked the empty queue),
        # not at a guessed moment that a slow machine may reach before the poll does.
        held = threading.Event()
        peek = sandbox.backend.peek

        def peeking(id_instance: str) -> Notification | None:
            item = peek(id_instance)
            held.set()
            return item

        sandbox.backend.peek = peeking  # type: ignore[method-assign]

        def arrive() -> None:
            if held.wait(30):
                sandbox.inject_incoming_text(instance, "79001234567@c.us", "late")

        sender = threading.Thread(target=arrive, name="late-message")
        sender.start()
        started = time.monotonic()
        out = block.execute("green_api_get_notifications", {"receiveTimeout": 60})
        elapsed = time.monotonic() - started
        sender.join(30)
    assert held.is_set()
    assert out["notifications"][0]["body"]["messageData"]["textMessageData"]["textMessage"] == "late"
    # The hold is 60 s: an answer well short of it came with the message, not at the hold's end
    # (30 s is slack for a loaded machine, not a measure of speed).
    assert elapsed < 30


def test_sandbox_fault_drop_after_send_is_reported_not_resent(
    sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.inject_fault("drop_after", method="sendMessage", times=1)
    for async_transport in ("aiohttp", "httpcore"):
        block = GreenApiBlock(
            sandbox.url,
            id_instance=instance.id_instance,
            api_token=instance.api_token,
            retry=FAST,
            async_transport=async_transport,
            credentials_from_env=False,
        )
        before = len(sandbox.sent_messages(instance))
        with pytest.raises(GreenApiError) as info:
            if async_transport == "aiohttp":
                block.execute("green_api_send_message", {"chatId": "79001234567@c.us", "message": "once"})
            else:
                asyncio.run(
                    block.aexecute(
                        "green_api_send_message", {"chatId": "79001234567@c.us", "message": "once"}
                    )
                )
        assert info.value.code == "outcome_unknown"
        assert len(sandbox.sent_messages(instance)) == before + 1, "recorded once, never re-sent"
        sandbox.inject_fault("drop_after", method="sendMessage", times=1)
        block.close()
    sandbox.clear_faults()


def test_wrong_token_and_unknown_instance(sandbox: Sandbox, instance: SandboxInstance) -> None:
    block = GreenApiBlock(sandbox.url, credentials_from_env=False)
    with pytest.raises(GreenApiError) as info:
        block.execute(
            "green_api_get_state_instance", {"idInstance": instance.id_instance, "apiTokenInstance": "0" * 50}
        )
    assert info.value.code == "unauthorized"
    with pytest.raises(GreenApiError) as info:
        block.execute(
            "green_api_get_state_instance",
            {"idInstance": "9999999999", "apiTokenInstance": instance.api_token},
        )
    assert info.value.code == "forbidden"
    sandbox.set_state(instance, "notAuthorized")
    with pytest.raises(GreenApiError) as info:
        block.execute(
            "green_api_send_message",
            {
                "idInstance": instance.id_instance,
                "apiTokenInstance": instance.api_token,
                "chatId": "79001234567@c.us",
                "message": "x",
            },
        )
    assert info.value.code == "instance_not_authorized"
    block.close()


def test_find_sent_after_outcome_unknown(sandbox: Sandbox, instance: SandboxInstance) -> None:
    block = GreenApiBlock(
        sandbox.url,
        id_instance=instance.id_instance,
        api_token=instance.api_token,
        retry=FAST,
        credentials_from_env=False,
        rate_limits=False,  # not under test: lastOutgoingMessages (1 rps) would cost 1.1 s per find_sent
    )
    sandbox.inject_fault("drop_after", method="sendMessage", times=1)
    with pytest.raises(GreenApiError) as info:
        block.execute(
            "green_api_send_message", {"chatId": "79001234567@c.us", "message": "Your code is 4242"}
        )
    assert info.value.outcome_unknown
    found = block.find_sent("79001234567@c.us", message="Your code is 4242", minutes=5)
    assert found is not None and found["idMessage"] == sandbox.sent_messages(instance)[-1].id_message
    assert block.find_sent("79001234567@c.us", message="never sent", minutes=5) is None
    assert asyncio.run(block.afind_sent("79001234567@c.us", id_message=found["idMessage"])) is not None
    n = sandbox.inject_incoming_text(instance, "79001234567@c.us", "hi")
    got = block.execute("green_api_get_notifications", {"deleteAfterReceive": False})
    receipt = got["receiptId"]
    assert block.delete_notification(receipt) is True
    assert block.delete_notification(receipt) is False
    assert n is not None
    block.close()
