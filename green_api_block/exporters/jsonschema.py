"""Plain JSON Schema (draft 2020-12): the full contract, minus credentials and ``x-*`` annotations.

For consumers that validate on their own: every keyword stays, including the conditionals that
encode the button rules. ``examples`` stay too, with the credential fields taken out of each.
"""

from __future__ import annotations

from typing import Any

from ..contract import ToolDefinition
from ._schema import clean, input_schema_for_model
from ._text import tool_description

__all__ = ["to_json_schema"]

# $id names the file, and this is no longer the file's content.
_DROP = frozenset({"$id", "writeOnly"})


def to_json_schema(tool: ToolDefinition) -> dict[str, Any]:
    schema = input_schema_for_model(tool, _DROP)
    creds = set(tool.credential_fields)
    if "examples" in schema:
        schema["examples"] = [
            {k: v for k, v in example.items() if k not in creds} for example in schema["examples"]
        ]
    return {
        "name": tool.id,
        "title": tool.name,
        "description": tool_description(tool),
        "input_schema": schema,
        "output_schema": clean(tool.output_schema, _DROP),
    }
