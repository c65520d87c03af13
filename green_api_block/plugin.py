"""The pluggy hook implementation behind the ``aacflow`` entry point ``green_api``."""

from __future__ import annotations

from .block import GreenApiBlock
from .hookspecs import hookimpl

__all__ = ["aacflow_register_blocks"]


@hookimpl
def aacflow_register_blocks() -> list[GreenApiBlock]:
    # Host and credentials come from the environment (GREEN_API_URL, GREEN_API_ID_INSTANCE, ...)
    # or from each call's input; a host wanting other settings constructs GreenApiBlock itself.
    return [GreenApiBlock()]
