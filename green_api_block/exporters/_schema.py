"""Schema surgery shared by the exporters: the contract as a model may see it.

Every export starts from ``schemas/*.json`` (through :class:`~green_api_block.contract.ToolDefinition`)
and only ever removes or rewrites: credentials (``x-credential``) and our ``x-*`` annotations always
go, metadata that is noise to a model goes, and each format then keeps the keywords its consumer
understands. The walk knows which keywords hold subschemas, so a property that happened to be
named ``title`` or ``x-foo`` would survive.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from ..contract import ToolDefinition

__all__ = [
    "CONDITIONAL_KEYWORDS",
    "META_KEYWORDS",
    "clean",
    "input_schema_for_model",
    "limits_phrase",
    "merge_description",
    "openai_strict",
    "output_schema_for_model",
    "portable",
    "strip_nulls",
]

# Keywords whose value is a map of name -> subschema, a subschema, or a list of subschemas.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_VALUES = frozenset(
    {
        "items",
        "additionalItems",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "additionalProperties",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})

#: Documentation and identity keywords: useful in a file, noise (or a leak: ``examples`` holds a
#: token) in front of a model.
META_KEYWORDS = frozenset({"$schema", "$id", "$comment", "title", "examples", "writeOnly", "readOnly"})
#: Composition and conditionals. Many tool-calling stacks reject or ignore them; the rules they
#: encode (the button kinds) are written into the descriptions, and the block still enforces them.
CONDITIONAL_KEYWORDS = frozenset(
    {
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "dependentRequired",
        "dependentSchemas",
    }
)


def clean(schema: Mapping[str, Any], drop: Collection[str] = ()) -> dict[str, Any]:
    """A deep copy of ``schema`` without ``x-*`` annotations and without the keywords in ``drop``."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-") or key in drop:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {
                name: clean(sub, drop) if isinstance(sub, Mapping) else sub for name, sub in value.items()
            }
        elif key in _SCHEMA_VALUES and isinstance(value, Mapping):
            out[key] = clean(value, drop)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [clean(sub, drop) if isinstance(sub, Mapping) else sub for sub in value]
        else:
            out[key] = copy.deepcopy(value)
    return out


def _without_credentials(schema: dict[str, Any], names: Collection[str]) -> dict[str, Any]:
    props = schema.get("properties", {})
    for name in names:
        props.pop(name, None)
    if "required" in schema:
        schema["required"] = [r for r in schema["required"] if r not in names]
    return schema


def input_schema_for_model(tool: ToolDefinition, drop: Collection[str] = META_KEYWORDS) -> dict[str, Any]:
    """The tool's input schema minus credentials, ``x-*`` and the ``drop`` keywords."""
    return _without_credentials(clean(tool.input_schema, drop), tool.credential_fields)


def output_schema_for_model(tool: ToolDefinition, drop: Collection[str] = META_KEYWORDS) -> dict[str, Any]:
    return clean(tool.output_schema, drop)


def portable(tool: ToolDefinition) -> dict[str, Any]:
    """Input schema for the tool-calling APIs that take plain JSON Schema (Anthropic, MCP, LangChain).

    Ordinary validation keywords stay (type, enum, pattern, min/max, default); composition and
    conditionals go (see :data:`CONDITIONAL_KEYWORDS`).
    """
    schema = input_schema_for_model(tool, META_KEYWORDS | CONDITIONAL_KEYWORDS)
    schema.pop("description", None)  # the tool's description carries it; no need to pay twice
    if not schema.get("required", True):
        del schema["required"]  # draft-04-era validators reject an empty list
    return schema


# -- limits as words ----------------------------------------------------------------------------


def _range(low: Any, high: Any, unit: str) -> str | None:
    tail = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low}-{high}{tail}"
    if high is not None:
        return f"at most {high}{tail}"
    if low is not None:
        return f"at least {low}{tail}" if unit != "characters" or low > 1 else "not empty"
    return None


def limits_phrase(schema: Mapping[str, Any]) -> str | None:
    """The length, range and item limits of one schema in words, e.g. ``"1-25 characters"``."""
    parts = [
        _range(schema.get("minLength"), schema.get("maxLength"), "characters"),
        _range(schema.get("minimum"), schema.get("maximum"), ""),
        _range(schema.get("minItems"), schema.get("maxItems"), "items"),
    ]
    found = [p for p in parts if p]
    return "; ".join(found) if found else None


_NUMBER = re.compile(r"[0-9]+")


def merge_description(description: str | None, *extra: str | None) -> str:
    """``description`` followed by each extra phrase that does not repeat what it already says.

    A phrase is skipped when every number in it already appears in the description (which then
    states the limit in its own words) or, for a default, when the description names the default.
    """
    text = (description or "").strip()
    have = set(_NUMBER.findall(text))
    for phrase in extra:
        if not phrase:
            continue
        if phrase.startswith("default"):
            if "default" in text.lower():
                continue
        elif (numbers := set(_NUMBER.findall(phrase))) and numbers <= have:
            continue
        sentence = phrase[0].upper() + phrase[1:] + "."
        if text and not text.endswith((".", "!", "?")):
            text += "."
        text = f"{text} {sentence}" if text else sentence
    return text


# -- OpenAI strict mode ---------------------------------------------------------------------------

# Keywords strict mode documents as supported. Length, range and item limits are left out on
# purpose (support has varied between models and API versions); they move into the descriptions.
_STRICT_KEYWORDS = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "pattern",
    }
)


def _nullable(schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, list):
        if "null" not in kind:
            schema["type"] = [*kind, "null"]
    elif isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]


def _strict(schema: Mapping[str, Any], *, optional: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "type" in schema:
        out["type"] = copy.deepcopy(schema["type"])
    default = schema.get("default")
    notes = [limits_phrase(schema)]
    if default is not None:
        notes.append(f"default {json.dumps(default)}")
    if optional:
        notes.append("null leaves it out" + (", so the default applies" if default is not None else ""))
    description = merge_description(schema.get("description"), *notes)
    if description:
        out["description"] = description
    if schema.get("type") == "object" or "properties" in schema:
        props: Mapping[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        out["type"] = "object"
        out["properties"] = {name: _strict(sub, optional=name not in required) for name, sub in props.items()}
        # Strict mode: every property listed, nothing else accepted; optional ones take null.
        out["required"] = list(props)
        out["additionalProperties"] = False
    if isinstance(schema.get("items"), Mapping):
        out["items"] = _strict(schema["items"], optional=False)
    for key in ("enum", "const", "pattern"):
        if key in schema:
            out[key] = copy.deepcopy(schema[key])
    if optional:
        _nullable(out)
    assert set(out) <= _STRICT_KEYWORDS
    return out


def openai_strict(tool: ToolDefinition) -> dict[str, Any]:
    """The input schema in the subset OpenAI's strict function calling accepts.

    Root and nested objects: ``additionalProperties: false`` and every property in ``required``;
    optional properties become ``[type, "null"]`` unions (``null`` means "leave it out": run the
    arguments through :func:`strip_nulls`); only the keywords in ``_STRICT_KEYWORDS`` remain.
    """
    schema = _strict(portable(tool), optional=False)
    schema.pop("description", None)  # the function's own description carries it
    return schema


def strip_nulls(value: Any) -> Any:
    """``value`` with every ``null`` object member removed, at any depth.

    No field of any tool takes ``null``: models (and OpenAI strict mode by design) send it for
    "not set", which the contract spells as an absent field.
    """
    if isinstance(value, Mapping):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value
