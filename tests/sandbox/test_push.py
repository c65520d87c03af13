"""Push delivery (webhookUrl) over real HTTP on 127.0.0.1: what a receiver sees, and the journal.

Each test starts its own receivers and sandbox, so the module is safe under ``--dist loadfile``
(and under any other distribution). Waits are bounded polls, never a sleep then an assert.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from green_api_block.sandbox import Sandbox, SandboxInstance
from green_api_block.sandbox.pushjournal import PUSH_JOURNAL_SIZE, PushJournal
from green_api_block.sandbox.records import PushAttempt
from tests.support.sandbox_http import CHAT, Api
from tests.support.stub_server import closed_port_url
from tests.support.webhook_receiver import Receiver, free_port, wait_until

RETRY = 0.05
pytestmark = pytest.mark.green_api_sandbox(
    rate_limits=False, max_receive_wait=0.2, webhook_timeout=0.5, webhook_retry_delay=RETRY
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _queue(sb: Sandbox, inst: SandboxInstance, n: int) -> list[int]:
    receipts = []
    for i in range(n):
        result = sb.inject_notification(inst, {"typeWebhook": "testItem", "n": i})
        assert result.receipt_id is not None
        receipts.append(result.receipt_id)
    return receipts


def _ns(bodies: list[Any]) -> list[int]:
    return [b["n"] for b in bodies]


def test_push_carries_bearer_token_and_the_exact_body(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    sandbox.set_settings(instance, webhookUrl=receiver.url, webhookUrlToken="hook-secret")
    result = sandbox.inject_incoming_text(instance, CHAT, "hi")
    wait_until(lambda: receiver.count() == 1, "the push")
    push = receiver.pushes[0]
    assert push.headers["Authorization"] == "Bearer hook-secret"
    assert push.headers["Content-Type"] == "application/json"
    assert push.body == result.body  # the whole body, no receiptId wrapper
    assert "receiptId" not in push.body
    wait_until(lambda: sandbox.notifications(instance) == [], "the 200 to empty the queue")
    [attempt] = sandbox.push_attempts(instance)
    assert (attempt.receipt_id, attempt.status, attempt.error, attempt.url) == (
        result.receipt_id,
        200,
        None,
        receiver.url,
    )
    assert "hook-secret" not in repr(sandbox.push_attempts(instance))
    assert "hook-secret" not in repr(sandbox.backend.webhook_target(instance.id_instance))


def test_no_authorization_header_without_a_token(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    sandbox.set_settings(instance, webhookUrl=receiver.url)
    sandbox.inject_incoming_text(instance, CHAT, "hi")
    wait_until(lambda: receiver.count() == 1, "the push")
    assert "Authorization" not in receiver.pushes[0].headers


def test_twenty_items_arrive_head_of_line_in_order(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    _queue(sandbox, instance, 20)  # queued before the URL: delivery starts with the setting
    sandbox.set_settings(instance, webhookUrl=receiver.url)
    wait_until(lambda: receiver.count() == 20, "20 pushes")
    assert _ns(receiver.bodies()) == list(range(20))
    assert len({p.client_port for p in receiver.pushes}) == 1  # one keep-alive connection
    wait_until(lambda: sandbox.notifications(instance) == [], "an empty queue")


def test_non_200_pushes_the_same_item_again_after_the_delay(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    receiver.script(500, 204, 200)  # only 200 counts: a 204 is "not delivered" too
    first, second = _queue(sandbox, instance, 2)
    sandbox.set_settings(instance, webhookUrl=receiver.url)
    wait_until(lambda: len(sandbox.push_attempts(instance)) == 4, "three tries, then the second item")
    assert _ns(receiver.bodies()) == [0, 0, 0, 1]
    attempts = sandbox.push_attempts(instance)
    assert [(a.receipt_id, a.status) for a in attempts] == [
        (first, 500),
        (first, 204),
        (first, 200),
        (second, 200),
    ]
    pushes = receiver.pushes
    assert pushes[1].at - pushes[0].at >= RETRY * 0.9  # the pause between tries
    assert pushes[2].at - pushes[1].at >= RETRY * 0.9


def test_receiver_down_for_three_rounds_then_up_loses_nothing(
    sandbox: Sandbox, instance: SandboxInstance
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    receipts = _queue(sandbox, instance, 5)
    sandbox.set_settings(instance, webhookUrl=url)
    wait_until(lambda: len(sandbox.push_attempts(instance)) >= 3, "three refused connections")
    attempts = sandbox.push_attempts(instance)
    assert {(a.receipt_id, a.status, a.error) for a in attempts} == {(receipts[0], None, "connection error")}
    with Receiver(port=port) as receiver:
        wait_until(lambda: receiver.count() == 5, "all five once the receiver is up")
        assert _ns(receiver.bodies()) == [0, 1, 2, 3, 4]
    assert sandbox.notifications(instance) == []


def test_a_receiver_slower_than_the_timeout_gets_the_same_item_again(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    receiver.hold(1.0)  # the first answer comes after webhook_timeout (0.5 s)
    first, second = _queue(sandbox, instance, 2)
    sandbox.set_settings(instance, webhookUrl=receiver.url)
    wait_until(lambda: len(sandbox.push_attempts(instance)) == 3, "the item again, then the next")
    assert _ns(receiver.bodies()) == [0, 0, 1]
    attempts = sandbox.push_attempts(instance)
    assert [(a.receipt_id, a.status, a.error) for a in attempts] == [
        (first, None, "timeout"),
        (first, 200, None),
        (second, 200, None),
    ]


def test_push_duplicate_pushes_the_item_twice_then_moves_on(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    fault = sandbox.inject_fault("push_duplicate", instance=instance)
    _queue(sandbox, instance, 2)
    sandbox.set_settings(instance, webhookUrl=receiver.url)
    wait_until(lambda: receiver.count() == 3, "a duplicate and the next item")
    assert _ns(receiver.bodies()) == [0, 0, 1]
    assert receiver.pushes[0].raw == receiver.pushes[1].raw
    assert (fault.hits, fault.remaining) == (1, 0)


def test_push_delay_holds_the_next_item(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    sandbox.set_settings(instance, webhookUrl=receiver.url)
    sandbox.inject_fault("push_delay", instance=instance, delay=0.5)
    queued_at = time.monotonic()
    _queue(sandbox, instance, 2)
    wait_until(lambda: receiver.count() == 2, "both items")
    assert receiver.pushes[0].at - queued_at >= 0.45  # the first waited out the delay
    assert _ns(receiver.bodies()) == [0, 1]


def test_push_pause_holds_everything_until_removed(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    pause = sandbox.inject_fault("push_pause", instance=instance)
    assert pause.remaining is None  # never used up
    sandbox.set_settings(instance, webhookUrl=receiver.url)
    _queue(sandbox, instance, 3)
    wait_until(lambda: pause.hits >= 1, "the pusher to meet the pause")
    assert receiver.count() == 0 and len(sandbox.notifications(instance)) == 3
    assert sandbox.faults.remove(pause.id)
    wait_until(lambda: receiver.count() == 3, "the queue after the pause")
    assert _ns(receiver.bodies()) == [0, 1, 2]


def test_push_pause_takes_no_times() -> None:
    with Sandbox() as sb, pytest.raises(ValueError, match="push_pause"):
        sb.inject_fault("push_pause", times=2)


def test_push_faults_never_touch_requests(sandbox: Sandbox, http: httpx.Client, api: Api) -> None:
    duplicate = sandbox.inject_fault("push_duplicate")
    api.send_text(http)
    assert http.get(api.url("getStateInstance")).status_code == 200
    assert duplicate.hits == 0


def test_non_loopback_url_is_saved_but_refused_and_journaled(
    sandbox: Sandbox, instance: SandboxInstance, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="green_api_block.sandbox.push")
    url = "http://192.0.2.1:8080/hook"  # TEST-NET-1: must never be connected to
    sandbox.set_settings(instance, webhookUrl=url, webhookUrlToken="t0ken")
    assert sandbox.get_settings(instance)["webhookUrl"] == url
    [receipt] = _queue(sandbox, instance, 1)
    wait_until(lambda: len(sandbox.push_attempts(instance)) >= 3, "three refused attempts")
    attempts = sandbox.push_attempts(instance)
    assert {(a.receipt_id, a.status, a.error, a.url) for a in attempts} == {
        (receipt, None, "refused: not loopback", url)
    }
    warnings = [r for r in caplog.records if "not a loopback host" in r.getMessage()]
    assert len(warnings) == 1 and "192.0.2.1" in warnings[0].getMessage()
    assert "t0ken" not in caplog.text and "/hook" not in caplog.text
    assert len(sandbox.notifications(instance)) == 1  # kept for a delivery that may yet happen


def test_allow_remote_webhooks_lets_the_pusher_try_any_host() -> None:
    url = "http://192.0.2.1:8080/hook"
    with Sandbox(webhook_timeout=0.2, webhook_retry_delay=RETRY, allow_remote_webhooks=True) as sb:
        inst = sb.create_instance(settings={"webhookUrl": url})
        sb.inject_notification(inst, {"typeWebhook": "testItem"})
        wait_until(lambda: len(sb.push_attempts(inst)) >= 1, "one attempt")
        assert sb.push_attempts(inst)[0].error in ("timeout", "connection error")


def test_an_invalid_url_is_journaled_and_retried(sandbox: Sandbox, instance: SandboxInstance) -> None:
    sandbox.set_settings(instance, webhookUrl="not a url")
    _queue(sandbox, instance, 1)
    wait_until(lambda: len(sandbox.push_attempts(instance)) >= 2, "two attempts")
    assert {a.error for a in sandbox.push_attempts(instance)} == {"invalid url"}


def test_the_journal_is_bounded_per_instance() -> None:
    journal = PushJournal(size=3)
    for i in range(5):
        journal.record("1", PushAttempt(i, "http://127.0.0.1/", 500, None, float(i)))
    assert [a.receipt_id for a in journal.attempts("1")] == [2, 3, 4]
    assert journal.attempts("2") == []
    assert PUSH_JOURNAL_SIZE == 1000


def test_polling_answers_null_while_a_url_is_set_and_works_again_after(
    sandbox: Sandbox, instance: SandboxInstance, http: httpx.Client, api: Api
) -> None:
    sandbox.inject_fault("push_pause", instance=instance)  # keep the item queued
    sandbox.set_settings(instance, webhookUrl=closed_port_url())
    [receipt] = _queue(sandbox, instance, 1)
    polled = http.get(api.url("receiveNotification"))
    assert (polled.status_code, polled.text) == (200, "null")
    # deleteNotification must not take the item the pusher is delivering.
    deleted = http.delete(api.url("deleteNotification", str(receipt)))
    assert deleted.json() == {"result": False}
    assert len(sandbox.notifications(instance)) == 1
    sandbox.set_settings(instance, webhookUrl="")
    polled = http.get(api.url("receiveNotification"))
    assert polled.json()["receiptId"] == receipt
    assert http.delete(api.url("deleteNotification", str(receipt))).json() == {"result": True}


def test_set_settings_over_http_starts_the_pusher(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver, http: httpx.Client, api: Api
) -> None:
    answer = http.post(api.url("setSettings"), json={"webhookUrl": receiver.url, "webhookUrlToken": "x"})
    assert answer.json() == {"saveSettings": True}
    api.send_text(http, "pushed")  # the bot preset queues outgoingAPIMessageReceived and a status
    wait_until(lambda: receiver.count() >= 1, "a push of the send's notifications")
    assert receiver.pushes[0].headers["Authorization"] == "Bearer x"


def test_a_settings_change_retargets_the_pusher(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver
) -> None:
    with Receiver() as second:
        sandbox.set_settings(instance, webhookUrl=receiver.url)
        _queue(sandbox, instance, 1)
        wait_until(lambda: sandbox.notifications(instance) == [], "the first receiver's 200")
        sandbox.set_settings(instance, webhookUrl=second.url, webhookUrlToken="new")
        sandbox.inject_notification(instance, {"typeWebhook": "testItem", "n": 1})
        wait_until(lambda: second.count() == 1, "the second receiver's push")
        # The receiver has the push before the sandbox has its 200: wait for the item to leave the
        # queue, else switching push off below races the removal (the item would stay queued).
        wait_until(lambda: sandbox.notifications(instance) == [], "the second receiver's 200")
        assert second.bodies() == [{"typeWebhook": "testItem", "n": 1}]
        assert second.pushes[0].headers["Authorization"] == "Bearer new"
        assert receiver.count() == 1
        sandbox.set_settings(instance, webhookUrl="")  # push off: the queue is for polling again
        sandbox.inject_notification(instance, {"typeWebhook": "testItem", "n": 2})
        assert len(sandbox.notifications(instance)) == 1
        assert second.count() == 1


def test_the_control_api_lists_pushes_and_adds_push_faults(
    sandbox: Sandbox, instance: SandboxInstance, receiver: Receiver, http: httpx.Client
) -> None:
    base = f"{sandbox.url}/__sandbox__"
    fault = http.post(f"{base}/faults", json={"kind": "push_pause", "instance": instance.id_instance})
    assert fault.status_code == 201 and fault.json()["kind"] == "push_pause"
    sandbox.set_settings(instance, webhookUrl=receiver.url, webhookUrlToken="secret-token")
    [receipt] = _queue(sandbox, instance, 1)
    assert http.get(f"{base}/instances/{instance.id_instance}/pushes").json() == []
    assert http.delete(f"{base}/faults/{fault.json()['id']}").status_code == 200
    wait_until(lambda: sandbox.push_attempts(instance) != [], "the push after the pause")
    answer = http.get(f"{base}/instances/{instance.id_instance}/pushes")
    [entry] = answer.json()
    assert {k: entry[k] for k in ("receiptId", "url", "status", "error")} == {
        "receiptId": receipt,
        "url": receiver.url,
        "status": 200,
        "error": None,
    }
    assert "secret-token" not in answer.text
    assert http.get(f"{base}/instances/999/pushes").status_code == 404


def test_close_mid_retry_returns_quickly_and_leaves_no_threads() -> None:
    before = set(threading.enumerate())
    sb = Sandbox(webhook_retry_delay=60.0).start()  # the real pause: close must not sit it out
    inst = sb.create_instance(settings={"webhookUrl": closed_port_url()})
    sb.inject_notification(inst, {"typeWebhook": "testItem"})
    wait_until(lambda: len(sb.push_attempts(inst)) == 1, "the first, failed, attempt")
    started = time.monotonic()
    sb.close()
    assert time.monotonic() - started < 2.0
    wait_until(lambda: not (set(threading.enumerate()) - before), "every new thread to end")


def test_close_with_a_post_in_flight_returns_quickly(receiver: Receiver) -> None:
    receiver.hold(3.0)
    sb = Sandbox(webhook_timeout=180.0).start()
    inst = sb.create_instance(settings={"webhookUrl": receiver.url})
    sb.inject_notification(inst, {"typeWebhook": "testItem"})
    wait_until(lambda: receiver.count() == 1, "the POST in flight")
    started = time.monotonic()
    sb.close()
    assert time.monotonic() - started < 2.0  # did not wait for the receiver's answer


@pytest.mark.parametrize("option", ["webhook_timeout", "webhook_retry_delay"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), "60", True])
def test_webhook_timings_must_be_positive_numbers(option: str, value: Any) -> None:
    with pytest.raises(ValueError, match=option):
        Sandbox(**{option: value})


def test_the_default_timings_are_green_apis() -> None:
    sb = Sandbox()
    assert (sb._pusher.timeout, sb._pusher.retry_delay, sb._pusher.allow_remote) == (180.0, 60.0, False)


# ------------------------------------------------------------------ the official receiver library


class _OfficialReceiver:
    """Green API's own webhook server library (tornado), on 127.0.0.1 in a thread with its own
    IOLoop. We only drive it: its licence (CC BY-ND) forbids derivatives."""

    def __init__(self, library: Any) -> None:
        self._library = library
        self.port = free_port()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="official-webhook-receiver", daemon=True)

    def on_event(self, type_webhook: str, body: dict[str, Any]) -> None:
        # A bound method: the library sets the callback on its handler class, where a plain
        # function would be bound to the handler and get it as a first argument.
        with self._lock:
            self.events.append((type_webhook, body))

    def _run(self) -> None:
        import tornado.ioloop

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._loop = tornado.ioloop.IOLoop.current()
            self._library.startServer("127.0.0.1", self.port, self.on_event, startLoop=False)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        self._loop.start()
        self._loop.close(all_fds=True)  # the listening socket too: the library keeps no handle
        if not loop.is_closed():
            loop.close()

    def __enter__(self) -> _OfficialReceiver:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.add_callback(self._loop.stop)
        self._thread.join(10)
        assert not self._thread.is_alive()


def test_the_official_receiver_library_receives_an_incoming_message(
    sandbox: Sandbox, instance: SandboxInstance
) -> None:
    library = pytest.importorskip("whatsapp_api_webhook_server_python.webhooksHandler")
    with _OfficialReceiver(library) as official:
        # The library serves "/" only.
        sandbox.set_settings(instance, webhookUrl=f"http://127.0.0.1:{official.port}/")
        result = sandbox.inject_incoming_text(instance, CHAT, "hello from the sandbox")
        wait_until(lambda: len(official.events) == 1, "the library's callback")
        wait_until(lambda: sandbox.notifications(instance) == [], "its 200 to empty the queue")
    [(type_webhook, body)] = official.events
    assert type_webhook == "incomingMessageReceived"
    assert body == result.body
    assert body["messageData"]["textMessageData"]["textMessage"] == "hello from the sandbox"
    assert [a.status for a in sandbox.push_attempts(instance)] == [200]
