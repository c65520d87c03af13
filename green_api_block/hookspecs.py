"""Hook specifications a host engine adds to its ``pluggy.PluginManager("aacflow")``."""

from __future__ import annotations

from typing import Any

import pluggy

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "aacflow"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def aacflow_register_blocks() -> list[Any]:  # type: ignore[empty-body]
    """Return the blocks this plugin provides (each with ``type``, ``tools``, ``execute``, ``aexecute``)."""
