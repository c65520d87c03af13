"""The pydantic models and the schema files must not drift apart.

On a shared corpus (each schema's examples plus tests/contract/cases/*.json) both must give the
same verdict; property names, required sets, limits and patterns must agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

from green_api_block import TOOL_IDS
from green_api_block import models as m
from green_api_block.contract import load_tools
from green_api_block.tools import SPECS
from green_api_block.validation import EcmaValidator

INPUT_MODELS: dict[str, type[pydantic.BaseModel]] = {t: SPECS[t].model for t in TOOL_IDS}
OUTPUT_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "green_api_send_message": m.SendOutput,
    "green_api_send_file": m.SendOutput,
    "green_api_send_buttons": m.SendOutput,
    "green_api_get_notifications": m.NotificationsOutput,
    "green_api_get_state_instance": m.StateOutput,
}
CASES = Path(__file__).parent / "cases"


def _corpus() -> list[tuple[str, str, Any]]:
    rows: list[tuple[str, str, Any]] = []
    for path in sorted(CASES.glob("*.json")):
        data = json.loads(path.read_text())
        for kind in ("valid", "invalid"):
            rows += [(data["tool"], kind, case) for case in data[kind]]
    for t in TOOL_IDS:
        rows += [(t, "valid", e) for e in load_tools()[t].input_schema["examples"]]
    return rows


@pytest.mark.parametrize(("tool_id", "verdict", "case"), _corpus())
def test_same_verdict(tool_id: str, verdict: str, case: Any) -> None:
    schema_ok = EcmaValidator(load_tools()[tool_id].input_schema).is_valid(case)
    try:
        INPUT_MODELS[tool_id].model_validate(case)
        model_ok = True
    except pydantic.ValidationError:
        model_ok = False
    assert schema_ok == model_ok == (verdict == "valid")


def _model_fields(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    return dict(model.model_fields)


@pytest.mark.parametrize("tool_id", TOOL_IDS)
@pytest.mark.parametrize("kind", ["input", "output"])
def test_names_and_required_sets_agree(tool_id: str, kind: str) -> None:
    tool = load_tools()[tool_id]
    schema = tool.input_schema if kind == "input" else tool.output_schema
    model = (INPUT_MODELS if kind == "input" else OUTPUT_MODELS)[tool_id]
    fields = _model_fields(model)
    assert set(fields) == set(schema["properties"])
    required = {name for name, info in fields.items() if info.is_required()}
    assert required == set(schema["required"])


@pytest.mark.parametrize("tool_id", TOOL_IDS)
def test_limits_and_patterns_agree(tool_id: str) -> None:
    schema = load_tools()[tool_id].input_schema
    model_schema = INPUT_MODELS[tool_id].model_json_schema()
    for name, prop in schema["properties"].items():
        generated = model_schema["properties"][name]
        if "anyOf" in generated:  # Optional[...] -> the non-null branch
            generated = next(g for g in generated["anyOf"] if g.get("type") != "null")
        for key in (
            "minLength",
            "maxLength",
            "minimum",
            "maximum",
            "pattern",
            "minItems",
            "maxItems",
            "enum",
            "default",
        ):
            if key in prop and name != "apiTokenInstance":
                assert generated.get(key) == prop[key], (name, key)
    if tool_id == "green_api_send_buttons":
        button = model_schema["$defs"]["Button"]["properties"]
        for name, prop in schema["properties"]["buttons"]["items"]["properties"].items():
            gen = button[name]
            gen = next((g for g in gen.get("anyOf", [gen]) if g.get("type") != "null"), gen)
            for key in ("minLength", "maxLength", "pattern", "enum"):
                if key in prop:
                    assert gen.get(key) == prop[key], (name, key)


def test_token_pattern_agrees() -> None:
    prop = load_tools()["green_api_send_message"].input_schema["properties"]["apiTokenInstance"]
    assert prop["pattern"] == m.TOKEN_PATTERN
    assert prop["minLength"] == 1 and prop["maxLength"] == 256
