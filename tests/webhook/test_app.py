"""The receiver as an ASGI app: auth, body checks, the 200-after-the-handler rule, de-duplication."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import httpx
import pytest

from green_api_block.events import Event
from green_api_block.webhook import DeadLetters, MemoryDedupeStore, WebhookFilter, WebhookReceiver
from tests.support.credentials import CANARY, ID

from .bodies import GROUP, message, state
from .conftest import Make, Recorder, client_for, until


def assert_clean(caplog: pytest.LogCaptureFixture, *responses: httpx.Response) -> None:
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert "hello" not in record.getMessage() or record.levelno <= logging.DEBUG
    for response in responses:
        assert CANARY not in response.text


# ------------------------------------------------------------------------------ auth


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-wrong-token", f"Basic {CANARY}", CANARY, f"Bearer  {CANARY}x", "Bearer"],
)
async def test_anything_but_the_bearer_token_is_401_and_not_handled(
    make: Make, recorder: Recorder, authorization: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client_for(make(), token=None) as c:
        headers = {"Authorization": authorization} if authorization else {}
        r = await c.post("/", json=message(), headers=headers)
    assert r.status_code == 401
    assert recorder.calls == 0
    assert_clean(caplog, r)


async def test_the_bearer_token_is_accepted_and_the_200_follows_the_handler(
    client: httpx.AsyncClient, recorder: Recorder
) -> None:
    r = await client.post("/", json=message())
    assert r.status_code == 200
    assert [e.text for e in recorder.events] == ["hello"]


async def test_per_instance_mapping(make: Make, recorder: Recorder) -> None:
    app = make(token={int(ID): CANARY, "1101000002": "other-token-other-token"})
    async with client_for(app) as c:
        assert (await c.post("/", json=message())).status_code == 200
        # The right token of another instance is no key to this one.
        other = message("B1", id_instance=1101000002)
        assert (await c.post("/", json=other)).status_code == 401
        unknown = message("C1", id_instance=1101000009)
        assert (await c.post("/", json=unknown)).status_code == 401
    async with client_for(app, token="other-token-other-token") as c:
        assert (await c.post("/", json=message("B1", id_instance=1101000002))).status_code == 200
    assert [e.idMessage for e in recorder.events] == ["A1", "B1"]
    assert app.counters.unauthorized == 2


@pytest.mark.parametrize("is_async", [False, True])
async def test_per_instance_lookup(make: Make, recorder: Recorder, is_async: bool) -> None:
    tokens = {int(ID): CANARY}

    def look(id_instance: int) -> str | None:
        return tokens.get(id_instance)

    async def alook(id_instance: int) -> str | None:
        return tokens.get(id_instance)

    app = make(token=alook if is_async else look)
    async with client_for(app) as c:
        assert (await c.post("/", json=message())).status_code == 200
        assert (await c.post("/", json=message("X", id_instance=1101000003))).status_code == 401
        assert (await c.post("/", json={"typeWebhook": "x"})).status_code == 401  # no instance
    assert recorder.calls == 1


async def test_per_instance_tokens_check_size_and_json_first(make: Make, recorder: Recorder) -> None:
    async with client_for(make(token={int(ID): CANARY}), token="nope-nope-nope-nope") as c:
        assert (await c.post("/", content=b"{not json")).status_code == 400
        assert (await c.post("/", content=b"x" * (1024 * 1024 + 1))).status_code == 413
        assert (await c.post("/", json=message())).status_code == 401
    assert recorder.calls == 0


async def test_no_token_must_be_asked_for(recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="allow_unauthenticated"):
        WebhookReceiver(recorder, token=None)
    app = WebhookReceiver(recorder, token=None, allow_unauthenticated=True)
    async with client_for(app, token=None) as c:
        assert (await c.post("/", json=message())).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"token": ""}, "token"),
        ({"token": "two words"}, "token"),
        ({"token": 5}, "token"),
        ({"token": {}}, "token"),
        ({"token": {"abc": "tok-tok-tok"}}, "idInstance"),
        ({"token": "t0ken-t0ken", "allow_unauthenticated": True}, "allow_unauthenticated"),
        ({"handler_timeout": 0}, "handler_timeout"),
        ({"handler_timeout": float("inf")}, "handler_timeout"),
        ({"max_failures": 0}, "max_failures"),
        ({"max_failures": 1.5}, "max_failures"),
        ({"filter": {"event_types": ["x"]}}, "filter"),
        ({"store": object()}, "store"),
        ({"dead_letter": 3}, "dead_letter"),
        ({"path": "webhook"}, "path"),
    ],
)
async def test_every_argument_is_checked_at_construction(
    recorder: Recorder, kwargs: dict[str, Any], match: str
) -> None:
    kwargs.setdefault("token", CANARY)
    with pytest.raises((TypeError, ValueError), match=match) as info:
        WebhookReceiver(recorder, **kwargs)
    assert CANARY not in str(info.value)


async def test_the_handler_must_be_callable() -> None:
    with pytest.raises(TypeError, match="handler"):
        WebhookReceiver(42, token=CANARY)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ bodies


async def test_bodies_that_are_not_notifications(client: httpx.AsyncClient, recorder: Recorder) -> None:
    assert (await client.post("/", content=b"[1, 2]")).status_code == 400
    assert (await client.post("/", content=b"null")).status_code == 400
    assert (await client.post("/", content=b"{oops")).status_code == 400
    assert (await client.post("/", content=b"\xff\xfe")).status_code == 400
    deep = "[" * 5000 + "]" * 5000
    assert (await client.post("/", content=deep.encode())).status_code == 400
    assert (await client.get("/")).status_code == 405
    assert (await client.put("/", json=message())).status_code == 405
    big = b'{"a": "' + b"x" * (1024 * 1024) + b'"}'
    assert (await client.post("/", content=big)).status_code == 413
    assert recorder.calls == 0


async def test_a_streamed_body_is_counted_too(client: httpx.AsyncClient, recorder: Recorder) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 65536  # no Content-Length: chunked

    r = await client.post("/", content=chunks())
    assert r.status_code == 413
    assert recorder.calls == 0


async def test_path_and_lifespan(make: Make, recorder: Recorder) -> None:
    app = make(path="/hook")
    async with client_for(app) as c:
        assert (await c.post("/elsewhere", json=message())).status_code == 404
        assert (await c.post("/hook", json=message())).status_code == 200
    sent: list[dict[str, Any]] = []
    inbox = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> dict[str, Any]:
        return inbox.pop(0)

    async def send(m: Any) -> None:
        sent.append(m)

    await app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# ------------------------------------------------------------------------------ handler outcomes


async def test_a_failing_handler_gets_500_then_the_copy_is_handled_once(
    client: httpx.AsyncClient, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder.fail_next = 1
    first = await client.post("/", json=message())
    assert first.status_code == 500
    second = await client.post("/", json=message())
    assert second.status_code == 200
    third = await client.post("/", json=message())
    assert third.status_code == 200
    assert recorder.calls == 2 and len(recorder.events) == 1
    assert_clean(caplog, first, second, third)


async def test_duplicates_reach_the_handler_once(make: Make, recorder: Recorder) -> None:
    app = make()
    async with client_for(app) as c:
        for _ in range(3):
            assert (await c.post("/", json=message())).status_code == 200
        assert (await c.post("/", json=message("A2"))).status_code == 200
    assert [e.idMessage for e in recorder.events] == ["A1", "A2"]
    assert app.counters.duplicates == 2 and app.counters.accepted == 2


async def test_a_copy_arriving_while_the_first_runs_waits_for_its_outcome(
    make: Make, recorder: Recorder
) -> None:
    store = MemoryDedupeStore()
    app = make(store=store)
    recorder.gate = asyncio.Event()
    async with client_for(app) as c:
        first = asyncio.create_task(c.post("/", json=message()))
        await until(lambda: recorder.entered == 1, "the first copy in the handler")
        second = asyncio.create_task(c.post("/", json=message()))
        await until(lambda: store.waiting == 1, "the second copy waiting")
        assert not second.done()
        recorder.gate.set()
        assert (await first).status_code == 200
        assert (await second).status_code == 200
    assert recorder.calls == 1


async def test_a_copy_waiting_on_a_failure_is_not_200(make: Make, recorder: Recorder) -> None:
    store = MemoryDedupeStore()
    app = make(store=store)
    recorder.gate = asyncio.Event()
    recorder.fail_next = 1
    async with client_for(app) as c:
        first = asyncio.create_task(c.post("/", json=message()))
        await until(lambda: recorder.entered == 1, "the first copy in the handler")
        second = asyncio.create_task(c.post("/", json=message()))
        await until(lambda: store.waiting == 1, "the second copy waiting")
        recorder.gate.set()
        assert (await first).status_code == 500
        assert (await second).status_code == 503  # comes again
        recorder.gate = None
        assert (await c.post("/", json=message())).status_code == 200
    assert len(recorder.events) == 1


async def test_a_handler_past_its_timeout_gets_500_and_the_item_is_handled_again(
    make: Make, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make(handler_timeout=0.05)
    recorder.gate = asyncio.Event()  # never set for the first call
    async with client_for(app) as c:
        r = await c.post("/", json=message())
        assert r.status_code == 500
        recorder.gate = None
        assert (await c.post("/", json=message())).status_code == 200
    assert app.counters.timeouts == 1 and len(recorder.events) == 1
    assert_clean(caplog, r)


@pytest.mark.parametrize("is_async", [False, True])
async def test_sync_and_async_handlers(is_async: bool) -> None:
    seen: list[tuple[str | None, bool]] = []

    def sync_handler(event: Event) -> None:
        seen.append((event.text, threading.current_thread() is threading.main_thread()))

    async def async_handler(event: Event) -> None:
        seen.append((event.text, threading.current_thread() is threading.main_thread()))

    app = WebhookReceiver(async_handler if is_async else sync_handler, token=CANARY)
    async with client_for(app) as c:
        assert (await c.post("/", json=message())).status_code == 200
    # Sync handlers run in a worker thread: they may block without stalling other pushes.
    assert seen == [("hello", is_async)]


async def test_a_sync_handler_that_raises(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(event: Event) -> None:
        raise KeyError(f"{CANARY} {event.raw}")

    app = WebhookReceiver(handler, token=CANARY)
    async with client_for(app) as c:
        r = await c.post("/", json=message())
    assert r.status_code == 500
    assert_clean(caplog, r)


async def test_poison_items_are_dead_lettered_after_max_failures(
    make: Make, recorder: Recorder, caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    letters = DeadLetters(path=tmp_path / "dead.jsonl")
    app = make(max_failures=3, dead_letter=letters)
    recorder.fail_next = 100
    async with client_for(app) as c:
        codes = [(await c.post("/", json=message())).status_code for _ in range(3)]
        assert codes == [500, 500, 200]
        assert (await c.post("/", json=message())).status_code == 200  # given up on: done
        recorder.fail_next = 0
        assert (await c.post("/", json=message("A2"))).status_code == 200  # the queue moves on
    assert recorder.calls == 4
    assert [d.event.idMessage for d in letters.items] == ["A1"]
    assert letters.items[0].failures == 3 and letters.items[0].error == "RuntimeError"
    line = json.loads((tmp_path / "dead.jsonl").read_text().splitlines()[0])
    assert line["event"]["idMessage"] == "A1"
    assert ((tmp_path / "dead.jsonl").stat().st_mode & 0o077) == 0
    assert app.counters.dead_lettered == 1
    assert_clean(caplog)


async def test_a_failing_dead_letter_handler_keeps_the_item(make: Make, recorder: Recorder) -> None:
    async def broken(letter: Any) -> None:
        raise OSError("disk full")

    app = make(max_failures=1, dead_letter=broken)
    recorder.fail_next = 1
    async with client_for(app) as c:
        assert (await c.post("/", json=message())).status_code == 500
        assert (await c.post("/", json=message())).status_code == 200
    assert len(recorder.events) == 1


# ------------------------------------------------------------------------------ filters


async def test_own_sends_are_dropped_by_default(make: Make, recorder: Recorder) -> None:
    app = make()
    async with client_for(app) as c:
        own = message("S1", kind="outgoingAPIMessageReceived")
        assert (await c.post("/", json=own)).status_code == 200
    assert recorder.calls == 0 and app.counters.filtered == 1
    app = make(filter=WebhookFilter(include_own_sends=True))
    async with client_for(app) as c:
        assert (await c.post("/", json=own)).status_code == 200
    assert recorder.calls == 1


async def test_filters_by_type_chat_type_and_chat(make: Make, recorder: Recorder) -> None:
    flt = WebhookFilter(
        event_types=frozenset({"incomingMessageReceived"}),
        chat_types=frozenset({"group"}),
        chat_ids=frozenset({GROUP, "79005550000"}),
    )
    app = make(filter=flt)
    async with client_for(app) as c:
        for body in (
            message("1"),  # personal
            message("2", chat=GROUP),  # kept
            message("3", chat="79005550000@c.us"),  # a listed chat, but personal
            state(),  # no chat
            message("4", chat=GROUP, kind="outgoingMessageReceived"),
        ):
            assert (await c.post("/", json=body)).status_code == 200
    assert [e.idMessage for e in recorder.events] == ["2"]
    assert app.counters.filtered == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chat_types": ["channel"]},
        {"chat_types": "group"},
        {"event_types": "incomingMessageReceived"},
        {"event_types": []},
        {"chat_ids": ["not a chat"]},
        {"chat_ids": []},
        {"unknown": 1},
    ],
)
def test_the_filter_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WebhookFilter(**kwargs)


def test_the_filter_is_frozen() -> None:
    flt = WebhookFilter()
    with pytest.raises(ValueError):
        flt.include_own_sends = True


async def test_a_failing_token_lookup_is_500_and_leaks_nothing(
    make: Make, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def look(id_instance: int) -> str | None:
        raise RuntimeError(f"database down, token {CANARY}")

    def wrong_type(id_instance: int) -> str | None:
        return 42  # type: ignore[return-value]

    for lookup in (look, wrong_type):
        async with client_for(make(token=lookup)) as c:
            r = await c.post("/", json=message())
        assert r.status_code == 500
        assert_clean(caplog, r)
    assert recorder.calls == 0


async def test_no_response_echoes_the_request(client: httpx.AsyncClient) -> None:
    for body in (b'{"x": "' + CANARY.encode() + b'"', CANARY.encode(), b"[" + CANARY.encode() + b"]"):
        r = await client.post("/", content=body)
        assert r.status_code == 400 and CANARY not in r.text


class BrokenStore(MemoryDedupeStore):
    async def claim(self, key: str, lease: float) -> Any:
        raise ConnectionError(f"redis://:{CANARY}@db down")


async def test_a_store_that_fails_answers_500_without_handling(
    make: Make, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with client_for(make(store=BrokenStore())) as c:
        r = await c.post("/", json=message())
    assert r.status_code == 500 and recorder.calls == 0
    assert_clean(caplog, r)
