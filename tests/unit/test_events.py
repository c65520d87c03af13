"""The event model: documented shapes map to flat fields; no JSON object makes it raise; the key."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from green_api_block.events import Event, event_key
from green_api_block.sandbox import notifications as nb

INSTANCE = nb.instance_data("1101000001", "79990000000@c.us")
CHAT = "79001234567@c.us"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


def _message(data: dict[str, Any], chat: str = CHAT) -> dict[str, Any]:
    sender = (
        nb.sender_data(chat, CHAT, "Ann") if chat.endswith("@g.us") else nb.sender_data(chat, chat, "Ann")
    )
    return nb.message_notification(
        "incomingMessageReceived", INSTANCE, timestamp=1, id_message="M1", sender=sender, message_data=data
    )


def test_a_text_message() -> None:
    event = Event.from_body(_message(nb.text_data("hi")))
    assert (event.text, event.chatType, event.sender, event.idMessage, event.idInstance) == (
        "hi", "personal", CHAT, "M1", 1101000001
    )  # fmt: skip


def test_every_tap_spelling_gives_one_button() -> None:
    for variant in nb.BUTTON_REPLY_VARIANTS:
        data = nb.button_reply_data(
            variant, stanza_id="S1", selected_index=0, selected_id="yes", selected_text="Ok"
        )
        event = Event.from_body(_message(data))
        assert (event.buttonId, event.buttonText, event.text, event.quotedMessageId) == (
            "yes",
            "Ok",
            "Ok",
            "S1",
        )
    third_party = {"typeMessage": "interactiveButtonsResponse",
                   "interactiveButtonsResponse": {"stanzaId": "S1", "selectedButtonId": "no",
                                                  "selectedButtonText": "No"}}  # fmt: skip
    assert Event.from_body(_message(third_party)).buttonId == "no"


def test_statuses_of_one_message_get_three_keys_and_a_repeat_one() -> None:
    bodies = [
        nb.outgoing_status(INSTANCE, chat_id=CHAT, id_message="M1", status=s, timestamp=1)
        for s in ("sent", "delivered", "read")
    ]
    keys = {event_key(Event.from_body(b)) for b in bodies}
    assert len(keys) == 3
    assert event_key(Event.from_body(bodies[0])) == event_key(Event.from_body(dict(bodies[0])))
    other_chat = nb.outgoing_status(
        INSTANCE, chat_id="79005550000@c.us", id_message="M1", status="sent", timestamp=1
    )
    assert event_key(Event.from_body(other_chat)) not in keys


def test_bodies_without_an_id_are_keyed_by_content() -> None:
    a = nb.state_changed(INSTANCE, state="notAuthorized", timestamp=1)
    b = nb.state_changed(INSTANCE, state="authorized", timestamp=1)
    assert event_key(Event.from_body(a)) != event_key(Event.from_body(b))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
def test_no_json_object_makes_it_raise(body: dict[str, Any]) -> None:
    event = Event.from_body(body)
    assert event.raw == body


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["typeWebhook", "instanceData", "senderData", "messageData", "idMessage"]), json_values
)
def test_any_field_replaced_by_any_value(field: str, value: Any) -> None:
    body = _message(nb.text_data("hi"))
    body[field] = value
    Event.from_body(body)
