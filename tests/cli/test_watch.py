"""``watch`` in a real process: each notification printed once, deleted only after it was printed,
and Ctrl-C (SIGINT) never loses one."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from green_api_block import RetryPolicy
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.cli import CUSTOMER, SANDBOX, Cli, assert_no_canary, command

pytestmark = SANDBOX

GROUP = "120363043968066561@g.us"


class Watch:
    """A running ``green-api-block watch`` whose stdout lines can be awaited one by one."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            command("watch", *args),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def line(self, timeout: float = 10.0) -> str:
        item = self._lines.get(timeout=timeout)
        assert item is not None, "watch ended early"
        self.seen.append(item)
        return item

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10.0) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        while True:  # drain what was written before the signal
            item = self._lines.get(timeout=5)
            if item is None:
                break
            self.seen.append(item)
        assert self.proc.stderr is not None
        stderr = self.proc.stderr.read()
        assert_no_canary("".join(self.seen), stderr)
        return code, stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def watch(env: dict[str, str]) -> Iterator[Callable[..., Watch]]:
    started: list[Watch] = []

    def start(*args: str) -> Watch:
        w = Watch(env, *args)
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill()


@pytest.fixture
def deletes(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Receipt ids the sandbox actually deleted, in order."""
    done: list[int] = []
    original = sandbox.backend.delete

    def recording(id_instance: str, receipt_id: int) -> bool:
        ok = original(id_instance, receipt_id)
        if ok:
            done.append(receipt_id)
        return ok

    monkeypatch.setattr(sandbox.backend, "delete", recording)
    return done


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_sigint_while_waiting_loses_nothing(
    watch: Callable[..., Watch], sandbox: Sandbox, instance: SandboxInstance, deletes: list[int]
) -> None:
    w = watch("--json")
    injected = [
        sandbox.inject_incoming_text(instance, CUSTOMER, "first").receipt_id,
        sandbox.inject_incoming_text(instance, CUSTOMER, "second").receipt_id,
    ]
    printed = [json.loads(w.line()) for _ in injected]
    # More arrive while it runs: they are streamed as they come.
    injected.append(sandbox.inject_incoming_text(instance, CUSTOMER, "third").receipt_id)
    printed.append(json.loads(w.line()))
    assert [p["receiptId"] for p in printed] == injected
    assert [p["body"]["messageData"]["textMessageData"]["textMessage"] for p in printed] == [
        "first",
        "second",
        "third",
    ]
    wait_until(lambda: not sandbox.notifications(instance))
    time.sleep(0.2)  # back in a long poll
    code, stderr = w.stop()
    assert code == 130
    assert "stopped before" not in stderr
    assert len(w.seen) == 3  # each printed exactly once
    assert deletes == injected  # each deleted exactly once, after it was printed


def test_sigint_between_print_and_delete_redelivers_next_time(
    cli: Cli,
    watch: Callable[..., Watch],
    sandbox: Sandbox,
    instance: SandboxInstance,
    deletes: list[int],
) -> None:
    # The delete hangs (then fails without deleting): Ctrl-C lands after the print, before the delete.
    sandbox.inject_fault("status", method="deleteNotification", status=503, delay=1.5, process=False)
    receipt = sandbox.inject_incoming_text(instance, CUSTOMER, "in flight").receipt_id
    w = watch("--json")
    assert json.loads(w.line())["receiptId"] == receipt
    time.sleep(0.3)
    code, stderr = w.stop()
    assert code == 130
    assert f"stopped before receiptId {receipt} was confirmed deleted" in stderr
    assert deletes == []  # printed, not deleted: still queued
    assert [n.receipt_id for n in sandbox.notifications(instance)] == [receipt]

    res = cli("watch", "--json", "--count", "1")
    assert res.code == 0
    assert [json.loads(line)["receiptId"] for line in res.lines] == [receipt]
    assert deletes == [receipt]
    assert sandbox.notifications(instance) == []


def test_sigterm_stops_cleanly(
    watch: Callable[..., Watch], sandbox: Sandbox, instance: SandboxInstance
) -> None:
    w = watch()
    sandbox.inject_incoming_text(instance, CUSTOMER, "hello")
    assert "hello" in w.line()
    wait_until(lambda: not sandbox.notifications(instance))
    code, _ = w.stop(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM


def test_no_delete_peeks(cli: Cli, sandbox: Sandbox, instance: SandboxInstance, deletes: list[int]) -> None:
    first = sandbox.inject_incoming_text(instance, CUSTOMER, "one").receipt_id
    sandbox.inject_incoming_text(instance, CUSTOMER, "two")
    res = cli("watch", "--no-delete", "--json", "--count", "1")
    assert res.code == 0
    assert [json.loads(line)["receiptId"] for line in res.lines] == [first]
    assert deletes == []
    assert len(sandbox.notifications(instance)) == 2


def _columns(line: str) -> list[str]:
    return re.split(r" {2,}", line.rstrip("\n"))


def test_human_lines_for_each_notification_shape(
    cli: Cli, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.set_settings(instance, incomingCallWebhook="yes")
    buttons = json.dumps([{"buttonText": "Today", "buttonId": "today"}, {"buttonText": "Later"}])
    assert (
        cli(
            "run",
            "send_buttons",
            "-p",
            f"chatId={CUSTOMER}",
            "-p",
            "message=When?",
            "-p",
            f"buttons={buttons}",
        ).code
        == 0
    )
    sandbox.clear_notifications(instance)
    sandbox.inject_incoming_text(instance, CUSTOMER, "hi\nthere \x1b[2J", sender_name="Anna")
    sandbox.inject_extended_text(instance, CUSTOMER, "see https://example.org", sender_name="Anna")
    sandbox.inject_incoming_image(instance, GROUP, caption="receipt", sender=CUSTOMER, sender_name="Bob")
    sandbox.inject_incoming_document(instance, CUSTOMER, "report.pdf", sender_name="Anna")
    sandbox.inject_button_tap(instance, CUSTOMER, button_id="today", sender_name="Anna")
    sandbox.inject_button_tap(
        instance, CUSTOMER, button_id="today", variant="templateButtonsReplyMessage", sender_name="Anna"
    )
    sandbox.inject_button_tap(instance, CUSTOMER, button_id="today", variant="buttonsResponseMessage")
    sandbox.inject_location(instance, CUSTOMER, 55.75, 37.61, name="Office")
    sandbox.inject_contact(instance, CUSTOMER, "Bob", "79001112233")
    sandbox.inject_incoming_call(instance, CUSTOMER)
    sandbox.set_state(instance, "notAuthorized")
    sandbox.inject_notification(instance, {"typeWebhook": "somethingNew", "timestamp": 1})
    expected = [
        [CUSTOMER, "Anna", "textMessage", "hi⏎there \\x1b[2J"],
        [CUSTOMER, "Anna", "extendedTextMessage", "see https://example.org"],
        [GROUP, "Bob", "imageMessage", "receipt"],
        [CUSTOMER, "Anna", "documentMessage", "report.pdf"],
        [CUSTOMER, "Anna", "interactiveButtonsResponse", "[button] Today (today)"],
        [CUSTOMER, "Anna", "templateButtonsReplyMessage", "[button] Today (today)"],
        [CUSTOMER, "Customer", "buttonsResponseMessage", "[button] Today (today)"],
        [CUSTOMER, "Customer", "locationMessage", "[location] Office (55.75, 37.61)"],
        [CUSTOMER, "Customer", "contactMessage", "[contact] Bob"],
        [CUSTOMER, CUSTOMER, "incomingCall", "offer"],
        ["-", "-", "stateInstanceChanged", "notAuthorized"],
        ["-", "-", "somethingNew"],
    ]
    res = cli("watch", "--count", str(len(expected)))
    assert res.code == 0, res.stderr
    rows = [_columns(line) for line in res.lines]
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", row[0]) for row in rows)
    assert [row[1:] for row in rows] == expected
    assert "\x1b" not in res.stdout  # no colour off a terminal, and no escape from the wire
    assert sandbox.notifications(instance) == []


def test_status_lines_and_outgoing_messages(cli: Cli, sandbox: Sandbox, instance: SandboxInstance) -> None:
    assert cli("send", "hello", "--to", CUSTOMER).code == 0
    sent = sandbox.sent_messages(instance)[0]
    res = cli("watch", "--count", "2")
    rows = [_columns(line)[1:] for line in res.lines]
    assert rows == [
        [CUSTOMER, "me (api)", "textMessage", "hello"],
        [CUSTOMER, "-", "outgoingMessageStatus", f"sent {sent.id_message}"],
    ]


def test_watch_with_a_wrong_token_fails_at_once(cli: Cli) -> None:
    res = cli("watch", "--json", extra_env={"GREEN_API_TOKEN_INSTANCE": "wrongtoken0123456789"})
    assert res.code == 3
    assert json.loads(res.stdout)["error"]["code"] == "unauthorized"
    assert res.stderr.startswith("error: watch: ")


def test_bad_receive_timeout_is_a_usage_error(run_main: Cli) -> None:
    res = run_main("watch", "--receive-timeout", "2")
    assert res.code == 2
    assert "receiveTimeout" in res.stderr


def test_failed_delete_is_retried_without_printing_twice(
    env: dict[str, str],
    sandbox: Sandbox,
    instance: SandboxInstance,
    deletes: list[int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process, with a fast retry policy: the block gives up on the delete once, watch backs off
    # and tries again, and the notification it already printed is not printed a second time.
    from green_api_block import GreenApiBlock
    from green_api_block.cli import main
    from green_api_block.cli import watch as watch_module

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    fast = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)

    def make_block(settings: Any) -> GreenApiBlock:
        return GreenApiBlock(
            settings.api_url.value,
            id_instance=settings.id_instance.value,
            api_token=settings.api_token.value,
            credentials_from_env=False,
            retry=fast,
        )

    monkeypatch.setattr(watch_module, "make_block", make_block)
    monkeypatch.setattr(watch_module, "_MAX_BACKOFF", 0.05)
    sandbox.inject_fault("status", method="deleteNotification", status=500, times=3)
    receipt = sandbox.inject_incoming_text(instance, CUSTOMER, "once").receipt_id
    assert main(["watch", "--json", "--count", "1"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["receiptId"] for line in out.splitlines()] == [receipt]
    assert f"deleting receiptId {receipt} failed (server_error)" in err
    assert deletes == [receipt]
