"""find_sent by a tool's whole payload, and only after ``since``: what a retried send relies on.

Each send tool: its own message is found after it was sent; an identical message sent before
``since`` is not; a message that differs in any part of the payload is not (a file without a
caption must not match the chat's last message of any kind).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from green_api_block import GreenApiBlock
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.clock import ShiftedClock

CHAT = "79001234567@c.us"

TEXT: dict[str, Any] = {"chatId": CHAT, "message": "Your order 17 is confirmed"}
FILE: dict[str, Any] = {
    "chatId": CHAT,
    "urlFile": "https://example.org/files/receipt.pdf",
    "fileName": "receipt.pdf",
}
IMAGE: dict[str, Any] = {
    "chatId": CHAT,
    "urlFile": "https://example.org/img/photo.jpg",
    "fileName": "photo.jpg",
}
BUTTONS: dict[str, Any] = {
    "chatId": CHAT,
    "message": "Confirm order 17?",
    "footer": "Shop",
    "buttons": [{"buttonText": "Confirm"}, {"buttonText": "Cancel", "buttonId": "no"}],
}
SENDS: dict[str, dict[str, Any]] = {
    "green_api_send_message": TEXT,
    "green_api_send_file": FILE,
    "green_api_send_buttons": BUTTONS,
}


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def sandbox_at(clock: ShiftedClock) -> Iterator[Sandbox]:
    with Sandbox(rate_limits=False, clock=clock) as sb:
        yield sb


@pytest.fixture
def inst(sandbox_at: Sandbox) -> SandboxInstance:
    return sandbox_at.create_instance()


@pytest.fixture
def block(sandbox_at: Sandbox, inst: SandboxInstance) -> Iterator[GreenApiBlock]:
    with GreenApiBlock(
        sandbox_at.url,
        id_instance=inst.id_instance,
        api_token=inst.api_token,
        credentials_from_env=False,
        rate_limits=False,  # lastOutgoingMessages is 1 rps: not what is under test
    ) as b:
        yield b


@pytest.mark.parametrize("tool", list(SENDS))
def test_a_send_is_found_by_its_payload(block: GreenApiBlock, tool: str) -> None:
    since = time.time()
    assert block.find_sent(tool=tool, args=SENDS[tool], since=since) is None
    sent = block.execute(tool, SENDS[tool])
    found = block.find_sent(tool=tool, args=SENDS[tool], since=since)
    assert found is not None and found["idMessage"] == sent["idMessage"]
    again = asyncio.run(block.afind_sent(tool=tool, args=SENDS[tool], since=since))
    assert again is not None and again["idMessage"] == sent["idMessage"]


@pytest.mark.parametrize("tool", list(SENDS))
def test_an_identical_earlier_message_in_the_journal_window_does_not_match(
    block: GreenApiBlock, clock: ShiftedClock, tool: str
) -> None:
    clock.set(-60.0)  # a minute before the send in question began: well inside the journal window
    earlier = block.execute(tool, SENDS[tool])
    clock.set(0.0)
    since = time.time()
    # Found without ``since`` (the window reaches it), not with it.
    assert block.find_sent(tool=tool, args=SENDS[tool], minutes=5) is not None
    assert block.find_sent(tool=tool, args=SENDS[tool], since=since) is None
    sent = block.execute(tool, SENDS[tool])
    found = block.find_sent(tool=tool, args=SENDS[tool], since=since)
    assert found is not None and found["idMessage"] == sent["idMessage"] != earlier["idMessage"]


def test_buttons_are_found_after_a_successful_send(block: GreenApiBlock) -> None:
    # The old lookup knew no button message: a retry would have sent the buttons twice.
    sent = block.execute("green_api_send_buttons", BUTTONS)
    found = block.find_sent(CHAT, message=BUTTONS["message"], minutes=5)
    assert found is not None and found["idMessage"] == sent["idMessage"]


@pytest.mark.parametrize(
    "other",
    [
        {**BUTTONS, "message": "Confirm order 18?"},
        {**BUTTONS, "footer": "Another shop"},
        {**BUTTONS, "buttons": [{"buttonText": "Confirm"}, {"buttonText": "Cancel"}]},  # id "2", not "no"
        {**BUTTONS, "buttons": [{"buttonText": "Confirm"}]},
    ],
    ids=["body", "footer", "button-id", "button-count"],
)
def test_buttons_that_differ_do_not_match(block: GreenApiBlock, other: dict[str, Any]) -> None:
    since = time.time()
    block.execute("green_api_send_buttons", other)
    assert block.find_sent(tool="green_api_send_buttons", args=BUTTONS, since=since) is None


def test_a_file_without_caption_does_not_match_the_chats_last_text(block: GreenApiBlock) -> None:
    since = time.time()
    block.execute("green_api_send_message", TEXT)
    for args in (FILE, IMAGE):
        assert block.find_sent(tool="green_api_send_file", args=args, since=since) is None
    sent = block.execute("green_api_send_file", IMAGE)
    found = block.find_sent(tool="green_api_send_file", args=IMAGE, since=since)
    assert found is not None and found["idMessage"] == sent["idMessage"]


def test_files_that_differ_do_not_match(block: GreenApiBlock) -> None:
    since = time.time()
    block.execute("green_api_send_file", {**FILE, "caption": "your receipt"})
    block.execute("green_api_send_file", {**FILE, "fileName": "invoice.pdf"})
    assert block.find_sent(tool="green_api_send_file", args=FILE, since=since) is None


def test_a_text_must_match_exactly(block: GreenApiBlock) -> None:
    since = time.time()
    block.execute("green_api_send_message", {**TEXT, "message": TEXT["message"] + "!"})
    block.execute("green_api_send_buttons", {**BUTTONS, "message": TEXT["message"]})  # same words
    assert block.find_sent(tool="green_api_send_message", args=TEXT, since=since) is None


def test_the_lookup_refuses_what_is_not_a_send(block: GreenApiBlock) -> None:
    with pytest.raises(TypeError):
        block.find_sent(tool="green_api_get_state_instance", args={})
    with pytest.raises(TypeError):
        block.find_sent(CHAT, tool="green_api_send_message", args=TEXT)
