"""The sends :class:`.conversation.Conversation` schedules: buttons and a text, over one block.

Activity names ``green_api_chat_send_buttons`` and ``green_api_chat_send_message``; input is the
tool's input without credentials (``idInstance`` only), output the tool's output. The token is
looked up on the worker. These are plain sends: a retry after the worker died mid-send can send
twice (the tool activities, ``green_api_send_buttons`` and friends, check the journal first; pass
their names to ``Conversation(send_buttons_activity=..., send_message_activity=...)`` to use them).
"""

from __future__ import annotations

from typing import Any

from temporalio import activity

from green_api_block.block import GreenApiBlock
from green_api_block.errors import GreenApiBlockError

from ._errors import as_failure
from ._tokens import TokenSource, credentials_for
from .conversation import SEND_BUTTONS_ACTIVITY, SEND_MESSAGE_ACTIVITY

__all__ = ["ChatActivities"]


class ChatActivities:
    """``Worker(activities=ChatActivities(block, tokens).activities)``."""

    def __init__(self, block: GreenApiBlock, tokens: TokenSource = None) -> None:
        self.block = block
        self.tokens = tokens

    async def _run(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        args = dict(args)
        args.pop("apiTokenInstance", None)  # a token never comes from a payload
        try:
            creds = await credentials_for(self.tokens, str(args.get("idInstance", "")))
            return await self.block.aexecute(tool, {**args, **creds})
        except GreenApiBlockError as exc:
            raise as_failure(exc) from None

    @activity.defn(name=SEND_BUTTONS_ACTIVITY)
    async def send_buttons(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._run("green_api_send_buttons", args)

    @activity.defn(name=SEND_MESSAGE_ACTIVITY)
    async def send_message(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._run("green_api_send_message", args)

    @property
    def activities(self) -> list[Any]:
        return [self.send_buttons, self.send_message]
