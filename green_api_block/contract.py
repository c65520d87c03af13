"""The tools' contracts, loaded once from the JSON Schema files (the single source of truth).

In an installed wheel the schemas and the manifest live in ``green_api_block/_data``; in a source
checkout they are read from the repository's top-level ``schemas/`` and ``manifest.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "CREDENTIAL_FIELDS",
    "TOOL_IDS",
    "ToolDefinition",
    "data_root",
    "load_manifest",
    "load_tools",
    "schema_path",
]

TOOL_IDS: tuple[str, ...] = (
    "green_api_send_message",
    "green_api_send_file",
    "green_api_send_buttons",
    "green_api_get_notifications",
    "green_api_get_state_instance",
)
CREDENTIAL_FIELDS: tuple[str, ...] = ("idInstance", "apiTokenInstance")


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """One tool as a host sees it. The schemas are the files' contents, unchanged."""

    id: str
    name: str
    description: str
    input_schema: dict[str, Any] = field(repr=False)
    output_schema: dict[str, Any] = field(repr=False)

    @property
    def credential_fields(self) -> tuple[str, ...]:
        props = self.input_schema.get("properties", {})
        return tuple(k for k, v in props.items() if v.get("x-credential"))

    @property
    def sends(self) -> bool:
        """True for tools with effects in the world (a WhatsApp message goes out)."""
        return self.id.startswith("green_api_send_")


def data_root() -> Traversable:
    """Where ``schemas/`` and ``manifest.json`` are: the wheel's data dir or the source checkout."""
    packaged = resources.files("green_api_block") / "_data"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "schemas").is_dir():
        return checkout
    raise FileNotFoundError("green_api_block: schemas not found (broken install?)")


def schema_path(tool_id: str, kind: str) -> str:
    """The schema's path relative to the project root, as the manifest names it."""
    return f"schemas/{tool_id}.{kind}.json"


def _read_json(path: Traversable) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def load_tools() -> MappingProxyType[str, ToolDefinition]:
    root = data_root()
    tools: dict[str, ToolDefinition] = {}
    for tool_id in TOOL_IDS:
        inp = _read_json(root / "schemas" / f"{tool_id}.input.json")
        out = _read_json(root / "schemas" / f"{tool_id}.output.json")
        tools[tool_id] = ToolDefinition(
            id=tool_id,
            name=inp["title"],
            description=inp["description"],
            input_schema=inp,
            output_schema=out,
        )
    return MappingProxyType(tools)


@cache
def load_manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = _read_json(data_root() / "manifest.json")
    return manifest
