"""Safety switches for hosts that let a model send: a recipient allowlist, dry-run, a send cap.

    guard = Guard.from_env()  # GREEN_API_ALLOWED_CHATS, GREEN_API_DRY_RUN, GREEN_API_MAX_SENDS
    guard = Guard(allowed_chats=["+7 900 123-45-67"], max_sends=5)
    output = guard.execute(block, "green_api_send_message", {"chatId": ..., "message": ...})

Only the send tools are guarded; the reads run as they are, except that a dry run never deletes
notifications (it changes nothing on the instance). The order is: validate -> allowlist ->
dry-run report or send cap -> send. A refusal is a :class:`GuardError` with a stable ``code``,
reported like the block's own errors (``to_dict()``, ``invoke`` envelopes).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .block import GreenApiBlock
from .contract import TOOL_IDS, load_tools
from .errors import ConfigError, GreenApiBlockError, GreenApiError, InputValidationError
from .flags import parse_bool
from .tools import SPECS
from .validation import normalize_chat_id

__all__ = [
    "DRY_RUN_OUTPUT_SCHEMA",
    "ENV_ALLOWED_CHATS",
    "ENV_DRY_RUN",
    "ENV_MAX_SENDS",
    "Guard",
    "GuardError",
    "RecipientNotAllowedError",
    "SendLimitReachedError",
    "parse_chat_list",
]

ENV_ALLOWED_CHATS = "GREEN_API_ALLOWED_CHATS"
ENV_DRY_RUN = "GREEN_API_DRY_RUN"
ENV_MAX_SENDS = "GREEN_API_MAX_SENDS"

#: What a send tool returns in dry-run mode (an MCP server advertises it as the output schema).
DRY_RUN_OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["dryRun", "wouldCall", "chatId", "body"],
    "properties": {
        "dryRun": {"const": True, "description": "Always true: nothing was sent."},
        "wouldCall": {"type": "string", "description": "The Green API method a real run would call."},
        "chatId": {"type": "string", "description": "The recipient, normalised."},
        "body": {"type": "object", "description": "The JSON body a real run would send."},
    },
}

_SEPARATORS = re.compile(r"[,;\n]")


class GuardError(GreenApiBlockError):
    """A guard refused a call; nothing was sent. ``code`` is stable, ``to_dict()`` model-safe."""

    code = "guard_refused"

    def __init__(self, message: str, *, tool: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.tool = tool

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "retryable": False, "outcome_unknown": False}


class RecipientNotAllowedError(GuardError):
    code = "recipient_not_allowed"


class SendLimitReachedError(GuardError):
    code = "send_limit_reached"


def _chat_pattern() -> re.Pattern[str]:
    pattern = load_tools()["green_api_send_message"].input_schema["properties"]["chatId"]["pattern"]
    return re.compile(pattern.removesuffix("$") + r"\Z")


def parse_chat_list(entries: str | Iterable[str], *, source: str = ENV_ALLOWED_CHATS) -> frozenset[str]:
    """Chat ids from a comma-separated string (or an iterable), normalised like tool input.

    A malformed entry is a :class:`ConfigError`: an allowlist with a typo would silently refuse
    the chat its author meant to allow.
    """
    raw = _SEPARATORS.split(entries) if isinstance(entries, str) else list(entries)
    pattern = _chat_pattern()
    chats: set[str] = set()
    for position, entry in enumerate(raw, 1):
        entry = entry.strip()
        if not entry:
            continue
        # The normalisation tool input gets, so "+7 900 123-45-67" matches "79001234567@c.us".
        chat = normalize_chat_id(entry)
        if not pattern.match(chat):
            raise ConfigError(
                f"{source}: entry {position} ({entry[:40]!r}) is neither a chat id such as "
                "'79001234567@c.us' / '...@g.us' nor a phone number with its country code"
            )
        chats.add(chat)
    return frozenset(chats)


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "")
    flag = parse_bool(value) if value.strip() else False  # unset or empty: off
    if flag is not None:
        return flag
    raise ConfigError(f"{name} must be true or false (1/0, yes/no, on/off)")


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (the most messages one run may send)") from None
    if number < 0:
        raise ConfigError(f"{name} must not be negative")
    return number


class Guard:
    """The switches, and the per-run send count they keep. Thread-safe; share one per run.

    ``allowed_chats``: None allows every chat; an empty collection allows none. ``max_sends``:
    None is unlimited. Sends that Green API refused outright (nothing sent) give their slot back;
    a send whose outcome is unknown keeps it.
    """

    def __init__(
        self,
        *,
        allowed_chats: Iterable[str] | None = None,
        dry_run: bool = False,
        max_sends: int | None = None,
    ) -> None:
        if max_sends is not None and max_sends < 0:
            raise ConfigError("max_sends must not be negative")
        self.allowed_chats: frozenset[str] | None = (
            None if allowed_chats is None else parse_chat_list(allowed_chats, source="allowed_chats")
        )
        self.dry_run = dry_run
        self.max_sends = max_sends
        self._sends = 0
        self._lock = threading.Lock()

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        allowed_chats: Iterable[str] | None = None,
        dry_run: bool | None = None,
        max_sends: int | None = None,
    ) -> Guard:
        """Switches from the environment; arguments that are not None win over it."""
        env = os.environ if env is None else env
        chats: Iterable[str] | None = allowed_chats
        if chats is None and env.get(ENV_ALLOWED_CHATS, "").strip():
            chats = parse_chat_list(env[ENV_ALLOWED_CHATS])
        return cls(
            allowed_chats=chats,
            dry_run=_env_flag(env, ENV_DRY_RUN) if dry_run is None else dry_run,
            max_sends=_env_int(env, ENV_MAX_SENDS) if max_sends is None else max_sends,
        )

    def __repr__(self) -> str:
        chats = "all" if self.allowed_chats is None else len(self.allowed_chats)
        return f"Guard(allowed_chats={chats}, dry_run={self.dry_run}, max_sends={self.max_sends})"

    @property
    def active(self) -> bool:
        return self.allowed_chats is not None or self.dry_run or self.max_sends is not None

    @property
    def sends_used(self) -> int:
        return self._sends

    @property
    def sends_left(self) -> int | None:
        return None if self.max_sends is None else max(0, self.max_sends - self._sends)

    def notes(self, tool_id: str) -> list[str]:
        """Sentences for a tool's description that tell a model about the switches in force."""
        if not load_tools()[tool_id].sends:
            if self.dry_run and tool_id == "green_api_get_notifications":
                return ["DRY RUN: notifications are returned but never deleted."]
            return []
        notes: list[str] = []
        if self.dry_run:
            notes.append("DRY RUN: nothing is sent; the result shows the request a real run would make.")
        if self.allowed_chats is not None:
            chats = sorted(self.allowed_chats)
            shown = ", ".join(chats[:10]) + (f" and {len(chats) - 10} more" if len(chats) > 10 else "")
            notes.append(f"Only these chats may receive messages: {shown or 'none'}.")
        if self.max_sends is not None:
            notes.append(f"At most {self.max_sends} messages can be sent in this session.")
        return notes

    # -- checks ---------------------------------------------------------------------------------

    def check_recipient(self, chat_id: str, tool: str | None = None) -> None:
        if self.allowed_chats is None or chat_id in self.allowed_chats:
            return
        if self.allowed_chats:
            chats = sorted(self.allowed_chats)
            allowed = ", ".join(chats[:10]) + (" ..." if len(chats) > 10 else "")
        else:
            allowed = "none"
        raise RecipientNotAllowedError(
            f"chat {chat_id} is not on this server's list of allowed recipients "
            f"({ENV_ALLOWED_CHATS}); allowed: {allowed}",
            tool=tool,
        )

    def _reserve(self, tool: str) -> None:
        with self._lock:
            if self.max_sends is not None and self._sends >= self.max_sends:
                raise SendLimitReachedError(
                    f"the limit of {self.max_sends} messages for this run is reached ({ENV_MAX_SENDS})",
                    tool=tool,
                )
            self._sends += 1

    def _release(self) -> None:
        with self._lock:
            self._sends = max(0, self._sends - 1)

    def _prepare(self, block: GreenApiBlock, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
        """Checks before a send: the dry-run report to return instead, or None to go ahead."""
        normalized = block.validate(tool_id, args)  # raises InputValidationError, makes no call
        chat_id = str(normalized["chatId"])
        self.check_recipient(chat_id, tool_id)
        if self.dry_run:
            return self._dry_run_report(tool_id, normalized)
        self._reserve(tool_id)
        return None

    @staticmethod
    def _dry_run_report(tool_id: str, normalized: Mapping[str, Any]) -> dict[str, Any]:
        spec = SPECS[tool_id]
        # validate() masks the token; the plan needs a well-formed one to build the request, and
        # the request body (what we report) never contains it: the token travels in the URL.
        model = spec.model.model_validate({**normalized, "apiTokenInstance": "dry-run"})
        plan = spec.plan(model)
        call = next(plan)
        plan.close()
        return {
            "dryRun": True,
            "wouldCall": call.api_method,
            "chatId": normalized["chatId"],
            "body": call.json,
        }

    def _reads(self, tool_id: str, args: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.dry_run and tool_id == "green_api_get_notifications" and isinstance(args, Mapping):
            return {**args, "deleteAfterReceive": False}
        return args

    @staticmethod
    def _is_send(tool_id: str) -> bool:
        return tool_id in TOOL_IDS and load_tools()[tool_id].sends

    # -- running --------------------------------------------------------------------------------

    def execute(self, block: GreenApiBlock, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """``block.execute`` behind the switches; raises what it raises, or a :class:`GuardError`."""
        if not self._is_send(tool_id):
            return block.execute(tool_id, self._reads(tool_id, args))
        report = self._prepare(block, tool_id, args)
        if report is not None:
            return report
        try:
            return block.execute(tool_id, args)
        except GreenApiError as exc:
            # Refused before anything was sent: the slot is given back. Anything else (an
            # unknown outcome, an interrupt mid-send) keeps it: the message may have gone out.
            if not exc.outcome_unknown:
                self._release()
            raise

    async def aexecute(self, block: GreenApiBlock, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Async twin of :meth:`execute`."""
        if not self._is_send(tool_id):
            return await block.aexecute(tool_id, self._reads(tool_id, args))
        report = self._prepare(block, tool_id, args)
        if report is not None:
            return report
        try:
            return await block.aexecute(tool_id, args)
        except GreenApiError as exc:
            if not exc.outcome_unknown:
                self._release()
            raise

    def invoke(self, block: GreenApiBlock, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`execute` as an ``{"ok": ...}`` envelope, like ``block.invoke``."""
        try:
            return {"ok": True, "output": self.execute(block, tool_id, args)}
        except (InputValidationError, GreenApiError, GuardError) as exc:
            return {"ok": False, "error": exc.to_dict()}

    async def ainvoke(self, block: GreenApiBlock, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Async twin of :meth:`invoke`."""
        try:
            return {"ok": True, "output": await self.aexecute(block, tool_id, args)}
        except (InputValidationError, GreenApiError, GuardError) as exc:
            return {"ok": False, "error": exc.to_dict()}
