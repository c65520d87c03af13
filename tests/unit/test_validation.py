"""Bad input is refused before any HTTP request, naming the field and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from green_api_block import GreenApiBlock, InputValidationError, UnknownToolError
from green_api_block.guard import parse_chat_list
from green_api_block.validation import normalize_chat_id
from tests.support.credentials import CANARY, ID
from tests.support.mock import Recorder

CREDS = {"idInstance": ID, "apiTokenInstance": CANARY}


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def block(rec: Recorder) -> GreenApiBlock:
    return GreenApiBlock("http://127.0.0.1:1", transport=rec.transport(), credentials_from_env=False)


def _errors(block: GreenApiBlock, tool: str, args: Any) -> list[dict[str, str]]:
    with pytest.raises(InputValidationError) as info:
        block.execute(tool, args)
    assert isinstance(info.value, ValueError)
    assert CANARY not in str(info.value)
    return info.value.errors


MSG = "green_api_send_message"
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    (MSG, {"chatId": "79001234567@c.us"}, "message", "required"),
    (MSG, {"chatId": "79001234567@c.us", "message": ""}, "message", "minLength"),
    (MSG, {"chatId": "79001234567@c.us", "message": "x" * 20001}, "message", "maxLength"),
    (MSG, {"chatId": "79001234567@c.us", "message": 5}, "message", "type"),
    (MSG, {"chatId": "7900", "message": "x"}, "chatId", "pattern"),
    (MSG, {"chatId": "79001234567@c.usx", "message": "x"}, "chatId", "pattern"),
    (MSG, {"chatId": "٧٩٠٠١٢٣٤٥٦٧@c.us", "message": "x"}, "chatId", "pattern"),
    (MSG, {"chatId": "hello", "message": "x"}, "chatId", "pattern"),
    (MSG, {"chatId": "79001234567@c.us/../x", "message": "x"}, "chatId", "pattern"),
    (MSG, {"chatId": "79001234567@c.us", "message": "x", "quoted": "y"}, "quoted", "additionalProperties"),
    (
        "green_api_send_file",
        {"chatId": "79001234567@c.us", "urlFile": "ftp://x/a.pdf", "fileName": "a.pdf"},
        "urlFile",
        "pattern",
    ),
    (
        "green_api_send_file",
        {"chatId": "79001234567@c.us", "urlFile": "https://x.org/a", "fileName": "invoice"},
        "fileName",
        "pattern",
    ),
    (
        "green_api_send_file",
        {
            "chatId": "79001234567@c.us",
            "urlFile": "https://x.org/a",
            "fileName": "a.pdf",
            "caption": "c" * 1025,
        },
        "caption",
        "maxLength",
    ),
    (
        "green_api_send_buttons",
        {"chatId": "79001234567@c.us", "message": "m", "buttons": []},
        "buttons",
        "minItems",
    ),
    (
        "green_api_send_buttons",
        {"chatId": "79001234567@c.us", "message": "m", "buttons": [{"buttonText": "a"}] * 4},
        "buttons",
        "maxItems",
    ),
    (
        "green_api_send_buttons",
        {"chatId": "79001234567@c.us", "message": "m", "buttons": [{"buttonText": "x" * 26}]},
        "buttons[0].buttonText",
        "maxLength",
    ),
    (
        "green_api_send_buttons",
        {"chatId": "79001234567@c.us", "message": "m", "buttons": [{"buttonText": "a", "type": "call"}]},
        "buttons[0].phoneNumber",
        "required",
    ),
    (
        "green_api_send_buttons",
        {"chatId": "79001234567@c.us", "message": "m", "buttons": [{"buttonText": "a", "type": "sms"}]},
        "buttons[0].type",
        "enum",
    ),
    (
        "green_api_send_buttons",
        {
            "chatId": "79001234567@c.us",
            "message": "m",
            "buttons": [{"buttonText": "a"}, {"buttonText": "b", "type": "url", "url": "https://x.org"}],
        },
        "buttons",
        "not",
    ),
    ("green_api_get_notifications", {"receiveTimeout": 4}, "receiveTimeout", "minimum"),
    ("green_api_get_notifications", {"receiveTimeout": 61}, "receiveTimeout", "maximum"),
    ("green_api_get_notifications", {"receiveTimeout": 5.5}, "receiveTimeout", "type"),
    ("green_api_get_notifications", {"receiveTimeout": True}, "receiveTimeout", "type"),
    ("green_api_get_notifications", {"maxNotifications": 101}, "maxNotifications", "maximum"),
    ("green_api_get_notifications", {"deleteAfterReceive": "no"}, "deleteAfterReceive", "type"),
]


@pytest.mark.parametrize(("tool", "args", "path", "rule"), BAD)
def test_bad_input_names_field_and_rule(
    block: GreenApiBlock, rec: Recorder, tool: str, args: dict[str, Any], path: str, rule: str
) -> None:
    errors = _errors(block, tool, {**CREDS, **args})
    assert {"path": path, "rule": rule} in [{"path": e["path"], "rule": e["rule"]} for e in errors], errors
    assert all(e["message"] for e in errors)
    assert rec.requests == []


@pytest.mark.parametrize(
    ("creds", "path"),
    [
        ({"idInstance": "11010/00001", "apiTokenInstance": CANARY}, "idInstance"),
        ({"idInstance": "abc", "apiTokenInstance": CANARY}, "idInstance"),
        ({"idInstance": "", "apiTokenInstance": CANARY}, "idInstance"),
        ({"idInstance": ID, "apiTokenInstance": CANARY + "/../../x"}, "apiTokenInstance"),
        ({"idInstance": ID, "apiTokenInstance": CANARY + "?a=1"}, "apiTokenInstance"),
        ({"idInstance": ID, "apiTokenInstance": CANARY + "%2F"}, "apiTokenInstance"),
        ({"idInstance": ID, "apiTokenInstance": ".."}, "apiTokenInstance"),
        ({"idInstance": ID}, "apiTokenInstance"),
        ({"apiTokenInstance": CANARY}, "idInstance"),
    ],
)
def test_credentials_that_could_change_the_path_are_refused(
    block: GreenApiBlock, rec: Recorder, creds: dict[str, str], path: str
) -> None:
    errors = _errors(block, "green_api_get_state_instance", creds)
    assert path in [e["path"] for e in errors]
    for e in errors:
        assert CANARY not in e["message"] and CANARY not in e["path"]
    assert rec.requests == []


def test_every_problem_is_listed(block: GreenApiBlock) -> None:
    errors = _errors(
        block,
        "green_api_send_buttons",
        {
            "idInstance": "x",
            "apiTokenInstance": CANARY,
            "chatId": "no",
            "message": "",
            "buttons": [{"buttonText": ""}],
        },
    )
    assert {e["path"] for e in errors} == {"idInstance", "chatId", "message", "buttons[0].buttonText"}


def test_unknown_tool(block: GreenApiBlock, rec: Recorder) -> None:
    with pytest.raises(UnknownToolError) as info:
        block.execute("green_api_send_fax", CREDS)
    assert isinstance(info.value, InputValidationError)
    assert "green_api_send_message" in str(info.value)
    assert rec.requests == []


@pytest.mark.parametrize("args", [None, [], "x", 5])
def test_non_object_input(block: GreenApiBlock, args: Any) -> None:
    errors = _errors(block, MSG, args)
    assert errors[0]["rule"] == "type"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("+7 900 123-45-67", "79001234567@c.us"),
        ("7 (900) 123.45.67", "79001234567@c.us"),
        ("79001234567@s.whatsapp.net", "79001234567@c.us"),
        ("  79001234567@c.us ", "79001234567@c.us"),
        ("79001234567-1581234048@g.us", "79001234567-1581234048@g.us"),
        ("120650379300963@lid", "120650379300963@lid"),
    ],
)
def test_chat_id_normalisation(block: GreenApiBlock, given: str, expected: str) -> None:
    out = block.validate(MSG, {**CREDS, "chatId": given, "message": "x"})
    assert out["chatId"] == expected
    assert out["apiTokenInstance"] == "***"
    # The guard's allowlist reads chat ids the same way, so an allowed number matches its sends.
    assert normalize_chat_id(given) == expected
    assert parse_chat_list([given]) == {expected}


def test_nulls_for_optional_fields_are_dropped_and_int_id_accepted(block: GreenApiBlock) -> None:
    out = block.validate(
        "green_api_send_file",
        {
            "idInstance": int(ID),
            "apiTokenInstance": CANARY,
            "chatId": "79001234567@c.us",
            "urlFile": "https://x.org/a.pdf",
            "fileName": "a.pdf",
            "caption": None,
        },
    )
    assert "caption" not in out and out["idInstance"] == ID


def test_integral_float_is_an_integer(block: GreenApiBlock) -> None:
    out = block.validate("green_api_get_notifications", {**CREDS, "receiveTimeout": 20.0})
    assert out["receiveTimeout"] == 20


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_nan_and_inf_are_refused(block: GreenApiBlock, value: float) -> None:
    errors = _errors(block, "green_api_get_notifications", {**CREDS, "receiveTimeout": value})
    assert errors[0]["path"] == "receiveTimeout"


def test_nested_nulls_are_dropped_like_top_level_ones(block: GreenApiBlock) -> None:
    # What an OpenAI strict-mode call sends for buttons whose optional fields are "not set".
    button = {
        "buttonText": "Yes",
        "buttonId": None,
        "type": None,
        "copyCode": None,
        "phoneNumber": None,
        "url": None,
    }
    args = {
        **CREDS,
        "chatId": "79001234567@c.us",
        "message": "m",
        "header": None,
        "footer": None,
        "buttons": [button],
    }
    out = block.validate("green_api_send_buttons", args)
    assert out["buttons"] == [{"buttonText": "Yes"}]
