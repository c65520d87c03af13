"""The block's tools as LangChain ``StructuredTool`` objects (works with LangGraph's ToolNode).

    from green_api_block import GreenApiBlock
    from green_api_block.integrations.langchain import create_tools

    tools = create_tools(GreenApiBlock())            # credentials from GREEN_API_* env
    agent = create_agent(model, tools)               # or model.bind_tools(tools), ToolNode(tools)

Credentials stay bound to the block: they are in no tool schema. A failed call does not raise
into the agent loop: the model gets a ``ToolMessage`` with ``status="error"`` whose text says what
went wrong and what to do (the same words as the MCP server's). Each successful call returns the
output as JSON text and, as the message's ``artifact``, the output dict itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..contract import TOOL_IDS, ToolDefinition, load_tools
from ..errors import ConfigError, GreenApiError, InputValidationError, UnknownToolError
from ..exporters import error_text, strip_nulls, tool_description
from ..exporters._schema import openai_strict, portable
from ..guard import Guard, GuardError

if TYPE_CHECKING:
    from langchain_core.tools import StructuredTool

    from ..block import GreenApiBlock

__all__ = ["create_tools"]

_HANDLED = (InputValidationError, GreenApiError, GuardError, ConfigError)


def _error_dict(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ConfigError):
        return {"code": "config_error", "message": str(exc)}
    result: dict[str, Any] = exc.to_dict()  # type: ignore[attr-defined]
    return result


def _make_tool(block: GreenApiBlock, guard: Guard, tool: ToolDefinition, *, strict: bool) -> StructuredTool:
    from langchain_core.tools import StructuredTool, ToolException

    tool_id = tool.id

    def run(**kwargs: Any) -> tuple[str, dict[str, Any]]:
        try:
            output = guard.execute(block, tool_id, strip_nulls(kwargs))
        except _HANDLED as exc:
            # `from None`: the chained error would reach tracing callbacks; the text is what counts.
            raise ToolException(error_text(_error_dict(exc))) from None
        return json.dumps(output, ensure_ascii=False), output

    async def arun(**kwargs: Any) -> tuple[str, dict[str, Any]]:
        try:
            output = await guard.aexecute(block, tool_id, strip_nulls(kwargs))
        except _HANDLED as exc:
            raise ToolException(error_text(_error_dict(exc))) from None
        return json.dumps(output, ensure_ascii=False), output

    return StructuredTool.from_function(
        func=run,
        coroutine=arun,
        name=tool_id,
        description=" ".join([*guard.notes(tool_id), tool_description(tool)]),
        args_schema=openai_strict(tool) if strict else portable(tool),
        infer_schema=False,
        response_format="content_and_artifact",
        handle_tool_error=True,
    )


def create_tools(
    block: GreenApiBlock,
    *,
    guard: Guard | None = None,
    tools: Iterable[str] | None = None,
    strict: bool = False,
) -> list[StructuredTool]:
    """One ``StructuredTool`` per tool (all five, or the ids in ``tools``), bound to ``block``.

    ``guard`` adds the safety switches (allowlist, dry run, send cap); one guard per agent run.
    ``strict=True`` gives the OpenAI strict-mode schemas (optional fields as nullable; nulls are
    dropped before the call), for ``ChatOpenAI(...).bind_tools(tools, strict=True)``.
    """
    if not block.bound_credentials:
        raise ConfigError(
            "bind the instance credentials to the block first (GreenApiBlock(id_instance=..., "
            "api_token=...) or GREEN_API_ID_INSTANCE / GREEN_API_TOKEN_INSTANCE): the tools "
            "do not take them from the model"
        )
    wanted = list(TOOL_IDS if tools is None else tools)
    unknown = [t for t in wanted if t not in TOOL_IDS]
    if unknown:
        problem = {"path": "tools", "rule": "enum", "message": f"unknown tool(s); use: {', '.join(TOOL_IDS)}"}
        raise UnknownToolError(None, [problem])
    definitions = load_tools()
    guard = guard or Guard()
    return [_make_tool(block, guard, definitions[t], strict=strict) for t in wanted]
