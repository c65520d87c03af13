"""The CLI's pure parts: line formatting, parameter typing, exit codes, colour and redaction rules."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from typing import Any

import pytest

from green_api_block.cli.core import parse_params, resolve_tool
from green_api_block.cli.interrupt import until_interrupted
from green_api_block.cli.output import Ui, error_payload, exit_code_for, sanitize
from green_api_block.cli.settings import MissingCredentialsError
from green_api_block.cli.watch import describe, format_line
from green_api_block.contract import load_tools
from green_api_block.errors import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    ConfigError,
    ForbiddenError,
    InputValidationError,
    InstanceNotAuthorizedError,
    NotFoundError,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TransportError,
    UnknownToolError,
)
from green_api_block.redact import register_secret
from tests.support.credentials import CANARY


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def msg(type_message: str, **payload: Any) -> dict[str, Any]:
    return {
        "typeWebhook": "incomingMessageReceived",
        "timestamp": 1718000000,
        "senderData": {"chatId": "79001234567@c.us", "sender": "79001234567@c.us", "senderName": "Ann"},
        "messageData": {"typeMessage": type_message, **payload},
    }


@pytest.mark.parametrize(
    ("body", "kind", "text"),
    [
        (msg("textMessage", textMessageData={"textMessage": "hi"}), "textMessage", "hi"),
        (
            msg("extendedTextMessage", extendedTextMessageData={"text": "a link"}),
            "extendedTextMessage",
            "a link",
        ),
        (msg("quotedMessage", extendedTextMessageData={"text": "re"}), "quotedMessage", "re"),
        (msg("imageMessage", fileMessageData={"caption": "cap", "fileName": "x.jpg"}), "imageMessage", "cap"),
        (
            msg("documentMessage", fileMessageData={"caption": "", "fileName": "a.pdf"}),
            "documentMessage",
            "a.pdf",
        ),
        (msg("audioMessage", fileMessageData={"fileName": "v.ogg"}), "audioMessage", "v.ogg"),
        (
            msg(
                "interactiveButtonsResponse",
                interactiveButtonsResponse={"selectedId": "yes", "selectedDisplayText": "Confirm"},
            ),
            "interactiveButtonsResponse",
            "[button] Confirm (yes)",
        ),
        (
            msg(
                "templateButtonsReplyMessage",
                templateButtonReplyMessage={"selectedId": "no", "selectedDisplayText": "Cancel"},
            ),
            "templateButtonsReplyMessage",
            "[button] Cancel (no)",
        ),
        (
            msg(
                "buttonsResponseMessage",
                buttonsResponseMessage={"selectedButtonId": "1", "selectedButtonText": "One"},
            ),
            "buttonsResponseMessage",
            "[button] One (1)",
        ),
        (
            msg(
                "locationMessage", locationMessageData={"latitude": 1.5, "longitude": 2, "address": "Main st"}
            ),
            "locationMessage",
            "[location] Main st (1.5, 2)",
        ),
        (msg("contactMessage", contactMessageData={"displayName": "Bob"}), "contactMessage", "[contact] Bob"),
        (msg("reactionMessage", extendedTextMessageData={"text": "👍"}), "reactionMessage", "[reaction] 👍"),
        (msg("pollMessage", pollMessageData={"name": "Lunch?"}), "pollMessage", "[poll] Lunch?"),
        (msg("stickerMessage", fileMessageData={}), "stickerMessage", ""),
        (msg("brandNewMessage", brandNew={"x": 1}), "brandNewMessage", ""),
        (
            {"typeWebhook": "outgoingMessageStatus", "chatId": "1@c.us", "status": "read", "idMessage": "AB"},
            "outgoingMessageStatus",
            "read AB",
        ),
        (
            {"typeWebhook": "stateInstanceChanged", "stateInstance": "authorized"},
            "stateInstanceChanged",
            "authorized",
        ),
        ({"typeWebhook": "incomingCall", "from": "1@c.us", "status": "missed"}, "incomingCall", "missed"),
        ({"typeWebhook": "quotaExceeded", "quotaData": {"status": "X"}}, "quotaExceeded", "X"),
        ({}, "unknown", ""),
        ({"typeWebhook": "incomingMessageReceived", "messageData": "garbage"}, "incomingMessageReceived", ""),
    ],
)
def test_describe_reads_every_documented_shape(body: dict[str, Any], kind: str, text: str) -> None:
    event = describe(body)
    assert (event.kind, event.text) == (kind, text)
    assert format_line(event)  # never raises, whatever the body


def test_outgoing_messages_name_the_side() -> None:
    body = msg("textMessage", textMessageData={"textMessage": "x"})
    assert describe({**body, "typeWebhook": "outgoingAPIMessageReceived"}).sender == "me (api)"
    assert describe({**body, "typeWebhook": "outgoingMessageReceived"}).sender == "me (phone)"
    assert describe(body).sender == "Ann"


def test_sanitize_keeps_wire_text_on_one_line_and_inert() -> None:
    assert sanitize("a\nb\tc\r") == "a⏎b c"
    assert sanitize("\x1b]0;pwned\x07\x9b") == "\\x1b]0;pwned\\x07\\x9b"
    line = format_line(describe(msg("textMessage", textMessageData={"textMessage": "x\x1b[2Jy\nz"})))
    assert "\x1b" not in line and "\n" not in line


def test_parse_params_types_values_by_the_schema() -> None:
    tool = load_tools()["green_api_get_notifications"]
    got = parse_params(tool, ["receiveTimeout=7", "deleteAfterReceive=off", "maxNotifications= 3"])
    assert got == {"receiveTimeout": 7, "deleteAfterReceive": False, "maxNotifications": 3}
    buttons = load_tools()["green_api_send_buttons"]
    assert parse_params(buttons, ['buttons=[{"buttonText": "A=B"}]', "message=a=b"]) == {
        "buttons": [{"buttonText": "A=B"}],
        "message": "a=b",
    }


def test_parse_params_never_echoes_a_rejected_value() -> None:
    tool = load_tools()["green_api_get_notifications"]
    with pytest.raises(InputValidationError) as info:
        parse_params(tool, [f"receiveTimeout={CANARY}", f"apiTokenInstance={CANARY}", "novalue"])
    assert CANARY not in str(info.value)
    assert [e["path"] for e in info.value.errors] == ["receiveTimeout", "apiTokenInstance", ""]


def test_resolve_tool_accepts_what_people_type() -> None:
    for name in ("green_api_send_file", "send_file", "send-file", "SEND-FILE"):
        assert resolve_tool(name) == "green_api_send_file"
    assert resolve_tool("state") == "green_api_get_state_instance"
    with pytest.raises(UnknownToolError):
        resolve_tool("send_fax")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InputValidationError("t", [{"path": "a", "rule": "r", "message": "m"}]), 2),
        (BadRequestError("x"), 2),
        (ConfigError("x"), 3),
        (MissingCredentialsError("x", hint="y"), 3),
        (AuthenticationError("x"), 3),
        (ForbiddenError("x"), 3),
        (InstanceNotAuthorizedError("x"), 3),
        (NotFoundError("x"), 3),
        (RateLimitError("x"), 4),
        (QuotaExceededError("x"), 4),
        (TransportError("x"), 5),
        (APITimeoutError("x"), 5),
        (ServerError("x"), 5),
        (OutcomeUnknownError("x"), 5),
        (BadResponseError("x"), 5),
        (KeyboardInterrupt(), 130),
        (RuntimeError("x"), 1),
    ],
)
def test_exit_codes(exc: BaseException, code: int) -> None:
    assert exit_code_for(exc) == code


def test_unexpected_errors_and_tracebacks_are_masked() -> None:
    register_secret(CANARY)
    out, err = io.StringIO(), io.StringIO()
    ui = Ui(json_mode=True, debug=True, stdout=out, stderr=err)
    try:
        raise RuntimeError(f"boom /sendMessage/{CANARY}")
    except RuntimeError as exc:
        code = ui.fail(exc, "send")
    assert code == 1
    assert "Traceback (most recent call last)" in err.getvalue()
    assert "/sendMessage/***" in err.getvalue()
    assert CANARY not in err.getvalue() + out.getvalue()
    assert error_payload(RuntimeError("x"))["code"] == "unexpected_error"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert Ui(stdout=FakeTty(), stderr=FakeTty()).paint("x", "red") == "\x1b[31mx\x1b[0m"
    assert Ui(stdout=io.StringIO(), stderr=FakeTty()).paint("x", "red") == "x"
    monkeypatch.setenv("NO_COLOR", "1")
    assert Ui(stdout=FakeTty(), stderr=FakeTty()).paint("x", "red") == "x"


def test_spinner_only_when_stderr_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    quiet = io.StringIO()
    with Ui(stdout=io.StringIO(), stderr=quiet).spinner("waiting", delay=0):
        pass
    assert quiet.getvalue() == ""
    tty = FakeTty()
    ui = Ui(stdout=io.StringIO(), stderr=tty)
    with ui.spinner("waiting", delay=0):
        deadline = time.monotonic() + 30  # a failure bound: the first frame comes at once
        while "waiting" not in tty.getvalue():
            assert time.monotonic() < deadline, "the spinner never drew"
            time.sleep(0.01)
    shown = tty.getvalue()
    assert "waiting" in shown and shown.endswith("\x1b[2K")  # cleared when done


def test_a_sigterm_before_the_wait_still_stops_cleanly() -> None:
    # What a client that acts on the banner at once does: the signal lands before wait().
    before = signal.getsignal(signal.SIGTERM)
    stopped = False
    with until_interrupted() as wait:
        os.kill(os.getpid(), signal.SIGTERM)
        wait()
        stopped = True
    assert stopped
    assert signal.getsignal(signal.SIGTERM) is before


def test_ctrl_c_anywhere_in_the_body_is_a_clean_stop() -> None:
    reached = []
    with until_interrupted():
        reached.append("banner")
        raise KeyboardInterrupt
    reached.append("after")
    assert reached == ["banner", "after"]


def test_until_interrupted_off_the_main_thread_leaves_signals_alone() -> None:
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []

    def body() -> None:
        with until_interrupted():
            seen.append(signal.getsignal(signal.SIGTERM))

    worker = threading.Thread(target=body)
    worker.start()
    worker.join(30)
    assert seen == [before]


def test_an_inherited_ignored_sigint_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with until_interrupted():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
