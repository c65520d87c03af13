"""The five tools in each LLM ecosystem's shape, derived from ``schemas/*.json`` at call time.

    export_tools(definitions, "openai")   # strict function calling (Chat Completions)
    export_tools(definitions, "anthropic")

Credentials never appear: the host binds them to the block. Formats: see :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..contract import ToolDefinition
from ._schema import strip_nulls
from ._text import error_text, tool_description
from .anthropic import to_anthropic
from .jsonschema import to_json_schema
from .mcp import to_mcp
from .openai import parse_arguments, to_openai, to_openai_responses

__all__ = [
    "FORMATS",
    "error_text",
    "export_tool",
    "export_tools",
    "parse_arguments",
    "strip_nulls",
    "tool_description",
]

_EXPORTERS: Mapping[str, Callable[[ToolDefinition], dict[str, Any]]] = {
    "openai": to_openai,
    "openai-responses": to_openai_responses,
    "anthropic": to_anthropic,
    "mcp": to_mcp,
    "json-schema": to_json_schema,
}
#: Accepted ``format`` values.
FORMATS: tuple[str, ...] = tuple(_EXPORTERS)


def export_tool(tool: ToolDefinition, format: str) -> dict[str, Any]:
    key = format.strip().lower().replace("_", "-")
    exporter = _EXPORTERS.get("json-schema" if key == "jsonschema" else key)
    if exporter is None:
        raise ValueError(f"unknown export format {format!r}; use one of: {', '.join(FORMATS)}")
    return exporter(tool)


def export_tools(definitions: Mapping[str, ToolDefinition], format: str) -> list[dict[str, Any]]:
    """Every tool in ``definitions`` (in its order), in ``format``; fresh dicts on each call."""
    return [export_tool(tool, format) for tool in definitions.values()]
