"""The event model as JSON Schema, for the contracts that carry events.

``green_api_get_notifications`` returns each notification's event next to its body, so its output
schema declares the event under ``$defs``. The model is the source of truth: :func:`event_defs`
derives the definitions from it, ``python -m green_api_block.manifest --write`` writes them into
the schema file, and ``--check`` (and the drift test) fails when the file and the model differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .model import Event

__all__ = ["TOOL_EVENT_EXCLUDE", "event_defs", "tool_event"]

#: Left out of the tool output's event: the body sits right next to it, unchanged.
TOOL_EVENT_EXCLUDE = frozenset({"raw"})

_NOISE = ("title", "default")


def _tidy(node: Any) -> Any:
    """Pydantic's spelling as the hand-written schemas spell it: ``["string", "null"]`` rather
    than ``anyOf``, and no generated titles or null defaults."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _tidy(value) for key, value in node.items() if key not in _NOISE}
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        (other,) = [o for o in options if o != {"type": "null"}]
        if set(other) == {"type"} and isinstance(other["type"], str):
            del out["anyOf"]
            out["type"] = [other["type"], "null"]
        elif set(other) == {"type", "enum"}:
            del out["anyOf"]
            out["type"] = [other["type"], "null"]
            out["enum"] = [*other["enum"], None]
    return out


def event_defs() -> dict[str, Any]:
    """``$defs`` for a schema whose items say ``{"$ref": "#/$defs/Event"}``: the event as the
    tool returns it (every field present, null when the notification has none; no ``raw``)."""
    schema = Event.model_json_schema(ref_template="#/$defs/{model}")
    defs = {name: _tidy(spec) for name, spec in schema.pop("$defs", {}).items()}
    event = _tidy(schema)
    for name in TOOL_EVENT_EXCLUDE:
        event["properties"].pop(name)
    event["required"] = list(event["properties"])
    event["description"] = (
        "The notification as one flat event (the same model the webhook trigger hands on): "
        "text, button taps, files, statuses in fixed fields, null where the notification has none."
    )
    for spec in defs.values():
        spec["required"] = list(spec["properties"])  # model_dump always writes every key
    return {"Event": event, **dict(sorted(defs.items()))}


def tool_event(body: Mapping[str, Any]) -> dict[str, Any]:
    """The event the tool returns next to ``body``: JSON-ready, ``raw`` left out."""
    return Event.from_body(body).model_dump(mode="json", exclude=set(TOOL_EVENT_EXCLUDE))


def with_event_defs(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` (the notifications output schema) with ``$defs`` and every example's events
    regenerated from the model: what ``manifest --write`` writes back to the file."""
    out = dict(schema)
    out["$defs"] = event_defs()
    examples = []
    for example in out.get("examples", []):
        items = [{**item, "event": tool_event(item["body"])} for item in example.get("notifications", [])]
        examples.append({**example, "notifications": items})
    if examples:
        out["examples"] = examples
    return out
