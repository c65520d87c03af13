"""The safety switches, against the sandbox: allowlist, dry run, send cap."""

from __future__ import annotations

import asyncio

import pytest

from green_api_block import ConfigError, GreenApiBlock, InputValidationError, RateLimitError
from green_api_block.errors import OutcomeUnknownError
from green_api_block.guard import (
    Guard,
    RecipientNotAllowedError,
    SendLimitReachedError,
    parse_chat_list,
)
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.agents import CUSTOMER, GROUP, SANDBOX, STRANGER, assert_no_canary

pytestmark = SANDBOX

SEND = "green_api_send_message"


def send(chat: str = CUSTOMER, text: str = "hi") -> dict[str, str]:
    return {"chatId": chat, "message": text}


def test_allowlist_entries_are_normalised_like_tool_input() -> None:
    chats = parse_chat_list(" +7 900 123-45-67 ,120363043968066561@g.us,, 79001234567@s.whatsapp.net\n")
    assert chats == {CUSTOMER, GROUP}
    with pytest.raises(ConfigError, match=r"entry 2 \('not-a-chat'\)"):
        parse_chat_list("79001234567,not-a-chat")


def test_switches_from_the_environment_and_arguments_win() -> None:
    env = {"GREEN_API_ALLOWED_CHATS": "79001234567", "GREEN_API_DRY_RUN": "yes", "GREEN_API_MAX_SENDS": "3"}
    guard = Guard.from_env(env)
    assert (guard.allowed_chats, guard.dry_run, guard.max_sends) == (frozenset({CUSTOMER}), True, 3)
    guard = Guard.from_env(env, allowed_chats=[GROUP], dry_run=False, max_sends=0)
    assert (guard.allowed_chats, guard.dry_run, guard.max_sends) == (frozenset({GROUP}), False, 0)
    assert not Guard.from_env({}).active
    with pytest.raises(ConfigError, match="GREEN_API_DRY_RUN"):
        Guard.from_env({"GREEN_API_DRY_RUN": "maybe"})
    with pytest.raises(ConfigError, match="GREEN_API_MAX_SENDS"):
        Guard.from_env({"GREEN_API_MAX_SENDS": "-1"})


def test_allowlist_refuses_other_chats_and_sends_to_allowed_ones(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    guard = Guard(allowed_chats=["+7 900 123 45 67"])
    assert guard.execute(block, SEND, send("79001234567"))["success"] is True
    with pytest.raises(RecipientNotAllowedError, match=f"{STRANGER} is not on") as refused:
        guard.execute(block, SEND, send(STRANGER))
    assert CUSTOMER in str(refused.value)  # the model learns which chats it may use
    envelope = guard.invoke(
        block, "green_api_send_file", {"chatId": GROUP, "urlFile": "https://x.org/a.pdf", "fileName": "a.pdf"}
    )
    assert envelope["ok"] is False and envelope["error"]["code"] == "recipient_not_allowed"
    assert [m.chat_id for m in sandbox.sent_messages(instance)] == [CUSTOMER]
    # Reads are not recipient-bound.
    assert guard.execute(block, "green_api_get_state_instance", {}) == {"stateInstance": "authorized"}


def test_dry_run_reports_the_wire_request_and_sends_nothing(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    guard = Guard(dry_run=True, allowed_chats=[CUSTOMER])
    report = guard.execute(block, SEND, send("+7 (900) 123-45-67", "Order #42"))
    assert report == {
        "dryRun": True,
        "wouldCall": "sendMessage",
        "chatId": CUSTOMER,
        "body": {"chatId": CUSTOMER, "message": "Order #42"},
    }
    buttons = {
        "chatId": CUSTOMER,
        "message": "Confirm?",
        "buttons": [{"buttonText": "Yes"}, {"buttonText": "No"}],
    }
    report = guard.execute(block, "green_api_send_buttons", buttons)
    assert report["wouldCall"] == "sendInteractiveButtonsReply"
    assert [b["buttonId"] for b in report["body"]["buttons"]] == ["1", "2"]
    # The allowlist still applies, and bad input is still bad input.
    with pytest.raises(RecipientNotAllowedError):
        guard.execute(block, SEND, send(STRANGER))
    with pytest.raises(InputValidationError):
        guard.execute(block, SEND, {"chatId": CUSTOMER})
    assert sandbox.sent_messages(instance) == []
    assert guard.sends_used == 0
    assert_no_canary(report)


def test_dry_run_never_deletes_notifications(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.inject_incoming_text(instance, CUSTOMER, "hello")
    guard = Guard(dry_run=True)
    first = guard.execute(block, "green_api_get_notifications", {"deleteAfterReceive": True})
    second = guard.execute(block, "green_api_get_notifications", {})
    assert first["receiptId"] is not None and first == second
    assert len(sandbox.notifications(instance)) == 1


def test_send_cap_counts_sends_and_gives_back_refused_ones(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    guard = Guard(max_sends=2)
    guard.execute(block, SEND, send())
    # Bad input never reaches Green API: it costs nothing.
    with pytest.raises(InputValidationError):
        guard.execute(block, SEND, send("nobody"))
    # Refused by Green API (429 on a send: nothing was sent): the slot comes back.
    sandbox.inject_fault("status", method="sendMessage", status=429, retry_after=120)
    with pytest.raises(RateLimitError):
        guard.execute(block, SEND, send())
    assert guard.sends_used == 1
    # The answer was lost after the send went out: it may have been sent, the slot is kept.
    sandbox.inject_fault("drop_after", method="sendMessage")
    with pytest.raises(OutcomeUnknownError):
        guard.execute(block, SEND, send())
    assert (guard.sends_used, guard.sends_left) == (2, 0)
    with pytest.raises(SendLimitReachedError, match="limit of 2 messages"):
        guard.execute(block, SEND, send())
    assert len(sandbox.sent_messages(instance)) == 2


async def test_send_cap_holds_under_concurrency(
    block: GreenApiBlock, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    guard = Guard(max_sends=3)
    results = await asyncio.gather(*(guard.ainvoke(block, SEND, send(text=f"m{i}")) for i in range(6)))
    codes = sorted(r["error"]["code"] if not r["ok"] else "ok" for r in results)
    assert codes == ["ok"] * 3 + ["send_limit_reached"] * 3
    assert len(sandbox.sent_messages(instance)) == 3
    await block.aclose()


def test_notes_tell_the_model_about_the_switches() -> None:
    guard = Guard(allowed_chats=[CUSTOMER], dry_run=True, max_sends=5)
    notes = " ".join(guard.notes(SEND))
    assert "DRY RUN" in notes and CUSTOMER in notes and "At most 5" in notes
    assert guard.notes("green_api_get_state_instance") == []
    assert Guard().notes(SEND) == []
