"""The webhook trigger in the manifest: one definition, checked against the code it describes.

Drift in either direction fails here: an Event field without an output (or an output without a
field, or with a type the values do not have), a WebhookFilter field without a sub-block (or a
filter sub-block that maps to no field), a manifest that does not carry the definition.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from green_api_block.contract import load_manifest
from green_api_block.events import Event
from green_api_block.sandbox import notifications as nb
from green_api_block.trigger import (
    EVENT_TYPES,
    FILTER_SUB_BLOCK_IDS,
    TRIGGER,
    TRIGGER_ID,
    WEBHOOK_TOKEN_ID,
    WEBHOOK_URL_ID,
    build_trigger,
    filter_from_values,
    filter_values,
    sim_type,
)
from green_api_block.webhook import WebhookFilter

INSTANCE = nb.instance_data("1101000001", "79990000000@c.us")
CHAT = "79001234567@c.us"
GROUP = "120363043968066561@g.us"

# What each Sim type may hold once an event is dumped to JSON (what a later block receives).
PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "json": (dict, list),
}


def _message(data: dict[str, Any]) -> dict[str, Any]:
    return nb.message_notification(
        "incomingMessageReceived",
        INSTANCE,
        timestamp=1,
        id_message="M1",
        sender=nb.sender_data(CHAT, CHAT, "Ann"),
        message_data=data,
    )


def _sample_events() -> list[Event]:
    """Bodies that between them fill every event field (checked below)."""
    bodies = [
        _message(nb.text_data("hi")),
        _message(nb.file_data("https://x.test/a.jpg", "a.jpg", caption="look")),
        _message(nb.location_data(55.75, 37.62, name="Red Square", address="Moscow")),
        _message(nb.contact_data("Bob", nb.vcard("Bob", "79001112233"))),
        _message(
            nb.button_reply_data(
                nb.BUTTON_REPLY_VARIANTS[0],
                stanza_id="S1",
                selected_index=0,
                selected_id="yes",
                selected_text="Confirm",
            )
        ),
        nb.outgoing_status(INSTANCE, chat_id=CHAT, id_message="M2", status="delivered", timestamp=2),
        nb.state_changed(INSTANCE, state="authorized", timestamp=3),
    ]
    return [Event.from_body(body) for body in bodies]


def test_the_manifest_carries_the_trigger_and_the_block_opts_in() -> None:
    manifest = load_manifest()
    assert manifest["triggers"]["enabled"] is True
    assert manifest["triggers"]["available"] == [TRIGGER_ID]
    assert manifest["triggers"]["items"] == [dict(TRIGGER)] == [build_trigger()]
    trigger = manifest["triggers"]["items"][0]
    # Sim Studio's TriggerConfig keys (ENGINES.md §2), nothing missing.
    assert {"id", "name", "provider", "description", "version", "subBlocks", "outputs", "webhook"} <= set(
        trigger
    )
    assert trigger["id"] == "green_api_webhook" and trigger["provider"] == "green_api"
    assert trigger["webhook"] == {"method": "POST"}
    ids = [s["id"] for s in trigger["subBlocks"]]
    assert len(ids) == len(set(ids)), "sub-block ids are unique"


def test_outputs_are_the_event_fields_with_their_types() -> None:
    outputs = TRIGGER["outputs"]
    assert list(outputs) == list(Event.model_fields), "one output per Event field, in the model's order"
    for name, spec in outputs.items():
        assert set(spec) == {"type", "description"}, name
        assert spec["type"] in PYTHON_TYPES, name
        info = Event.model_fields[name]
        if info.description:
            assert spec["description"].startswith(info.description), name
    # The wiring a workflow author relies on most, spelled out.
    assert outputs["text"]["type"] == "string"
    assert outputs["timestamp"]["type"] == outputs["idInstance"]["type"] == "number"
    assert outputs["chatType"]["type"] == "string"  # a Literal of strings
    assert outputs["file"]["type"] == outputs["location"]["type"] == outputs["raw"]["type"] == "json"
    assert "latitude" in outputs["location"]["description"]


def test_every_output_type_is_the_type_its_values_have() -> None:
    """Real events, dumped as a later block gets them: each value has its declared type."""
    seen: set[str] = set()
    for event in _sample_events():
        for name, value in event.model_dump(mode="json").items():
            if value is None:
                continue
            seen.add(name)
            declared = TRIGGER["outputs"][name]["type"]
            assert isinstance(value, PYTHON_TYPES[declared]), (name, declared, value)
            if declared == "number":
                assert not isinstance(value, bool), name
    assert seen == set(Event.model_fields), f"no sample fills {set(Event.model_fields) - seen}"


def test_sim_type_of_annotations() -> None:
    class Nested(BaseModel):
        a: int = 0

    assert sim_type(str | None) == "string"
    assert sim_type(bool) == "boolean"
    assert sim_type(int | None) == sim_type(float) == "number"
    assert sim_type(dict[str, Any]) == sim_type(Nested | None) == sim_type(list[str]) == "json"
    assert sim_type(int | str) == "json"  # no single Sim type


def test_filter_sub_blocks_are_the_webhook_filter_fields_both_ways() -> None:
    subs = {s["id"]: s for s in TRIGGER["subBlocks"]}
    filter_ids = [i for i in subs if i not in (WEBHOOK_URL_ID, WEBHOOK_TOKEN_ID)]
    assert filter_ids == list(FILTER_SUB_BLOCK_IDS)
    # Every filter field has a sub-block, and every filter sub-block sets its field: set each one
    # alone and see exactly that field of the filter change.
    values: dict[str, Any] = {
        "eventTypes": ["incomingMessageReceived"],
        "chatTypes": ["group"],
        "chatIds": GROUP,
        "includeOwnSends": True,
    }
    assert set(values) == set(filter_ids)
    default = WebhookFilter()
    changed = set()
    for sub_id, value in values.items():
        got = filter_from_values({sub_id: value})
        diff = {name for name in WebhookFilter.model_fields if getattr(got, name) != getattr(default, name)}
        assert len(diff) == 1, (sub_id, diff)
        changed |= diff
    assert changed == set(WebhookFilter.model_fields)
    # And the switch's default is the filter's.
    assert subs["includeOwnSends"]["default"] is WebhookFilter.model_fields["include_own_sends"].default


def test_the_url_and_token_sub_blocks() -> None:
    subs = {s["id"]: s for s in TRIGGER["subBlocks"]}
    assert subs[WEBHOOK_URL_ID]["readOnly"] is True and subs[WEBHOOK_URL_ID]["copyable"] is True
    token = subs[WEBHOOK_TOKEN_ID]
    assert token["control"] == "password" and token["password"] is True and token["secret"] is True
    event_types = subs["eventTypes"]
    assert event_types["multiSelect"] is True
    assert [o["id"] for o in event_types["options"]] == [value for value, _ in EVENT_TYPES]
    assert [o["id"] for o in subs["chatTypes"]["options"]] == ["personal", "group"]


def test_filter_from_values_behaves_like_the_receiver_expects() -> None:
    f = filter_from_values(
        {
            WEBHOOK_URL_ID: "https://bot.example/green-api",  # not a filter: ignored
            "eventTypes": ["incomingMessageReceived", "outgoingMessageStatus"],
            "chatTypes": [],  # an empty multi-select: no filter, not "keep nothing"
            "chatIds": "79001234567\n" + GROUP + ", ",
            "includeOwnSends": None,
        }
    )
    assert f.event_types == frozenset({"incomingMessageReceived", "outgoingMessageStatus"})
    assert f.chat_types is None and f.include_own_sends is False
    assert f.chat_ids == frozenset({CHAT, GROUP})
    assert filter_from_values({}) == WebhookFilter()
    assert filter_from_values(filter_values(f)) == f
    # It filters real events the way the sub-blocks say.
    text, *_, status, state = _sample_events()
    assert f.accepts(text) and f.accepts(status) and not f.accepts(state)
    with pytest.raises(ValueError, match="chatIdz"):
        filter_from_values({"chatIdz": CHAT})  # a typo must not widen the filter
    with pytest.raises(ValidationError):
        filter_from_values({"chatTypes": ["channel"]})
    with pytest.raises(ValidationError):
        filter_from_values({"eventTypes": "incomingMessageReceived"})  # one string, not a list
