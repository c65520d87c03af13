"""Typed (pydantic) views of the tool contracts, for Python callers and the fast validation path.

These mirror ``schemas/*.json`` field by field; ``tests/contract/test_models_match_schemas.py``
proves that both give the same verdict on a shared corpus, and that names, required sets, limits
and patterns agree. Change a schema and its model together.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "CHAT_ID_PATTERN",
    "TOKEN_PATTERN",
    "Button",
    "GetNotificationsInput",
    "GetStateInstanceInput",
    "Notification",
    "NotificationsOutput",
    "SendButtonsInput",
    "SendFileInput",
    "SendMessageInput",
    "SendOutput",
    "StateOutput",
    "ToolInput",
]

# [0-9] rather than \d: \d also matches non-ASCII digits in Python and Rust regexes.
CHAT_ID_PATTERN = r"^([0-9]{7,15}@c\.us|([0-9]+-[0-9]+|[0-9]{15,20})@g\.us|[0-9]{1,20}@lid)$"
ID_INSTANCE_PATTERN = r"^[0-9]{1,19}$"
# Green API does not specify the token format (REFERENCE.md §1, unverified); every example is
# 50 hex characters. Anything that could change the URL path ('/', '.', '%', '?') is refused.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"
HTTP_URL_PATTERN = r"^https?://[^\s/?#]+[^\s]*$"
FILE_NAME_PATTERN = r"^[^/\\]*[^./\\][.][A-Za-z0-9]{1,10}$"
PHONE_PATTERN = r"^[0-9]{7,15}$"

# fullmatch, not the anchored pattern: Python's `$` would let a trailing newline through.
_TOKEN_RE = re.compile(TOKEN_PATTERN.removeprefix("^").removesuffix("$"))

ChatId = Annotated[str, StringConstraints(pattern=CHAT_ID_PATTERN)]
IdInstance = Annotated[str, StringConstraints(pattern=ID_INSTANCE_PATTERN)]
HttpUrl = Annotated[str, StringConstraints(max_length=2048, pattern=HTTP_URL_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        # JSON Schema optional means "absent", not null; the normaliser drops nulls a host sends.
        if isinstance(data, dict) and any(v is None for v in data.values()):
            raise ValueError("fields must not be null")
        return data


class ToolInput(_Strict):
    """Fields every tool takes: the instance credentials."""

    idInstance: IdInstance
    apiTokenInstance: SecretStr = Field(min_length=1, max_length=256)

    @field_validator("apiTokenInstance")
    @classmethod
    def _token_is_one_path_segment(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.fullmatch(value.get_secret_value()):
            raise ValueError("must be letters, digits, '-' or '_' only")
        return value


class SendMessageInput(ToolInput):
    chatId: ChatId
    message: str = Field(min_length=1, max_length=20000)


class SendFileInput(ToolInput):
    chatId: ChatId
    urlFile: HttpUrl = Field(min_length=8)
    fileName: str = Field(min_length=3, max_length=255, pattern=FILE_NAME_PATTERN)
    caption: str | None = Field(default=None, max_length=1024)


class Button(_Strict):
    buttonText: str = Field(min_length=1, max_length=25)
    buttonId: str | None = Field(default=None, min_length=1, max_length=256)
    type: Literal["reply", "copy", "call", "url"] | None = None
    copyCode: str | None = Field(default=None, min_length=1, max_length=256)
    phoneNumber: str | None = Field(default=None, pattern=PHONE_PATTERN)
    url: HttpUrl | None = None

    @model_validator(mode="after")
    def _action_has_its_value(self) -> Button:
        needed = {"copy": "copyCode", "call": "phoneNumber", "url": "url"}.get(self.type or "reply")
        if needed is not None and getattr(self, needed) is None:
            raise ValueError(f"a '{self.type}' button needs {needed}")
        return self

    @property
    def is_action(self) -> bool:
        return self.type in ("copy", "call", "url")


class SendButtonsInput(ToolInput):
    chatId: ChatId
    message: str = Field(min_length=1, max_length=20000)
    header: str | None = Field(default=None, min_length=1, max_length=60)
    footer: str | None = Field(default=None, min_length=1, max_length=60)
    buttons: list[Button] = Field(min_length=1, max_length=3)

    @model_validator(mode="after")
    def _one_kind_of_button(self) -> SendButtonsInput:
        kinds = {b.is_action for b in self.buttons}
        if len(kinds) > 1:
            raise ValueError("must not mix reply buttons with copy/call/url action buttons in one message")
        return self


class GetNotificationsInput(ToolInput):
    receiveTimeout: int = Field(default=5, ge=5, le=60)
    maxNotifications: int = Field(default=1, ge=1, le=100)
    deleteAfterReceive: bool = True


class GetStateInstanceInput(ToolInput):
    pass


class SendOutput(_Strict):
    idMessage: str = Field(min_length=1)
    success: bool


class Notification(_Strict):
    receiptId: int
    body: dict[str, Any]
    event: dict[str, Any]  # the event model's fields (schemas/...notifications.output.json $defs)


class NotificationsOutput(_Strict):
    notifications: list[Notification]
    receiptId: int | None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        return data  # receiptId is null by contract when the queue was empty


class StateOutput(_Strict):
    stateInstance: str = Field(min_length=1)
