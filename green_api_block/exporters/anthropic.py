"""Anthropic Messages API tools: ``{name, description, input_schema}``."""

from __future__ import annotations

from typing import Any

from ..contract import ToolDefinition
from ._schema import portable
from ._text import tool_description

__all__ = ["to_anthropic"]


def to_anthropic(tool: ToolDefinition) -> dict[str, Any]:
    return {"name": tool.id, "description": tool_description(tool), "input_schema": portable(tool)}
