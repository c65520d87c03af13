"""The sandbox backend without HTTP: instances, queues, settings gating, states, limits, quota."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from green_api_block.sandbox import APIError, SandboxBackend, SandboxError
from green_api_block.sandbox import notifications as nb
from green_api_block.sandbox.faults import FaultInjector
from green_api_block.sandbox.state import NOTIFICATION_TTL
from tests.support.clock import FakeClock

CHAT = "79001234567@c.us"
ALL_ON = {
    "incomingWebhook": "yes",
    "outgoingWebhook": "yes",
    "outgoingAPIMessageWebhook": "yes",
    "stateWebhook": "yes",
}


def backend(**kwargs: Any) -> SandboxBackend:
    kwargs.setdefault("rate_limits", False)
    return SandboxBackend(**kwargs)


def send(b: SandboxBackend, id_instance: str, text: str = "hi", chat: str = CHAT) -> str:
    return b.record_send(id_instance, "sendMessage", {"chatId": chat, "message": text}).id_message


# ------------------------------------------------------------------------------- instances


def test_generated_credentials_look_like_green_apis() -> None:
    b = backend()
    one, two = b.create_instance(), b.create_instance()
    for inst in (one, two):
        assert re.fullmatch(r"\d{10}", inst.id_instance)
        assert re.fullmatch(r"[0-9a-f]{50}", inst.api_token)
        assert re.fullmatch(r"\d{11}@c\.us", inst.wid)
    assert one.id_instance != two.id_instance and one.api_token != two.api_token
    assert one.api_token not in repr(one)  # kept out of test reports


def test_explicit_credentials_and_misuse() -> None:
    b = backend()
    inst = b.create_instance(id_instance="1101000001", api_token="t" * 50, state="starting")
    assert (inst.id_instance, inst.api_token) == ("1101000001", "t" * 50)
    assert b.get_state("1101000001") == "starting"
    with pytest.raises(SandboxError, match="already exists"):
        b.create_instance(id_instance="1101000001")
    with pytest.raises(SandboxError, match="unknown state"):
        b.create_instance(state="online")
    with pytest.raises(SandboxError, match="digits"):
        b.create_instance(id_instance="abc")
    with pytest.raises(SandboxError, match="must not contain"):
        b.create_instance(api_token="a/b")


def test_authenticate_unknown_instance_is_403_and_wrong_token_401() -> None:
    b = backend()
    inst = b.create_instance()
    b.authenticate(inst.id_instance, inst.api_token)
    with pytest.raises(APIError) as unknown:
        b.authenticate("1999999999", inst.api_token)
    with pytest.raises(APIError) as wrong:
        b.authenticate(inst.id_instance, "0" * 50)
    assert (unknown.value.status, wrong.value.status) == (403, 401)


def test_settings_start_as_the_service_sets_them() -> None:
    b = backend()
    settings = b.get_settings(b.create_instance(wid="79990000000@c.us").id_instance)
    assert settings["wid"] == "79990000000@c.us"
    assert settings["webhookUrl"] == ""
    flags = {k: v for k, v in settings.items() if k.endswith("Webhook")}
    assert flags and set(flags.values()) == {"no"}  # every switch off after creation (§10.2)


# ------------------------------------------------------------------------------- queue


def test_head_comes_back_until_deleted_then_fifo() -> None:
    b = backend()
    inst = b.create_instance(settings={"outgoingAPIMessageWebhook": "yes"})
    ids = [send(b, inst.id_instance, f"m{i}") for i in range(3)]
    head = b.peek(inst.id_instance)
    assert head is not None and head.body["idMessage"] == ids[0]
    assert b.peek(inst.id_instance) == head  # same item again
    assert b.delete(inst.id_instance, head.receipt_id) is True
    assert b.delete(inst.id_instance, head.receipt_id) is False  # already gone
    assert b.delete(inst.id_instance, 10**9) is False  # never existed
    rest = [b.pending(inst.id_instance)[i].body["idMessage"] for i in range(2)]
    assert rest == ids[1:]


def test_receipt_ids_increase_across_instances_and_reset() -> None:
    b = backend()
    a, c = b.create_instance(), b.create_instance()
    r1 = b.enqueue(a.id_instance, {"typeWebhook": "x"}).receipt_id
    r2 = b.enqueue(c.id_instance, {"typeWebhook": "x"}).receipt_id
    b.reset()
    d = b.create_instance()
    r3 = b.enqueue(d.id_instance, {"typeWebhook": "x"}).receipt_id
    assert r1 is not None and r2 is not None and r3 is not None
    assert r1 < r2 < r3


def test_items_expire_after_24_hours() -> None:
    mono = FakeClock(1000.0)
    b = backend(monotonic=mono)
    inst = b.create_instance()
    b.enqueue(inst.id_instance, {"typeWebhook": "old"})
    mono.now += NOTIFICATION_TTL - 1
    b.enqueue(inst.id_instance, {"typeWebhook": "new"})
    assert len(b.pending(inst.id_instance)) == 2
    mono.now += 2
    assert [n.body["typeWebhook"] for n in b.pending(inst.id_instance)] == ["new"]


def test_a_webhook_url_stops_polling() -> None:
    b = backend()
    inst = b.create_instance()
    b.enqueue(inst.id_instance, {"typeWebhook": "x"})
    b.set_settings(inst.id_instance, {"webhookUrl": "https://example.org/hook"})
    assert b.peek(inst.id_instance) is None
    b.set_settings(inst.id_instance, {"webhookUrl": ""})
    assert b.peek(inst.id_instance) is not None


def test_listeners_hear_about_every_queued_item_only() -> None:
    b = backend()
    heard: list[str] = []
    b.add_listener(heard.append)
    inst = b.create_instance()  # all switches off
    send(b, inst.id_instance)
    assert heard == []  # filtered out: nothing to wake
    b.set_settings(inst.id_instance, {"outgoingWebhook": "yes"})
    send(b, inst.id_instance)
    assert heard == [inst.id_instance]


# ------------------------------------------------------------------------------- sends, notifications


def test_send_queues_nothing_while_switches_are_off() -> None:
    b = backend()
    inst = b.create_instance()
    send(b, inst.id_instance)
    assert b.pending(inst.id_instance) == []
    assert len(b.sent_messages(inst.id_instance)) == 1


def test_send_queues_api_message_then_status_in_documented_shapes() -> None:
    clock = FakeClock(1_718_000_000.0)
    b = backend(clock=clock)
    inst = b.create_instance(settings=ALL_ON, wid="79990000000@c.us")
    mid = send(b, inst.id_instance, "Order #42 is ready")
    assert re.fullmatch(r"[0-9A-F]{20}", mid)
    api_msg, status = (n.body for n in b.pending(inst.id_instance))
    instance_data = {
        "idInstance": int(inst.id_instance),
        "wid": "79990000000@c.us",
        "typeInstance": "whatsapp",
    }
    assert api_msg == {
        "typeWebhook": "outgoingAPIMessageReceived",
        "instanceData": instance_data,
        "timestamp": 1_718_000_000,
        "idMessage": mid,
        "senderData": {
            "chatId": CHAT,
            "chatName": "",
            "sender": "79990000000@c.us",
            "senderName": "Sandbox",
            "senderContactName": "",
        },
        "messageData": {
            "typeMessage": "textMessage",
            "textMessageData": {"textMessage": "Order #42 is ready"},
        },
    }
    assert status == {
        "typeWebhook": "outgoingMessageStatus",
        "chatId": CHAT,
        "instanceData": instance_data,
        "timestamp": 1_718_000_000,
        "idMessage": mid,
        "status": "sent",
        "sendByApi": True,
    }


def test_links_make_extended_text_unless_preview_is_off() -> None:
    b = backend()
    inst = b.create_instance(settings={"outgoingAPIMessageWebhook": "yes"})
    b.record_send(inst.id_instance, "sendMessage", {"chatId": CHAT, "message": "see https://example.org"})
    b.record_send(
        inst.id_instance,
        "sendMessage",
        {"chatId": CHAT, "message": "see https://example.org", "linkPreview": False},
    )
    kinds = [n.body["messageData"]["typeMessage"] for n in b.pending(inst.id_instance)]
    assert kinds == ["extendedTextMessage", "textMessage"]


@pytest.mark.parametrize(
    ("file_name", "type_message", "mime"),
    [
        ("photo.JPG", "imageMessage", "image/jpeg"),
        ("clip.mp4", "videoMessage", "video/mp4"),
        ("voice.ogg", "audioMessage", "audio/ogg"),
        ("invoice.pdf", "documentMessage", "application/pdf"),
        ("data.weird", "documentMessage", "application/octet-stream"),
    ],
)
def test_file_kind_follows_the_extension(file_name: str, type_message: str, mime: str) -> None:
    b = backend()
    inst = b.create_instance()
    payload = {"chatId": CHAT, "urlFile": "https://example.org/f", "fileName": file_name, "caption": "c"}
    sent = b.record_send(inst.id_instance, "sendFileByUrl", payload)
    assert sent.type_message == type_message
    entry = b.last_outgoing(inst.id_instance, 60)[0]
    assert entry["typeMessage"] == type_message
    assert (entry["fileName"], entry["mimeType"], entry["caption"]) == (file_name, mime, "c")
    assert entry["downloadUrl"] == "https://example.org/f"


def test_journal_lists_newest_first_in_the_documented_shape() -> None:
    clock = FakeClock(1_718_000_000.0)
    b = backend(clock=clock)
    inst = b.create_instance()
    first = send(b, inst.id_instance, "one")
    clock.now += 3600
    second = send(b, inst.id_instance, "two")
    journal = b.last_outgoing(inst.id_instance, 1440)
    assert [e["idMessage"] for e in journal] == [second, first]
    assert journal[0] == {
        "type": "outgoing",
        "idMessage": second,
        "timestamp": int(clock.now),
        "typeMessage": "textMessage",
        "chatId": CHAT,
        "textMessage": "two",
        "statusMessage": "sent",
        "sendByApi": True,
    }
    assert [e["idMessage"] for e in b.last_outgoing(inst.id_instance, 30)] == [second]


def test_button_messages_show_their_buttons_in_notifications() -> None:
    b = backend()
    inst = b.create_instance(settings={"outgoingAPIMessageWebhook": "yes"})
    buttons = [{"buttonId": "1", "buttonText": "Yes"}]
    b.record_send(
        inst.id_instance, "sendInteractiveButtonsReply", {"chatId": CHAT, "body": "Ok?", "buttons": buttons}
    )
    data = b.pending(inst.id_instance)[0].body["messageData"]
    assert data == {
        "typeMessage": "interactiveButtonsReply",
        "interactiveButtonsReply": {
            "header": "",
            "body": "Ok?",
            "footer": "",
            "buttons": [{"type": "reply", "buttonId": "1", "buttonText": "Yes"}],
        },
    }


def test_status_changes_are_queued_and_failures_always_are() -> None:
    b = backend()
    inst = b.create_instance()  # outgoingWebhook off
    mid = send(b, inst.id_instance)
    assert b.set_message_status(inst.id_instance, mid, "delivered").receipt_id is None
    failed = b.set_message_status(inst.id_instance, mid, "failed", description="no such chat")
    assert (
        failed.queued and failed.body["status"] == "failed" and failed.body["description"] == "no such chat"
    )
    assert b.sent_messages(inst.id_instance)[0].status == "failed"
    with pytest.raises(SandboxError):
        b.set_message_status(inst.id_instance, "NOPE", "read")


# ------------------------------------------------------------------------------- states


def test_state_policy() -> None:
    b = backend()
    starting = b.create_instance(state="starting").id_instance
    unlinked = b.create_instance(state="notAuthorized").id_instance
    b.check_state(starting, "state")
    for kind in ("send", "receive", "account", "journal"):
        with pytest.raises(APIError, match="instance in starting process try later"):
            b.check_state(starting, kind)
    with pytest.raises(APIError, match="instance account not authorized") as err:
        b.check_state(unlinked, "send")
    assert err.value.status == 400
    b.check_state(unlinked, "receive")


def test_blocked_instance_queues_sends_until_authorized_again() -> None:
    b = backend()
    inst = b.create_instance(state="blocked", settings=ALL_ON)
    mid = send(b, inst.id_instance)
    assert b.sent_messages(inst.id_instance)[0].status == "pending"
    assert b.pending(inst.id_instance) == []
    b.set_state(inst.id_instance, "authorized")
    kinds = [n.body["typeWebhook"] for n in b.pending(inst.id_instance)]
    assert kinds == ["stateInstanceChanged", "outgoingAPIMessageReceived", "outgoingMessageStatus"]
    assert b.sent_messages(inst.id_instance)[0].status == "sent"
    assert b.pending(inst.id_instance)[2].body["idMessage"] == mid


def test_state_change_notification_needs_state_webhook() -> None:
    b = backend()
    quiet = b.create_instance()
    assert b.set_state(quiet.id_instance, "notAuthorized") is not None
    assert b.pending(quiet.id_instance) == []
    loud = b.create_instance(settings={"stateWebhook": "yes"})
    result = b.set_state(loud.id_instance, "notAuthorized")
    assert result is not None and result.queued
    body = b.pending(loud.id_instance)[0].body
    assert body["typeWebhook"] == "stateInstanceChanged" and body["stateInstance"] == "notAuthorized"
    assert body["instanceData"]["wid"] == ""  # no account linked
    assert b.set_state(loud.id_instance, "notAuthorized") is None  # no change, no notification


# ------------------------------------------------------------------------------- limits


def test_rate_limit_is_per_method_per_instance_and_refills() -> None:
    mono = FakeClock(0.0)
    b = SandboxBackend(monotonic=mono)
    one, two = b.create_instance().id_instance, b.create_instance().id_instance
    b.take_rate(one, "getStateInstance")
    with pytest.raises(APIError) as err:
        b.take_rate(one, "getStateInstance")
    assert err.value.status == 429 and err.value.retry_after == pytest.approx(1.0)
    b.take_rate(two, "getStateInstance")  # another instance has its own bucket
    b.take_rate(one, "getSettings")  # and another method
    mono.now += 1.0
    b.take_rate(one, "getStateInstance")


def test_send_methods_allow_a_burst_of_50() -> None:
    b = SandboxBackend(monotonic=FakeClock(0.0))
    inst = b.create_instance().id_instance
    for _ in range(50):
        b.take_rate(inst, "sendMessage")
    with pytest.raises(APIError):
        b.take_rate(inst, "sendMessage")
    for _ in range(50):  # an assumed 50 for the interactive-button methods, in their own bucket
        b.take_rate(inst, "sendInteractiveButtonsReply")
    with pytest.raises(APIError):
        b.take_rate(inst, "sendInteractiveButtonsReply")


def test_rate_limits_can_be_overridden_or_off() -> None:
    b = SandboxBackend(rate_limits={"getStateInstance": None}, monotonic=FakeClock(0.0))
    inst = b.create_instance().id_instance
    for _ in range(10):
        b.take_rate(inst, "getStateInstance")
    b.take_rate(inst, "getSettings")
    with pytest.raises(APIError):  # the other defaults still apply
        b.take_rate(inst, "getSettings")
    off = SandboxBackend(rate_limits=False)
    inst = off.create_instance().id_instance
    for _ in range(10):
        off.take_rate(inst, "getSettings")


def test_developer_plan_allows_three_chats_a_month() -> None:
    clock = FakeClock(1_719_700_000.0)  # 2024-06-29
    b = backend(clock=clock)
    inst = b.create_instance(plan="developer").id_instance
    for n in range(3):
        send(b, inst, chat=f"7900000000{n}@c.us")
    send(b, inst, chat="79000000000@c.us")  # a known chat stays allowed
    with pytest.raises(APIError) as err:
        send(b, inst, chat="79000000009@c.us")
    assert err.value.status == 466
    body = err.value.body
    assert body["invokeStatus"] == {"method": "sendmessage", "used": 5, "total": 0, "status": "QUOTE_ALLOWED"}
    chats = body["correspondentsStatus"]
    assert {k: chats[k] for k in ("method", "used", "total", "status")} == {
        "method": "correspondents",
        "used": 3,
        "total": 3,
        "status": "CORRESPONDENTS_QUOTE_EXCEEDED",
    }
    assert "79000000002@c.us" in chats["description"]
    assert len(b.sent_messages(inst)) == 4  # the refused one was not recorded
    clock.now += 3 * 86400  # July: counters reset
    send(b, inst, chat="79000000009@c.us")


def test_developer_plan_turns_a_fourth_incoming_chat_into_quota_exceeded() -> None:
    b = backend()
    inst = b.create_instance(plan="developer", settings={"incomingWebhook": "yes"}).id_instance
    for n in range(3):
        assert b.inject_incoming(inst, f"7900000000{n}@c.us", nb.text_data("hi")).delivered
    refused = b.inject_incoming(inst, "79000000009@c.us", nb.text_data("hi"))
    assert not refused.delivered and refused.queued
    assert refused.body["typeWebhook"] == "quotaExceeded"
    assert refused.body["quotaData"]["status"] == "CORRESPONDENTS_QUOTA_EXCEEDED"
    assert len(b.last_incoming(inst, 60)) == 3


def test_business_plan_has_no_quota() -> None:
    b = backend(quota=False)
    inst = b.create_instance().id_instance
    for n in range(5):
        send(b, inst, chat=f"7900000000{n}@c.us")
    assert backend(quota=True).create_instance() is not None


# ------------------------------------------------------------------------------- incoming


def test_incoming_text_and_quotes() -> None:
    b = backend()
    inst = b.create_instance(settings=ALL_ON, wid="79990000000@c.us").id_instance
    mine = send(b, inst, "Pick a time")
    reply = b.inject_incoming(inst, CHAT, nb.text_data("5 pm"), sender_name="Ann", quoted_message_id=mine)
    data = reply.body["messageData"]
    assert data["typeMessage"] == "textMessage"
    assert data["quotedMessage"] == {
        "stanzaId": mine,
        "participant": "79990000000@c.us",
        "typeMessage": "textMessage",
        "textMessage": "Pick a time",
    }
    assert reply.body["senderData"]["sender"] == CHAT and reply.body["senderData"]["senderName"] == "Ann"
    legacy = b.inject_incoming(
        inst, CHAT, nb.text_data("again"), quoted_message_id=reply.id_message, legacy_quote=True
    )
    assert legacy.body["messageData"]["typeMessage"] == "quotedMessage"
    assert legacy.body["messageData"]["extendedTextMessageData"] == {
        "text": "again",
        "stanzaId": reply.id_message,
        "participant": CHAT,
    }
    with pytest.raises(SandboxError, match="to quote"):
        b.inject_incoming(inst, CHAT, nb.text_data("x"), quoted_message_id="UNKNOWN")
    with pytest.raises(SandboxError, match="sender"):
        b.inject_incoming(inst, "120363043968066561@g.us", nb.text_data("x"))


def test_incoming_is_journaled_even_when_filtered_out() -> None:
    b = backend(default_settings={})
    inst = b.create_instance().id_instance
    result = b.inject_incoming(inst, CHAT, nb.text_data("hi"))
    assert result.delivered and not result.queued
    (entry,) = b.last_incoming(inst, 60)
    assert entry["textMessage"] == "hi" and entry["type"] == "incoming" and entry["senderId"] == CHAT


def test_calls_need_both_switches() -> None:
    b = backend()
    inst = b.create_instance(settings={"incomingWebhook": "yes"}).id_instance
    assert not b.inject_call(inst, CHAT).queued
    b.set_settings(inst, {"incomingCallWebhook": "yes"})
    call = b.inject_call(inst, CHAT, status="missed")
    assert call.queued
    assert {k: call.body[k] for k in ("typeWebhook", "from", "status")} == {
        "typeWebhook": "incomingCall",
        "from": CHAT,
        "status": "missed",
    }


# ------------------------------------------------------------------------------- builders


@pytest.mark.parametrize(
    ("variant", "key", "fields"),
    [
        ("interactiveButtonsResponse", "interactiveButtonsResponse", ("selectedId", "selectedDisplayText")),
        ("templateButtonsReplyMessage", "templateButtonReplyMessage", ("selectedId", "selectedDisplayText")),
        ("templateButtonReplyMessage", "templateButtonReplyMessage", ("selectedId", "selectedDisplayText")),
        ("buttonsResponseMessage", "buttonsResponseMessage", ("selectedButtonId", "selectedButtonText")),
    ],
)
def test_button_reply_spellings(variant: nb.ButtonReplyVariant, key: str, fields: tuple[str, str]) -> None:
    data = nb.button_reply_data(
        variant, stanza_id="BAE5", selected_index=1, selected_id="yes", selected_text="Ok"
    )
    assert data["typeMessage"] == variant
    assert data[key]["stanzaId"] == "BAE5"
    assert (data[key][fields[0]], data[key][fields[1]]) == ("yes", "Ok")
    with pytest.raises(ValueError):
        nb.button_reply_data("bogus", stanza_id="", selected_index=0, selected_id="", selected_text="")  # type: ignore[arg-type]


def test_location_contact_reaction_shapes() -> None:
    assert nb.location_data(55.75, 37.61, name="Office", address="Main st 1") == {
        "typeMessage": "locationMessage",
        "locationMessageData": {
            "latitude": 55.75,
            "longitude": 37.61,
            "nameLocation": "Office",
            "address": "Main st 1",
            "jpegThumbnail": "",
        },
    }
    contact = nb.contact_data("Bob", nb.vcard("Bob", "79001234567"))
    assert contact["typeMessage"] == "contactMessage"
    assert contact["contactMessageData"]["vcard"].startswith("BEGIN:VCARD")
    assert "waid=79001234567" in contact["contactMessageData"]["vcard"]
    assert nb.reaction_data("👍", "BAE5", CHAT) == {
        "typeMessage": "reactionMessage",
        "extendedTextMessageData": {"text": "👍"},
        "quotedMessage": {"stanzaId": "BAE5", "participant": CHAT},
    }


# ------------------------------------------------------------------------------- thread safety


def test_concurrent_writers_get_unique_increasing_receipts() -> None:
    b = backend()
    inst = b.create_instance(settings={"outgoingAPIMessageWebhook": "yes"}).id_instance
    barrier = threading.Barrier(8)

    def writer() -> None:
        barrier.wait()
        for i in range(100):
            send(b, inst, f"m{i}")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    receipts = [n.receipt_id for n in b.pending(inst)]
    assert len(receipts) == 800 == len(set(receipts))
    assert receipts == sorted(receipts)
    assert len({m.id_message for m in b.sent_messages(inst)}) == 800


# ------------------------------------------------------------------------------- fault rules


def test_fault_rules_match_count_down_and_roll_reproducibly() -> None:
    faults = FaultInjector()
    faults.add("status", method="sendMessage", instance="1", times=2, status=502)
    assert faults.take("2", "sendMessage") is None  # other instance
    assert faults.take("1", "getStateInstance") is None  # other method
    first, second = faults.take("1", "SENDMESSAGE"), faults.take("1", "sendMessage")
    assert first is not None and first is second and first.hits == 2
    assert faults.take("1", "sendMessage") is None  # used up

    def pattern(seed: int) -> list[bool]:
        f = FaultInjector()
        f.add("status", probability=0.3, seed=seed)
        return [f.take("1", "receiveNotification") is not None for _ in range(200)]

    assert pattern(7) == pattern(7)
    hits = sum(pattern(7))
    assert 30 < hits < 90  # about 30 % of 200, and unlimited without times=
    with pytest.raises(ValueError):
        faults.add("explode")
    with pytest.raises(ValueError):
        faults.add("status", probability=2)
