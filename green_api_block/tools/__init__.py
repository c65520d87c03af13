"""One module per tool; ``SPECS`` maps each tool id to how it runs."""

from __future__ import annotations

from types import MappingProxyType

from . import get_notifications, get_state_instance, send_buttons, send_file, send_message
from .base import ApiCall, Plan, ToolSpec

__all__ = ["SPECS", "ApiCall", "Plan", "ToolSpec"]

SPECS: MappingProxyType[str, ToolSpec] = MappingProxyType(
    {
        spec.tool_id: spec
        for spec in (
            send_message.SPEC,
            send_file.SPEC,
            send_buttons.SPEC,
            get_notifications.SPEC,
            get_state_instance.SPEC,
        )
    }
)
