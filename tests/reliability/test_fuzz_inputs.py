"""Hostile input, property-based: invalid input always gets InputValidationError with no request
made; valid input always produces exactly the documented request.

The oracle for "valid" is the JSON Schema (ECMA-262 pattern semantics) applied to the input after
the documented normalisation; the oracle for the request is written here from REFERENCE.md, not
taken from the tools' code.
"""

from __future__ import annotations

import json
import string
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from green_api_block import TOOL_IDS, GreenApiBlock, InputValidationError
from green_api_block import models as m
from green_api_block.contract import load_tools
from green_api_block.validation import EcmaValidator, normalize

TOOLS = load_tools()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if "/receiveNotification/" in request.url.path:
            return httpx.Response(200, content=b"null")
        if "/getStateInstance/" in request.url.path:
            return httpx.Response(200, json={"stateInstance": "authorized"})
        return httpx.Response(200, json={"idMessage": "FUZZ1"})


def _block(rec: Recorder) -> GreenApiBlock:
    return GreenApiBlock("http://127.0.0.1:1", transport=httpx.MockTransport(rec), credentials_from_env=False)


def _expected(tool: str, data: dict[str, Any]) -> tuple[str, str, dict[str, Any] | None, dict[str, str]]:
    """(verb, Green API method, JSON body, query) as REFERENCE.md documents them."""
    if tool == "green_api_send_message":
        return "POST", "sendMessage", {"chatId": data["chatId"], "message": data["message"]}, {}
    if tool == "green_api_send_file":
        body: dict[str, Any] = {k: data[k] for k in ("chatId", "urlFile", "fileName", "caption") if k in data}
        return "POST", "sendFileByUrl", body, {}
    if tool == "green_api_send_buttons":
        action = any(b.get("type") in ("copy", "call", "url") for b in data["buttons"])
        return "POST", "sendInteractiveButtons" if action else "sendInteractiveButtonsReply", None, {}
    if tool == "green_api_get_notifications":
        return "GET", "receiveNotification", None, {"receiveTimeout": str(data.get("receiveTimeout", 5))}
    return "GET", "getStateInstance", None, {}


def _check_valid_call(tool: str, args: dict[str, Any]) -> None:
    rec = Recorder()
    with _block(rec) as block:
        block.execute(tool, args)
    data = normalize(TOOLS[tool], args, {})
    verb, method, body, query = _expected(tool, data)
    first = rec.requests[0]
    assert len(rec.requests) == 1
    assert first.method == verb
    assert first.url.path == f"/waInstance{data['idInstance']}/{method}/{data['apiTokenInstance']}"
    assert dict(first.url.params) == query
    if body is not None:
        assert json.loads(first.content) == body
    if tool == "green_api_send_buttons":
        sent = json.loads(first.content)
        assert sent["chatId"] == data["chatId"] and sent["body"] == data["message"]
        assert [b["buttonText"] for b in sent["buttons"]] == [b["buttonText"] for b in data["buttons"]]
        assert all(b["buttonId"] for b in sent["buttons"])


def _rx(pattern: str, max_size: int | None = None) -> st.SearchStrategy[str]:
    strategy = st.from_regex(pattern.removeprefix("^").removesuffix("$"), fullmatch=True)
    return strategy.filter(lambda v: len(v) <= max_size) if max_size else strategy


def _optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


_creds = st.fixed_dictionaries(
    {"idInstance": _rx(m.ID_INSTANCE_PATTERN), "apiTokenInstance": _rx(m.TOKEN_PATTERN, 256)}
)
_phone = st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True)
_chat = st.one_of(
    _rx(m.CHAT_ID_PATTERN),
    _phone,
    _phone.map(lambda d: f"+{d[:1]} ({d[1:4]}) {d[4:7]}-{d[7:]}"),
    _phone.map(lambda d: f"{d}@s.whatsapp.net"),
)
_text = st.text(min_size=1, max_size=300)
_url = _rx(m.HTTP_URL_PATTERN, 2048).filter(lambda v: len(v) >= 8)
_reply = st.fixed_dictionaries(
    {"buttonText": st.text(min_size=1, max_size=25)},
    optional={"buttonId": st.text(min_size=1, max_size=20), "type": st.just("reply")},
)
_action = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("copy"),
            "buttonText": st.text(min_size=1, max_size=25),
            "copyCode": st.text(min_size=1, max_size=40),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("call"),
            "buttonText": st.text(min_size=1, max_size=25),
            "phoneNumber": _rx(m.PHONE_PATTERN),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("url"), "buttonText": st.text(min_size=1, max_size=25), "url": _url}
    ),
)
_VALID: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "green_api_send_message": st.fixed_dictionaries(
        {"chatId": _chat, "message": st.text(min_size=1, max_size=2000)}
    ),
    "green_api_send_file": st.tuples(
        st.fixed_dictionaries({"chatId": _chat, "urlFile": _url, "fileName": _rx(m.FILE_NAME_PATTERN, 255)}),
        _optional(caption=st.text(max_size=1024)),
    ).map(lambda t: {**t[0], **t[1]}),
    "green_api_send_buttons": st.tuples(
        st.fixed_dictionaries(
            {
                "chatId": _chat,
                "message": _text,
                "buttons": st.one_of(
                    st.lists(_reply, min_size=1, max_size=3), st.lists(_action, min_size=1, max_size=3)
                ),
            }
        ),
        _optional(header=st.text(min_size=1, max_size=60), footer=st.text(min_size=1, max_size=60)),
    ).map(lambda t: {**t[0], **t[1]}),
    "green_api_get_notifications": _optional(
        receiveTimeout=st.integers(5, 60),
        maxNotifications=st.integers(1, 100),
        deleteAfterReceive=st.booleans(),
    ),
    "green_api_get_state_instance": st.just({}),
}


def _valid_inputs(tool: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(_creds, _VALID[tool]).map(lambda t: {**t[0], **t[1]})


def _make_valid_test(tool: str) -> Any:
    @SETTINGS
    @given(args=_valid_inputs(tool))
    def test(args: dict[str, Any]) -> None:
        assert EcmaValidator(TOOLS[tool].input_schema).is_valid(normalize(TOOLS[tool], args, {}))
        _check_valid_call(tool, args)

    test.__name__ = f"test_valid_{tool}"
    return test


for _tool in TOOL_IDS:
    globals()[f"test_valid_{_tool}"] = _make_valid_test(_tool)

# Hostile values: wrong types, huge and control-character strings, NaN/inf, deep nesting, path tricks.
_nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),
    st.sampled_from(
        [
            "../",
            "/",
            "%2F",
            "?x=1",
            "#",
            "\n",
            "\x00",
            "79001234567@c.us/../../x",
            "a" * 30000,
            "79001234567@c.us\n",
            "1101000001/sendMessage",
            "..",
            "\u202e",
            "٧٩٠٠١٢٣٤٥٦٧@c.us",
        ]
    ),
)
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), _nasty_text
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


def _deep(n: int) -> Any:
    value: Any = "x"
    for _ in range(n):
        value = {"a": [value]}
    return value


def _hostile_inputs(tool: str) -> st.SearchStrategy[Any]:
    props = list(TOOLS[tool].input_schema["properties"])
    keys = st.one_of(st.sampled_from(props), st.text(alphabet=string.printable, max_size=12))
    valid = _valid_inputs(tool)
    mutated = st.tuples(valid, st.sampled_from([*props, "extra"]), _json).map(lambda t: {**t[0], t[1]: t[2]})
    return st.one_of(
        mutated,
        st.dictionaries(keys, _json, max_size=8),
        _json,
        st.just(_deep(2000)),
        st.builds(lambda v: {**v, "message": _deep(500)}, valid),
    )


def _make_hostile_test(tool: str) -> Any:
    @SETTINGS
    @given(args=_hostile_inputs(tool))
    def test(args: Any) -> None:
        rec = Recorder()
        block = _block(rec)
        try:
            block.execute(tool, args)
        except InputValidationError as exc:
            assert rec.requests == [], "no request for invalid input"
            assert exc.errors and all(e["message"] for e in exc.errors)
            return
        finally:
            block.close()
        # Accepted: then it was valid after normalisation, and the request is the documented one.
        data = normalize(TOOLS[tool], args, {})
        assert EcmaValidator(TOOLS[tool].input_schema).is_valid(data)
        _check_valid_call(tool, args)

    test.__name__ = f"test_hostile_{tool}"
    return test


for _tool in TOOL_IDS:
    globals()[f"test_hostile_{_tool}"] = _make_hostile_test(_tool)
