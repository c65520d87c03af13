"""The sandbox's fixed choices: the settings presets instances start with, and its own URL prefix."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["BOT_SETTINGS", "CONTROL_PREFIX", "DEFAULT_SANDBOX_SETTINGS"]

#: Where the control plane and the placeholder files live: never a Green API path.
CONTROL_PREFIX: Final = "/__sandbox__"

#: Settings every sandbox instance starts with, on top of the service's all-"no" defaults.
#: Without incomingWebhook an injected customer message would vanish silently, which is never what
#: someone testing a workflow wants; pass ``default_settings={}`` for the real service's defaults.
DEFAULT_SANDBOX_SETTINGS: Final[Mapping[str, str]] = MappingProxyType({"incomingWebhook": "yes"})

#: What a bot that reads replies relies on: incoming messages, the statuses and copies of what it
#: sent, and state changes. The pytest fixture, the CLI's sandbox, the demo and the preview use it.
BOT_SETTINGS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "incomingWebhook": "yes",
        "outgoingWebhook": "yes",
        "outgoingAPIMessageWebhook": "yes",
        "stateWebhook": "yes",
    }
)
