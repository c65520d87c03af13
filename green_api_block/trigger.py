"""The webhook trigger a builder shows: one definition, in Sim Studio's shape (ENGINES.md §2).

``TRIGGER`` is the single source of truth: :mod:`green_api_block.manifest` writes it into
``manifest.json`` (under ``triggers.items``), the preview draws its trigger view from that, and a
host that stored the sub-block values turns them into the receiver's filter with
:func:`filter_from_values`. Nothing here is hand-listed that the code already knows:

* the outputs are the :class:`~green_api_block.events.Event` model's fields, with Sim's types
  (string, number, boolean, json) read from the field annotations;
* the filter sub-blocks are :class:`~green_api_block.webhook.WebhookFilter`'s fields, one each,
  their ids the fields' names in camelCase (``event_types`` -> ``eventTypes``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from green_api_block.events import ChatType, Event
from green_api_block.webhook.filters import OWN_SENDS, WebhookFilter

__all__ = [
    "EVENT_TYPES",
    "FILTER_SUB_BLOCK_IDS",
    "TRIGGER",
    "TRIGGER_ID",
    "WEBHOOK_TOKEN_ID",
    "WEBHOOK_URL_ID",
    "build_trigger",
    "filter_from_values",
    "filter_values",
    "sim_type",
]

TRIGGER_ID: Final = "green_api_webhook"
WEBHOOK_URL_ID: Final = "webhookUrl"
WEBHOOK_TOKEN_ID: Final = "webhookUrlToken"

#: The typeWebhook values Green API documents (REFERENCE.md §6.1), in its table's order. The
#: receiver takes any value (an unknown one is an event like the others): this list only feeds
#: the multi-select, so a builder can pick without knowing the names.
EVENT_TYPES: Final[tuple[tuple[str, str], ...]] = (
    ("incomingMessageReceived", "Incoming message"),
    ("outgoingMessageReceived", "Sent from the phone"),
    (OWN_SENDS, "Sent through the API (the bot's own sends)"),
    ("outgoingMessageStatus", "Outgoing message status"),
    ("stateInstanceChanged", "Instance state changed"),
    ("statusInstanceChanged", "Socket status changed (deprecated)"),
    ("deviceInfo", "Device info"),
    ("incomingCall", "Incoming call"),
    ("incomingBlock", "Chat blocked (deprecated)"),
    ("quotaExceeded", "Quota exceeded"),
)

#: The builder's form for each WebhookFilter field, keyed by the field's name. A field without an
#: entry here fails at import (see _filter_sub_block), so a new filter cannot be forgotten.
_FILTER_UI: Final[Mapping[str, Mapping[str, Any]]] = {
    "event_types": {
        "label": "Event types",
        "control": "dropdown",
        "multiSelect": True,
        "options": [{"id": value, "label": label} for value, label in EVENT_TYPES],
        "placeholder": "All events (except the bot's own sends)",
    },
    "chat_types": {
        "label": "Chat types",
        "control": "dropdown",
        "multiSelect": True,
        # From the Literal the event model uses, so a new chat type shows up here by itself.
        "options": [{"id": value, "label": value.capitalize()} for value in typing.get_args(ChatType)],
        "placeholder": "Personal and group chats",
    },
    "chat_ids": {
        "label": "Chat IDs",
        "control": "long-input",
        "placeholder": "79001234567@c.us, 120363043968066561@g.us (one per line or comma-separated)",
    },
    "include_own_sends": {"label": "Include the bot's own sends", "control": "switch"},
}

#: Filter sub-block id -> WebhookFilter field name, in the filter's field order: the only mapping
#: between the two (made here, once, rather than converted back from camelCase on every use).
_FIELD_OF: Final[Mapping[str, str]] = {to_camel(name): name for name in WebhookFilter.model_fields}
#: The filter sub-blocks' ids, in WebhookFilter's field order.
FILTER_SUB_BLOCK_IDS: Final[tuple[str, ...]] = tuple(_FIELD_OF)


def sim_type(annotation: Any) -> str:
    """Sim's output type for a field annotation: string, number, boolean or json.

    ``X | None`` is typed as ``X`` (every event field may be missing); a Literal by its values'
    type; objects, lists, mappings and anything unknown are ``json``.
    """
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = {sim_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)}
        return kinds.pop() if len(kinds) == 1 else "json"
    if origin is Literal:
        kinds = {sim_type(type(arg)) for arg in typing.get_args(annotation)}
        return kinds.pop() if len(kinds) == 1 else "json"
    if annotation is str:
        return "string"
    if annotation is bool:  # before int: bool is an int subclass
        return "boolean"
    if annotation in (int, float):
        return "number"
    return "json"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _output(info: FieldInfo) -> dict[str, str]:
    description = info.description or ""
    nested = _nested_model(info.annotation)
    if nested is not None:
        # A later block wires to e.g. <trigger.location.latitude>: say which keys there are.
        keys = ", ".join(nested.model_fields)
        description = f"{description} Keys: {keys}." if description else f"Keys: {keys}."
    return {"type": sim_type(info.annotation), "description": description}


def _outputs() -> dict[str, dict[str, str]]:
    return {name: _output(info) for name, info in Event.model_fields.items()}


def _filter_sub_block(sub_id: str, name: str) -> dict[str, Any]:
    info = WebhookFilter.model_fields[name]
    ui = _FILTER_UI[name]  # a KeyError here: a WebhookFilter field without a form
    sub: dict[str, Any] = {
        "id": sub_id,
        "label": ui["label"],
        "control": ui["control"],
        "placeholder": ui.get("placeholder", ""),
        "required": False,
        "description": info.description or "",
    }
    for key in ("multiSelect", "options"):
        if key in ui:
            sub[key] = ui[key]
    if ui["control"] == "switch":
        sub["default"] = info.default
    return sub


def build_trigger() -> dict[str, Any]:
    """The trigger as the manifest carries it (Sim Studio's ``TriggerConfig`` shape)."""
    sub_blocks: list[dict[str, Any]] = [
        {
            "id": WEBHOOK_URL_ID,
            "label": "Webhook URL",
            "control": "short-input",
            "readOnly": True,
            "copyable": True,
            "placeholder": "https://<your host>/green-api",
            "required": False,
            "description": "Where Green API pushes notifications: the receiver's public https URL. "
            "`green-api-block webhook set URL` registers it (setSettings webhookUrl).",
        },
        {
            "id": WEBHOOK_TOKEN_ID,
            "label": "Webhook token",
            "control": "password",
            "password": True,
            "secret": True,
            "placeholder": "",
            "required": True,
            "description": "Green API sends it as Authorization: Bearer on every push; the receiver "
            "refuses a push without it (setSettings webhookUrlToken).",
        },
        *(_filter_sub_block(sub_id, name) for sub_id, name in _FIELD_OF.items()),
    ]
    return {
        "id": TRIGGER_ID,
        "name": "Green API Webhook",
        "provider": "green_api",
        "description": "Start the workflow when Green API pushes a notification: a customer's message "
        "or button tap, an outgoing message's status, an instance state change.",
        "version": "1.0.0",
        "subBlocks": sub_blocks,
        "outputs": _outputs(),
        "webhook": {"method": "POST"},
    }


TRIGGER: Final[Mapping[str, Any]] = build_trigger()


def _split_ids(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def filter_from_values(values: Mapping[str, Any]) -> WebhookFilter:
    """The receiver's filter from the trigger's sub-block values (as a builder stores them).

    An empty multi-select or an empty chat id box means "no filter", as a builder user expects
    (the filter itself refuses an empty set, which would keep nothing). Chat ids may be one text
    (comma- or line-separated, what a long-input holds) or a list. The URL and token sub-blocks
    are not filters and are ignored; any other id raises ValueError (a typo must not silently
    widen the filter). Bad values raise pydantic's ValidationError (a ValueError).
    """
    known = {WEBHOOK_URL_ID, WEBHOOK_TOKEN_ID, *FILTER_SUB_BLOCK_IDS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"not a sub-block of the {TRIGGER_ID} trigger: {', '.join(unknown)}")
    fields: dict[str, Any] = {}
    for sub_id, name in _FIELD_OF.items():
        value = values.get(sub_id)
        if name == "chat_ids" and isinstance(value, str):
            value = _split_ids(value)
        if value is None or value == "" or (isinstance(value, list | tuple) and not value):
            continue  # the field's default: no filter (or, for the switch, off)
        fields[name] = value
    return WebhookFilter(**fields)


def filter_values(webhook_filter: WebhookFilter) -> dict[str, Any]:
    """The sub-block values that give ``webhook_filter`` back (sets as sorted lists)."""
    out: dict[str, Any] = {}
    for sub_id, name in _FIELD_OF.items():
        value = getattr(webhook_filter, name)
        out[sub_id] = sorted(value) if isinstance(value, frozenset) else ([] if value is None else value)
    return out
