"""Contract tests: each export obeys its format's rules and still means what the schemas mean."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import types as mcp_types

from green_api_block import TOOL_IDS, GreenApiBlock
from green_api_block.contract import CREDENTIAL_FIELDS, ToolDefinition, load_tools
from green_api_block.exporters import FORMATS, export_tools, parse_arguments, strip_nulls
from tests.support.agents import SANDBOX

pytestmark = SANDBOX

CASES = Path(__file__).resolve().parent.parent / "contract" / "cases"
TOOLS = load_tools()
EXAMPLE_TOKEN = "d75b3a66374942c5b3c019c698abc2067e151558acbd412345"
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # OpenAI function names and Anthropic tool names
# What OpenAI documents for strict mode, minus the limits we move into descriptions on purpose.
STRICT_KEYWORDS = {"type", "description", "properties", "required", "additionalProperties", "items"}
STRICT_KEYWORDS |= {"enum", "const", "pattern", "anyOf", "$defs", "$ref"}


@pytest.fixture(scope="module")
def block() -> GreenApiBlock:
    return GreenApiBlock(credentials_from_env=False)


def walk(schema: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema (path, schema) in a JSON Schema."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key in ("properties", "$defs", "patternProperties"):
        for name, sub in schema.get(key, {}).items():
            yield from walk(sub, f"{path}/{key}/{name}")
    for key in ("items", "not", "if", "then", "else", "contains", "additionalProperties"):
        yield from walk(schema.get(key), f"{path}/{key}")
    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(key, [])):
            yield from walk(sub, f"{path}/{key}/{i}")


def keys_anywhere(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def cases(tool_id: str, kind: str = "valid") -> list[dict[str, Any]]:
    data = json.loads((CASES / f"{tool_id}.json").read_text())
    examples = TOOLS[tool_id].input_schema.get("examples", [])
    return [*data[kind], *examples] if kind == "valid" else data[kind]


def without_credentials(args: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in args.items() if k not in CREDENTIAL_FIELDS}


def fill_nulls(value: Any, schema: Mapping[str, Any]) -> Any:
    """An instance the way a strict-mode model writes it: every optional field present, null."""
    if isinstance(value, dict) and "properties" in schema:
        return {
            name: fill_nulls(value[name], sub) if name in value else None
            for name, sub in schema["properties"].items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [fill_nulls(v, schema["items"]) for v in value]
    return value


#: Where a format puts the tool's output schema (MCP, our JSON Schema export).
OUTPUT_KEYS = frozenset({"outputSchema", "output_schema"})


# -- every format ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_tool_in_order_with_no_credential_and_no_annotation(block: GreenApiBlock, fmt: str) -> None:
    exported = block.export_tools(fmt)
    assert len(exported) == len(TOOL_IDS)
    names = [t.get("name") or t.get("function", {}).get("name") for t in exported]
    assert names == list(TOOL_IDS)
    text = json.dumps(exported)
    for secret_ish in (EXAMPLE_TOKEN, "x-credential", "apiTokenInstance"):
        assert secret_ish not in text
    # What the model fills in names no credential; an output may (an event's idInstance).
    inputs = json.dumps([{k: v for k, v in t.items() if k not in OUTPUT_KEYS} for t in exported])
    for field in CREDENTIAL_FIELDS:
        assert field not in inputs
    assert not [k for k in keys_anywhere(exported) if k.startswith("x-")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_exports_are_fresh_and_leave_the_contract_alone(block: GreenApiBlock, fmt: str) -> None:
    before = json.dumps([t.input_schema for t in block.tools])
    first = block.export_tools(fmt)
    first[0].clear()
    assert block.export_tools(fmt)[0] != {}
    assert json.dumps([t.input_schema for t in block.tools]) == before


def test_unknown_format_names_the_known_ones(block: GreenApiBlock) -> None:
    with pytest.raises(ValueError, match="openai, openai-responses, anthropic, mcp, json-schema"):
        block.export_tools("gemini")
    assert export_tools(TOOLS, "JSON_Schema") == export_tools(TOOLS, "json-schema")


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "mcp"])
def test_descriptions_are_written_for_a_model(block: GreenApiBlock, fmt: str) -> None:
    for tool in block.export_tools(fmt):
        body = tool.get("function", tool)
        name, description = body["name"], body["description"]
        assert TOOLS[name].description in description  # the schema's own words come first
        if TOOLS[name].sends:
            assert "'79001234567@c.us'" in description  # chatId format with an example
            assert "rate_limited" in description and "outcome_unknown" in description
        assert "Limits:" in description or name == "green_api_get_state_instance"
        assert "token" not in description.lower()
    send_buttons = next(
        t for t in block.export_tools(fmt) if t.get("function", t)["name"].endswith("buttons")
    )
    text = send_buttons.get("function", send_buttons)["description"]
    # Limits come from the schema's keywords, not from prose kept by hand.
    for number in ("20000", "1-3 items", "1-25 characters", "1-60 characters"):
        assert number in text


# -- OpenAI strict mode ---------------------------------------------------------------------------


def strict_violations(tool: ToolDefinition, schema: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if schema.get("type") != "object":
        problems.append("root: type must be object")
    source = dict(walk(tool.input_schema))
    for path, sub in walk(schema):
        extra = set(sub) - STRICT_KEYWORDS
        if extra:
            problems.append(f"{path}: unsupported keywords {sorted(extra)}")
        kind = sub.get("type")
        if kind == "object" or (isinstance(kind, list) and "object" in kind):
            if sub.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties must be false")
            if sub.get("required") != list(sub.get("properties", {})):
                problems.append(f"{path}: required must list every property")
        parent_path, found, name = path.rpartition("/properties/")
        if not found or "/" in name:
            optional = False  # the root or an array's items: never nullable
        else:
            optional = name not in source.get(parent_path, {}).get("required", [])
        types = kind if isinstance(kind, list) else [kind]
        if optional != ("null" in types):
            problems.append(f"{path}: nullable must equal optional ({optional})")
        if "enum" in sub and optional != (None in sub["enum"]):
            problems.append(f"{path}: enum must take null exactly when optional")
    return problems


@pytest.mark.parametrize("shape", ["openai", "openai-responses"])
def test_openai_exports_follow_strict_mode_rules(block: GreenApiBlock, shape: str) -> None:
    for entry in block.export_tools(shape):
        function = entry["function"] if shape == "openai" else entry
        assert entry["type"] == "function"
        assert set(function) >= {"name", "description", "parameters", "strict"}
        assert function["strict"] is True
        assert NAME.match(function["name"])
        assert len(function["description"]) <= 1024
        tool = TOOLS[function["name"]]
        assert strict_violations(tool, function["parameters"]) == []
        Draft202012Validator.check_schema(function["parameters"])


def test_openai_strict_moves_limits_into_the_descriptions(block: GreenApiBlock) -> None:
    params = {e["function"]["name"]: e["function"]["parameters"] for e in block.export_tools("openai")}
    buttons = params["green_api_send_buttons"]["properties"]
    assert (
        "60" in buttons["header"]["description"] and "Null leaves it out" in buttons["header"]["description"]
    )
    assert "3" in buttons["buttons"]["description"]
    item = buttons["buttons"]["items"]["properties"]
    assert "256" in item["copyCode"]["description"]
    notifications = params["green_api_get_notifications"]["properties"]
    assert "Default 5" in notifications["receiveTimeout"]["description"]
    assert "60" in notifications["receiveTimeout"]["description"]


@pytest.mark.parametrize("tool_id", TOOL_IDS)
def test_openai_strict_accepts_every_valid_input_and_the_block_accepts_it_back(
    block: GreenApiBlock, tool_id: str
) -> None:
    schema = next(
        e["function"]["parameters"] for e in block.export_tools("openai") if e["function"]["name"] == tool_id
    )
    validator = Draft202012Validator(schema)
    credentials = {"idInstance": "1101000001", "apiTokenInstance": EXAMPLE_TOKEN}
    for case in cases(tool_id):
        model_args = fill_nulls(without_credentials(case), schema)
        assert not list(validator.iter_errors(model_args)), case
        # What the executor does with a strict-mode call: JSON in, nulls out, then the block.
        args = parse_arguments(json.dumps(model_args))
        assert block.validate(tool_id, {**args, **credentials})["apiTokenInstance"] == "***"


def test_strip_nulls_reaches_into_nested_buttons() -> None:
    args = {"chatId": "79001234567@c.us", "header": None, "buttons": [{"buttonText": "a", "type": None}]}
    assert strip_nulls(args) == {"chatId": "79001234567@c.us", "buttons": [{"buttonText": "a"}]}
    with pytest.raises(ValueError, match="JSON object"):
        parse_arguments("[1, 2]")


# -- Anthropic, MCP, plain JSON Schema ------------------------------------------------------------


def test_anthropic_tools(block: GreenApiBlock) -> None:
    for tool in block.export_tools("anthropic"):
        assert set(tool) == {"name", "description", "input_schema"}
        assert NAME.match(tool["name"])
        schema = tool["input_schema"]
        assert schema["type"] == "object" and "description" not in schema  # said once, in the tool
        assert schema.get("required", ["x"]) != []
        Draft202012Validator.check_schema(schema)
        # Conditionals are spelled out in the description instead (the block still enforces them).
        assert not keys_anywhere(schema) & {
            "allOf",
            "anyOf",
            "oneOf",
            "not",
            "if",
            "then",
            "$schema",
            "examples",
        }
        validator = Draft202012Validator(schema)
        for case in cases(tool["name"]):
            assert not list(validator.iter_errors(without_credentials(case))), case


def test_mcp_tools_parse_as_sdk_tools_with_honest_annotations(block: GreenApiBlock) -> None:
    for entry in block.export_tools("mcp"):
        tool = mcp_types.Tool.model_validate(entry)
        definition = TOOLS[tool.name]
        assert tool.title == definition.name
        assert tool.input_schema["type"] == "object" and tool.output_schema is not None
        assert tool.output_schema["type"] == "object"
        assert tool.annotations is not None
        hints = tool.annotations
        if definition.sends:
            assert hints.read_only_hint is False
            assert hints.idempotent_hint is False and hints.open_world_hint is True
        else:
            assert hints.read_only_hint is True
        # Output schema = the output file minus metadata; its examples still validate.
        output_validator = Draft202012Validator(tool.output_schema)
        for example in definition.output_schema["examples"]:
            assert not list(output_validator.iter_errors(example))
        # Metadata goes; the event definitions its $refs point to stay.
        assert {k for k in tool.output_schema if k.startswith("$")} <= {"$defs"}


def test_json_schema_keeps_the_whole_contract_but_the_credentials(block: GreenApiBlock) -> None:
    for tool in block.export_tools("json-schema"):
        definition = TOOLS[tool["name"]]
        schema = tool["input_schema"]
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"].endswith("2020-12/schema") and "$id" not in schema
        assert set(schema["properties"]) == set(definition.input_schema["properties"]) - set(
            CREDENTIAL_FIELDS
        )
        assert tool["output_schema"]["properties"] == definition.output_schema["properties"]
        validator = Draft202012Validator(schema)
        for example in schema.get("examples", []):
            assert not list(validator.iter_errors(example))
        original = Draft202012Validator(definition.input_schema)
        for case in cases(definition.id, "invalid"):
            if not isinstance(case, dict):
                continue
            with_good_credentials = {**case, "idInstance": "1101000001", "apiTokenInstance": EXAMPLE_TOKEN}
            if not list(original.iter_errors(with_good_credentials)):
                continue  # invalid only for its credentials, which the export leaves out
            assert list(validator.iter_errors(without_credentials(case))), case
    buttons = next(t for t in block.export_tools("json-schema") if t["name"] == "green_api_send_buttons")
    assert "not" in buttons["input_schema"]["properties"]["buttons"]  # the mixing rule survives


def test_the_strict_mode_checker_catches_each_kind_of_violation(block: GreenApiBlock) -> None:
    entry = next(e for e in block.export_tools("openai") if e["function"]["name"] == "green_api_send_buttons")
    schema = entry["function"]["parameters"]
    schema["properties"]["header"]["type"] = "string"  # optional but not nullable
    schema["properties"]["message"]["maxLength"] = 20000  # a limit strict mode may reject
    del schema["properties"]["buttons"]["items"]["additionalProperties"]
    schema["required"].remove("footer")
    problems = strict_violations(TOOLS["green_api_send_buttons"], schema)
    assert any("header: nullable" in p for p in problems)
    assert any("message: unsupported keywords ['maxLength']" in p for p in problems)
    assert any("items: additionalProperties" in p for p in problems)
    assert any(p.startswith("#: required") for p in problems)
