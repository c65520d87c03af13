"""OpenAI function calling in strict mode (Chat Completions and Responses API shapes).

The schema is :func:`~._schema.openai_strict`: every property required, optional ones nullable.
Run the model's arguments through :func:`parse_arguments` before ``block.execute``/``invoke``:
it decodes them and drops the nulls that stand for "not set".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..contract import ToolDefinition
from ._schema import openai_strict, strip_nulls
from ._text import tool_description

__all__ = ["parse_arguments", "to_openai", "to_openai_responses"]


def to_openai(tool: ToolDefinition) -> dict[str, Any]:
    """``{"type": "function", "function": {name, description, parameters, strict}}`` (Chat Completions)."""
    return {
        "type": "function",
        "function": {
            "name": tool.id,
            "description": tool_description(tool),
            "parameters": openai_strict(tool),
            "strict": True,
        },
    }


def to_openai_responses(tool: ToolDefinition) -> dict[str, Any]:
    """The flat function tool of the Responses API and the Agents SDK."""
    return {"type": "function", **to_openai(tool)["function"]}


def parse_arguments(arguments: str | Mapping[str, Any]) -> dict[str, Any]:
    """A tool call's ``arguments`` (JSON text or a mapping) ready for the block: nulls removed."""
    data = json.loads(arguments) if isinstance(arguments, str) else arguments
    if not isinstance(data, Mapping):
        raise ValueError("tool call arguments must be a JSON object")
    result: dict[str, Any] = strip_nulls(data)
    return result
