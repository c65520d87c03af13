"""The schema files are the contract: valid, named consistently, and in agreement with everything else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import green_api_block.tools as tools_pkg
from green_api_block import TOOL_IDS, GreenApiBlock
from green_api_block.contract import load_manifest, load_tools
from green_api_block.manifest import render_manifest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "schemas").glob("*.json"))


def test_ten_schema_files_for_five_tools() -> None:
    assert {p.name for p in SCHEMAS} == {f"{t}.{k}.json" for t in TOOL_IDS for k in ("input", "output")}


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_and_named_by_its_file(path: Path) -> None:
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/" + path.name)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    validator = Draft202012Validator(schema)
    assert schema["examples"], "every schema carries examples"
    for example in schema["examples"]:
        validator.validate(example)


@pytest.mark.parametrize("tool_id", TOOL_IDS)
def test_inputs_match_the_issue_tables(tool_id: str) -> None:
    tool = load_tools()[tool_id]
    props = tool.input_schema["properties"]
    assert props["idInstance"]["type"] == "string" and props["apiTokenInstance"]["type"] == "string"
    assert {"idInstance", "apiTokenInstance"} <= set(tool.input_schema["required"])
    assert tool.credential_fields == ("idInstance", "apiTokenInstance")
    assert props["apiTokenInstance"]["writeOnly"] is True


def test_output_tables() -> None:
    tools = load_tools()
    for t in ("green_api_send_message", "green_api_send_file", "green_api_send_buttons"):
        out = tools[t].output_schema
        assert out["required"] == ["idMessage", "success"]
        assert (
            out["properties"]["idMessage"]["type"] == "string"
            and out["properties"]["success"]["type"] == "boolean"
        )
    notif = tools["green_api_get_notifications"].output_schema["properties"]
    assert notif["notifications"]["type"] == "array" and notif["receiptId"]["type"] == ["integer", "null"]
    assert set(tools["green_api_get_state_instance"].output_schema["properties"]) == {"stateInstance"}


def test_one_name_per_tool_everywhere() -> None:
    """Schema file stem == tool id == tools/ module == manifest tool id == runtime definition."""
    manifest = load_manifest()
    runtime = [t.id for t in GreenApiBlock(credentials_from_env=False).tools]
    modules = sorted(
        f"green_api_{p.stem}"
        for p in Path(tools_pkg.__file__).parent.glob("*.py")
        if p.stem not in ("__init__", "base")
    )
    assert runtime == list(TOOL_IDS)
    assert manifest["tools"]["access"] == list(TOOL_IDS)
    assert [i["id"] for i in manifest["tools"]["items"]] == list(TOOL_IDS)
    assert sorted(TOOL_IDS) == modules
    assert sorted(tools_pkg.SPECS) == sorted(TOOL_IDS)


def test_manifest_is_up_to_date() -> None:
    assert (ROOT / "manifest.json").read_text() == render_manifest(), (
        "run python -m green_api_block.manifest --write"
    )


def test_manifest_agrees_with_schemas_and_runtime() -> None:
    manifest = load_manifest()
    defs = {t.id: t for t in GreenApiBlock(credentials_from_env=False).tools}
    assert manifest["type"] == "green_api"
    for key in ("name", "description", "longDescription", "category", "bgColor", "icon", "docsLink"):
        assert manifest[key]
    assert manifest["icon"]["svg"].startswith("<svg")
    token = next(c for c in manifest["credentials"] if c["id"] == "apiTokenInstance")
    assert token["password"] is True and token["control"] == "password"
    assert [o["id"] for o in manifest["operation"]["options"]] == list(TOOL_IDS)
    for item in manifest["tools"]["items"]:
        tool = defs[item["id"]]
        schema_in = json.loads((ROOT / item["inputSchema"]).read_text())
        schema_out = json.loads((ROOT / item["outputSchema"]).read_text())
        assert schema_in == tool.input_schema and schema_out == tool.output_schema
        assert item["name"] == tool.name and item["description"] == tool.description
        fields = {f["id"]: f for f in item["fields"]}
        assert set(fields) == set(tool.input_schema["properties"]) - {"idInstance", "apiTokenInstance"}
        for name, field in fields.items():
            assert field["required"] == (name in tool.input_schema["required"])
            assert field["condition"] == {"field": "operation", "value": [tool.id]}
            assert field["label"] and field["control"]
        assert set(item["outputs"]) == set(tool.output_schema["properties"])
    ids = [b["id"] for b in manifest["subBlocks"]]
    assert len(ids) == len(set(ids)), "sub-block ids are unique"


def test_tools_are_copies() -> None:
    block = GreenApiBlock(credentials_from_env=False)
    block.tools[0].input_schema["properties"].clear()
    assert block.tools[0].input_schema["properties"]


def _all_examples() -> list[tuple[str, str, Any]]:
    out = []
    for t in TOOL_IDS:
        tool = load_tools()[t]
        out += [(t, "input", e) for e in tool.input_schema["examples"]]
        out += [(t, "output", e) for e in tool.output_schema["examples"]]
    return out


@pytest.mark.parametrize(("tool_id", "kind", "example"), _all_examples())
def test_examples_pass_the_models_too(tool_id: str, kind: str, example: Any) -> None:
    from tests.contract.test_models_match_schemas import INPUT_MODELS, OUTPUT_MODELS

    model = (INPUT_MODELS if kind == "input" else OUTPUT_MODELS)[tool_id]
    model.model_validate(example)
