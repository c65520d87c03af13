"""``watch`` in a real process: each notification printed once, deleted only after it was printed,
and Ctrl-C (SIGINT) never loses one.

Signals are sent at points the sandbox reports (a poll arrived, a delete is being held), never
after a guessed sleep; the timeouts are failure bounds only, generous for a loaded machine.
"""

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
from green_api_block.sandbox import Notification, Sandbox, SandboxInstance
from tests.support.cli import CUSTOMER, SANDBOX, Cli, assert_no_canary, command
from tests.support.signals import sigint_default

pytestmark = SANDBOX

GROUP = "120363043968066561@g.us"
BOUND = 30.0  # seconds: only ever reached by a hang


class Watch:
    """A running ``green-api-block watch`` whose stdout lines can be awaited one by one."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            # As from an interactive shell, even if this test process inherited SIGINT ignored.
            sigint_default(command("watch", *args)),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, name="watch-stdout", daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def line(self, timeout: float = BOUND) -> str:
        item = self._lines.get(timeout=timeout)
        assert item is not None, "watch ended early"
        self.seen.append(item)
        return item

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(BOUND)
        while True:  # drain what was written before the signal
            item = self._lines.get(timeout=BOUND)
            if item is None:
                break
            self.seen.append(item)
        assert self.proc.stderr is not None
        stderr = self.proc.stderr.read()
        self._close()
        assert_no_canary("".join(self.seen), stderr)
        return code, stderr

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(BOUND)
        self._close()

    def _close(self) -> None:
        self._pump_thread.join(BOUND)  # the pipe is at EOF once the process is gone
        assert not self._pump_thread.is_alive(), "the stdout reader was left behind"
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


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


class QueueLog:
    """What the sandbox's queue saw, in order: each peek (a poll being served) and each delete."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int | None]] = []
        self.deleted: list[int] = []
        self._changed = threading.Condition()

    def record(self, kind: str, receipt_id: int | None) -> None:
        with self._changed:
            self.events.append((kind, receipt_id))
            if kind == "delete" and receipt_id is not None:
                self.deleted.append(receipt_id)
            self._changed.notify_all()

    def wait_for(self, check: Callable[[], bool], what: str) -> None:
        with self._changed:
            assert self._changed.wait_for(check, BOUND), f"{what}: not reached; last {self.events[-5:]}"

    def polling_after_deletes(self, count: int) -> bool:
        """``count`` deletes done and a poll served since: the watch has the last delete's answer
        and holds nothing in flight."""
        return len(self.deleted) == count and bool(self.events) and self.events[-1][0] == "peek"


@pytest.fixture
def queue_log(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> QueueLog:
    log = QueueLog()
    peek, delete = sandbox.backend.peek, sandbox.backend.delete

    def peeking(id_instance: str) -> Notification | None:
        item = peek(id_instance)
        log.record("peek", None if item is None else item.receipt_id)
        return item

    def deleting(id_instance: str, receipt_id: int) -> bool:
        ok = delete(id_instance, receipt_id)
        log.record("delete" if ok else "delete-missed", receipt_id)
        return ok

    monkeypatch.setattr(sandbox.backend, "peek", peeking)
    monkeypatch.setattr(sandbox.backend, "delete", deleting)
    return log


@pytest.fixture
def deletes(queue_log: QueueLog) -> list[int]:
    """Receipt ids the sandbox actually deleted, in order."""
    return queue_log.deleted


def wait_until(check: Callable[[], bool], what: str) -> None:
    """Poll a condition no callback announces, up to the failure bound."""
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, f"{what}: not reached"
        time.sleep(0.02)


def test_sigint_while_waiting_loses_nothing(
    watch: Callable[..., Watch],
    sandbox: Sandbox,
    instance: SandboxInstance,
    queue_log: QueueLog,
    deletes: list[int],
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
    # Interrupted in the next long poll, with nothing printed and undeleted.
    queue_log.wait_for(lambda: queue_log.polling_after_deletes(3), "back in a long poll")
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
    # The delete is held (then failed, not deleted) far longer than any signal can take to arrive:
    # Ctrl-C lands after the print, before the delete, however slow the machine.
    held = sandbox.inject_fault("status", method="deleteNotification", status=503, delay=BOUND, process=False)
    receipt = sandbox.inject_incoming_text(instance, CUSTOMER, "in flight").receipt_id
    w = watch("--json")
    assert json.loads(w.line())["receiptId"] == receipt
    wait_until(lambda: held.hits == 1, "the delete reached the sandbox")
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
    watch: Callable[..., Watch], sandbox: Sandbox, instance: SandboxInstance, queue_log: QueueLog
) -> None:
    w = watch()
    sandbox.inject_incoming_text(instance, CUSTOMER, "hello")
    assert "hello" in w.line()
    queue_log.wait_for(lambda: queue_log.polling_after_deletes(1), "back in a long poll")
    code, stderr = w.stop(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert "stopped before" not in stderr


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
