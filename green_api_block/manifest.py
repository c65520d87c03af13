"""Build ``manifest.json`` (what a visual builder needs to draw the block) from the schema files.

The webhook trigger comes from :mod:`green_api_block.trigger` (its one definition): it
sits under ``triggers.items`` next to Sim Studio's opt-in ``triggers: {enabled, available}``, as
the tools sit under ``tools.items`` next to ``tools.access``.

The manifest is derived, committed, and checked: ``python -m green_api_block.manifest --check``
fails when it is stale, ``--write`` regenerates it. Form hints come from the schemas' ``x-ui``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .contract import TOOL_IDS, ToolDefinition, data_root, load_tools, schema_path
from .events.schema import with_event_defs
from .trigger import TRIGGER_ID, build_trigger

__all__ = ["build_manifest", "derived_files", "main", "render_manifest"]

ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none">'
    '<path fill="#fff" d="M12 2.5a9.5 9.5 0 0 0-8.2 14.3L2.5 21.5l4.8-1.3A9.5 9.5 0 1 0 12 2.5Z"/>'
    '<path fill="#2DB742" d="M8.6 7.4c.2-.4.4-.4.7-.4h.5c.2 0 .4 0 .6.5l.8 1.9c.1.2.1.4 0 .6l-.4.6'
    "-.4.4c-.1.2-.2.3 0 .6.2.3.8 1.3 1.7 2.1 1.2 1 2.1 1.3 2.4 1.5.3.1.5.1.6-.1l.9-1.1c.2-.3.4-.2.6-.1"
    "l1.9.9c.3.1.4.2.5.3 0 .2 0 .9-.3 1.6-.3.7-1.6 1.4-2.2 1.4-.6.1-1.2.3-4-.8-3.4-1.3-5.5-4.8-5.7-5"
    '-.2-.2-1.3-1.8-1.3-3.4 0-1.6.8-2.4 1.1-2.8Z"/></svg>'
)

BLOCK = {
    "type": "green_api",
    "name": "Green API",
    "description": "Send WhatsApp messages, files and buttons, and receive notifications through Green API.",
    "longDescription": (
        "Integrate Green API, a WhatsApp gateway widely used in e-commerce and customer service, into a "
        "workflow: send text messages, files by URL and interactive buttons, poll incoming notifications "
        "(messages, button taps, delivery statuses) and check the instance's authorization state. "
        "Needs the Instance ID and API Token Instance of your instance (console.green-api.com)."
    ),
    "category": "tools",
    "bgColor": "#2DB742",
    "icon": {"type": "svg", "svg": ICON_SVG},
    "docsLink": "https://green-api.com/en/docs/api/",
}


def _field(prop: str, schema: dict[str, Any], required: bool, tools: list[str]) -> dict[str, Any]:
    ui = schema.get("x-ui", {})
    field: dict[str, Any] = {
        "id": prop,
        "param": prop,
        "label": ui.get("label", prop),
        "control": ui.get("control", "short-input"),
        "placeholder": ui.get("placeholder", ""),
        "required": required,
        "description": schema.get("description", ""),
    }
    if ui.get("advanced"):
        field["mode"] = "advanced"
    if schema.get("x-credential"):
        field["credential"] = True
    if ui.get("control") == "password":
        field["password"] = True
    for key in ("minLength", "maxLength", "minimum", "maximum", "default", "minItems", "maxItems"):
        if key in schema:
            field[key] = schema[key]
    if "items" in schema:
        field["maxItems"] = schema.get("maxItems")
        field["itemFields"] = [
            {"id": k, "label": k, "maxLength": v.get("maxLength"), "enum": v.get("enum")}
            for k, v in schema["items"].get("properties", {}).items()
        ]
    if tools:
        field["condition"] = {"field": "operation", "value": tools}
    return field


def _tool_entry(tool: ToolDefinition) -> dict[str, Any]:
    required = set(tool.input_schema.get("required", []))
    creds = set(tool.credential_fields)
    fields = [
        _field(prop, schema, prop in required, [tool.id])
        for prop, schema in tool.input_schema["properties"].items()
        if prop not in creds
    ]
    outputs = {
        name: {"type": spec.get("type"), "description": spec.get("description", "")}
        for name, spec in tool.output_schema["properties"].items()
    }
    return {
        "id": tool.id,
        "name": tool.name,
        "description": tool.description,
        "inputSchema": schema_path(tool.id, "input"),
        "outputSchema": schema_path(tool.id, "output"),
        "sends": tool.sends,
        "fields": fields,
        "outputs": outputs,
    }


def build_manifest() -> dict[str, Any]:
    tools = load_tools()
    first = tools[TOOL_IDS[0]]
    cred_props = first.input_schema["properties"]
    credentials = [_field(name, cred_props[name], True, []) for name in first.credential_fields]
    operation = {
        "id": "operation",
        "label": "Operation",
        "control": "dropdown",
        "required": True,
        "default": TOOL_IDS[0],
        "options": [{"id": t, "label": tools[t].name} for t in TOOL_IDS],
    }
    entries = [_tool_entry(tools[t]) for t in TOOL_IDS]
    sub_blocks = [operation, *credentials]
    for entry in entries:
        for field in entry["fields"]:
            sub_blocks.append({**field, "id": f"{entry['id']}.{field['id']}"})
    outputs: dict[str, Any] = {}
    for entry in entries:
        for name, spec in entry["outputs"].items():
            outputs.setdefault(name, {**spec, "tools": []})["tools"].append(entry["id"])
    return {
        "$schemaVersion": 1,
        **BLOCK,
        "credentials": credentials,
        "operation": operation,
        "subBlocks": sub_blocks,
        "tools": {"access": list(TOOL_IDS), "items": entries},
        "outputs": outputs,
        # Sim Studio's block opts in with {enabled, available} and keeps the trigger definitions in
        # a registry of their own; a manifest is one file, so they ride along under "items", as
        # the tools do under tools.items.
        "triggers": {"enabled": True, "available": [TRIGGER_ID], "items": [build_trigger()]},
    }


def render_manifest() -> str:
    return _dump(build_manifest())


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def derived_files() -> dict[Path, str]:
    """Every committed file made from another source: the notifications output schema's event
    definitions (from the event model), then the manifest (from the schemas)."""
    root = Path(str(data_root()))
    notifications = root / schema_path("green_api_get_notifications", "output")
    schema = json.loads(notifications.read_text(encoding="utf-8"))
    return {notifications: _dump(with_event_defs(schema)), root / "manifest.json": render_manifest()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build or check manifest.json from schemas/.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a derived file is out of date")
    parser.add_argument("--write", action="store_true", help="write manifest.json and the event $defs")
    args = parser.parse_args(argv)
    if args.check:
        stale = [
            path.name
            for path, text in derived_files().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(
                f"{', '.join(stale)} out of date: run python -m green_api_block.manifest --write",
                file=sys.stderr,
            )
            return 1
        return 0
    if args.write:
        # The event $defs do not feed the manifest (it reads top-level outputs only): one pass.
        for path, text in derived_files().items():
            path.write_text(text, encoding="utf-8")
        return 0
    sys.stdout.write(render_manifest())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
