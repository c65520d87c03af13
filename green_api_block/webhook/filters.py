"""Which events reach the handler: the n8n trigger's filters (event type, chat type, chat ids).

By default the bot's own API sends (``outgoingAPIMessageReceived``) are dropped: a bot that
answers every message it sees would otherwise answer its own answers, for ever.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from green_api_block.events import ChatType, Event, normalise_chat_id

__all__ = ["OWN_SENDS", "WebhookFilter"]

#: The notification of a message this instance sent through the API (the bot's own sends).
OWN_SENDS = "outgoingAPIMessageReceived"


class WebhookFilter(BaseModel):
    """What the receiver hands to its handler; everything else is answered 200 and dropped.

    ``None`` means "no filter" for ``event_types``, ``chat_types`` and ``chat_ids``. An event with
    no chat (an instance state change) passes a chat filter only when no chat filter is set: a
    user who asked for one chat did not ask for state changes. ``event_types`` that names
    ``outgoingAPIMessageReceived`` lets the bot's own sends through as if ``include_own_sends``
    were set (it was asked for by name).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_types: frozenset[str] | None = Field(default=None, description="typeWebhook values to keep.")
    chat_types: frozenset[ChatType] | None = Field(default=None, description="personal and/or group.")
    chat_ids: frozenset[str] | None = Field(default=None, description="Chat ids to keep (…@c.us, …@g.us).")
    include_own_sends: bool = Field(default=False, description="Let outgoingAPIMessageReceived through.")

    @field_validator("event_types", "chat_ids", mode="before")
    @classmethod
    def _a_set_of_words(cls, value: object) -> object:
        # A bare string would become a set of its characters.
        if isinstance(value, str):
            raise ValueError("give a list of strings, not one string")
        return value

    @field_validator("chat_types", mode="before")
    @classmethod
    def _chat_types_list(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("give a list (personal, group), not one string")
        return value

    @field_validator("event_types")
    @classmethod
    def _no_empty_type(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        if value is not None and (not value or any(not t.strip() for t in value)):
            raise ValueError("event types must be non-empty names; leave the filter out to keep all")
        return value

    @field_validator("chat_ids")
    @classmethod
    def _chat_ids(cls, value: frozenset[str] | None) -> frozenset[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("leave chat_ids out to keep every chat; an empty list would keep none")
        out = set()
        for chat in value:
            chat = chat.strip()
            if "@" not in chat:
                # A bare phone number is the personal chat with it, as everywhere in the block.
                if not chat.isdigit():
                    raise ValueError(f"{chat!r} is not a chat id (…@c.us, …@g.us, …@lid) or phone number")
                chat += "@c.us"
            out.add(normalise_chat_id(chat) or chat)
        return frozenset(out)

    def accepts(self, event: Event) -> bool:
        asked_by_name = self.event_types is not None and OWN_SENDS in self.event_types
        if event.eventType == OWN_SENDS and not (self.include_own_sends or asked_by_name):
            return False
        if self.event_types is not None and event.eventType not in self.event_types:
            return False
        if self.chat_types is not None and event.chatType not in self.chat_types:
            return False
        return self.chat_ids is None or event.chatId in self.chat_ids
