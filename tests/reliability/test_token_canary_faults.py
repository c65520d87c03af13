"""Guarantee 3 (library paths): a canary token never shows, whatever fault the sandbox injects.

The sandbox instance's token is the canary, so it travels in every URL path, as Green API's does,
and the sandbox's own error envelopes echo it (``path``), like the real service. For every
fault kind, every client path and every call the block makes (the five tools, ``find_sent``,
``delete_notification``), the canary must be absent from:

* the exception: ``str``, ``repr``, ``args``, ``to_dict()``, every attribute, the formatted
  traceback with its whole ``__cause__``/``__context__`` chain;
* the ``invoke``/``ainvoke`` envelope;
* every log record at DEBUG, of every logger (root, httpx, httpcore.*, aiohttp.*, asyncio,
  green_api_block): message, arguments and formatted exception.

The CLI's and the MCP server's outputs under the same faults: test_token_canary_surfaces.py.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

from green_api_block import GreenApiBlock, GreenApiBlockError, RetryPolicy, Timeouts
from green_api_block.sandbox import Sandbox, SandboxInstance

from .harness import CHAT, MODES, SANDBOX, close_block, make_block, report

pytestmark = SANDBOX

CANARY = "canaryR3L1ab1l1tyT0KEN" + "0123456789abcdef0123456789"[:28]
ONE_RETRY = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)
TIMEOUTS = Timeouts(connect=2, read=0.05, write=2, pool=2)
LOGGERS = (
    "",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
    "asyncio",
    "green_api_block",
)

# Every sandbox fault kind, with bodies that carry the canary where a body can.
SCENARIOS: dict[str, dict[str, Any] | None] = {
    "none": None,
    "delay_timeout": {"kind": "delay", "delay": 0.15},
    "status500_echo": {"kind": "status", "status": 500, "body": f'{{"message":"boom at /x/{CANARY}"}}'},
    "status502_html": {"kind": "status", "status": 502},
    "status401_echo": {"kind": "status", "status": 401, "body": f"Unauthorized /sendMessage/{CANARY}"},
    "status429": {"kind": "status", "status": 429, "retry_after": 60},
    "status466": {"kind": "status", "status": 466},
    "drop_before": {"kind": "drop_before"},
    "drop_after": {"kind": "drop_after"},
    "malformed_json": {"kind": "malformed_json", "process": True},
    "text_echo": {"kind": "text", "body": f"<html>{CANARY}</html>"},
    "text_plain_echo": {"kind": "text", "status": 400, "body": f"Validation failed: token {CANARY}"},
}

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("green_api_send_message", {"chatId": CHAT, "message": "hi"}),
    ("green_api_send_file", {"chatId": CHAT, "urlFile": "https://example.com/a.pdf", "fileName": "a.pdf"}),
    (
        "green_api_send_buttons",
        {"chatId": CHAT, "message": "pick", "buttons": [{"buttonText": "Yes"}, {"buttonText": "No"}]},
    ),
    ("green_api_get_notifications", {"maxNotifications": 3, "receiveTimeout": 5}),
    ("green_api_get_state_instance", {}),
    ("find_sent", {}),
    ("delete_notification", {}),
]


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _texts_of(exc: BaseException) -> list[str]:
    texts = ["".join(traceback.format_exception(exc)), str(exc), repr(exc), repr(exc.args)]
    texts += [repr(v) for v in vars(exc).values()]
    to_dict = getattr(exc, "to_dict", None)
    if to_dict is not None:
        texts.append(repr(to_dict()))
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        texts += [str(link), repr(link)]
        link = link.__cause__ or link.__context__
    return texts


def _texts_of_records(records: list[logging.LogRecord]) -> list[str]:
    formatter = logging.Formatter()
    texts = []
    for record in records:
        texts += [record.getMessage(), repr(record.args), str(record.msg)]
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
    return texts


async def _call(mode: str, block: GreenApiBlock, name: str, args: dict[str, Any]) -> Any:
    """One call; returns its result or the exception it raised, plus the invoke envelope."""
    import asyncio

    def sync_call() -> Any:
        if name == "find_sent":
            return block.find_sent(CHAT, message="hi", minutes=5)
        if name == "delete_notification":
            return block.delete_notification(12345)
        return block.execute(name, args)

    async def async_call() -> Any:
        if name == "find_sent":
            return await block.afind_sent(CHAT, message="hi", minutes=5)
        if name == "delete_notification":
            return await block.adelete_notification(12345)
        return await block.aexecute(name, args)

    try:
        result = await (asyncio.to_thread(sync_call) if mode == "sync" else async_call())
    except GreenApiBlockError as exc:
        result = exc
    envelope = None
    if not name.startswith(("find_", "delete_")):
        if mode == "sync":
            envelope = await asyncio.to_thread(block.invoke, name, args)
        else:
            envelope = await block.ainvoke(name, args)
    return result, envelope


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.green_api_instance(api_token=CANARY)
async def test_canary_absent_under_every_fault(
    mode: str,
    scenario: str,
    sandbox: Sandbox,
    instance: SandboxInstance,
    every_log: pytest.LogCaptureFixture,
) -> None:
    assert instance.api_token == CANARY
    fault = SCENARIOS[scenario]
    if fault is not None:
        sandbox.inject_fault(instance=instance, forever=True, **fault)
    sandbox.inject_incoming_text(instance, CHAT, "hello")
    block = make_block(mode, sandbox.url, instance, retry=ONE_RETRY, timeouts=TIMEOUTS)
    assert CANARY not in repr(block)
    errors = 0
    try:
        for name, args in CALLS:
            result, envelope = await _call(mode, block, name, args)
            texts = [repr(result), repr(envelope)]
            if isinstance(result, BaseException):
                errors += 1
                texts += _texts_of(result)
            for text in texts:
                assert CANARY not in text, f"{name}: the token leaked: {text[:300]}"
    finally:
        await close_block(block)
        sandbox.clear_faults()
    records = list(every_log.records)
    for text in _texts_of_records(records):
        assert CANARY not in text, f"a log record leaked the token: {text[:300]}"
    if fault is not None:
        assert errors, "the fault produced no error: the scenario tested nothing"
    report(
        "g3_canary",
        mode=mode,
        scenario=scenario,
        calls=2 * len(CALLS) - 2,
        errors=errors,
        log_records=len(records),
        leaks=0,
    )


@pytest.mark.parametrize("mode", MODES)
async def test_canary_absent_when_the_token_is_wrong(
    mode: str, sandbox: Sandbox, instance: SandboxInstance, every_log: pytest.LogCaptureFixture
) -> None:
    """The real 401 envelope echoes the request path, token included (REFERENCE.md §9)."""
    wrong = SandboxInstance(instance.id_instance, CANARY, sandbox.url, sandbox.url, instance.wid)
    block = make_block(mode, sandbox.url, wrong, retry=ONE_RETRY)
    try:
        for name, args in CALLS:
            result, envelope = await _call(mode, block, name, args)
            assert isinstance(result, GreenApiBlockError)
            assert getattr(result, "code", None) == "unauthorized"
            for text in [*_texts_of(result), repr(envelope)]:
                assert CANARY not in text
    finally:
        await close_block(block)
    for text in _texts_of_records(list(every_log.records)):
        assert CANARY not in text
