"""MCP ``Tool`` objects in wire form (camelCase), as ``tools/list`` returns them.

Annotations are hints to the client: the two reads are read-only (fetching notifications removes
them from the instance's own queue, nothing outside it); sends are additive, not idempotent (each
call is another message) and reach the open world. get_notifications is open-world too: its
content comes from strangers, which is what a client's prompt-injection policy keys on.
"""

from __future__ import annotations

from typing import Any

from ..contract import ToolDefinition
from ._schema import output_schema_for_model, portable
from ._text import tool_description

__all__ = ["annotations_for", "to_mcp"]


def annotations_for(tool: ToolDefinition) -> dict[str, Any]:
    if tool.sends:
        return {
            "title": tool.name,
            "readOnlyHint": False,
            # Additive: a message is added, nothing is overwritten or deleted (the MCP meaning).
            "destructiveHint": False,
            "idempotentHint": False,
            "openWorldHint": True,
        }
    return {
        "title": tool.name,
        "readOnlyHint": True,
        "openWorldHint": tool.id == "green_api_get_notifications",
    }


def to_mcp(tool: ToolDefinition) -> dict[str, Any]:
    return {
        "name": tool.id,
        "title": tool.name,
        "description": tool_description(tool),
        "inputSchema": portable(tool),
        "outputSchema": output_schema_for_model(tool),
        "annotations": annotations_for(tool),
    }
