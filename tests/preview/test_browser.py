"""The preview in headless Chromium: the form a builder user sees, drawn from the manifest alone.

One browser and one page (on a preview bound to an embedded sandbox) for the module; the tests
run in file order and the last one checks everything the page fetched or logged for the token.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from green_api_block import TOOL_IDS
from green_api_block.contract import load_manifest, load_tools
from green_api_block.preview import TOKEN_MARKER, PreviewServer
from green_api_block.sandbox import Sandbox
from green_api_block.validation import EcmaValidator, error_path, normalize, schema_errors
from tests.support.browser import ARTIFACTS, Session, open_page, unavailable, visible_params

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:
    unavailable(
        "playwright is not installed (pip install playwright; it needs no browser download)", module=True
    )

CASES = Path(__file__).resolve().parents[1] / "contract" / "cases"
CUSTOMER = "79001234567@c.us"


def field_id(sub_block_id: str) -> str:
    return "#f-" + re.sub(r"[^A-Za-z0-9_-]", "-", sub_block_id)


def choose(page: Page, tool_id: str) -> None:
    page.select_option(field_id("operation"), tool_id)


def run_and_wait(page: Page) -> dict[str, Any]:
    page.click("#run")
    expect(page.locator("#output-status")).to_have_attribute("data-kind", re.compile("ok|error"))
    envelope: dict[str, Any] = json.loads(page.text_content("#output-json") or "null")
    return envelope


# ------------------------------------------------------------------------------ the card and form


def test_card_is_drawn_from_the_manifest(session: Session) -> None:
    page, manifest = session.page, load_manifest()
    assert page.text_content("#block-name") == manifest["name"]
    assert page.text_content("#block-description") == manifest["description"]
    assert page.title().startswith(manifest["name"])
    assert page.locator(".block-icon svg").count() == 1
    hex_color = manifest["bgColor"].lstrip("#")
    rgb = tuple(int(hex_color[i : i + 2], 16) for i in (0, 2, 4))
    background = page.eval_on_selector(".block-icon", "e => getComputedStyle(e).backgroundColor")
    assert background == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"
    options = page.eval_on_selector_all(
        f"{field_id('operation')} option", "els => els.map(o => [o.value, o.textContent])"
    )
    assert options == [[o["id"], o["label"]] for o in manifest["operation"]["options"]]
    assert [o[0] for o in options] == list(TOOL_IDS)
    assert page.input_value(field_id("operation")) == manifest["operation"]["default"]
    assert page.get_attribute(field_id("apiTokenInstance"), "type") == "password"
    # The server holds the sandbox token: the field shows the fixed marker, never the token.
    assert page.input_value(field_id("apiTokenInstance")) == TOKEN_MARKER
    assert page.get_attribute(".block-foot a", "href") == manifest["docsLink"]


@pytest.mark.parametrize("tool_id", TOOL_IDS)
def test_each_operation_shows_exactly_its_schema_fields(session: Session, tool_id: str) -> None:
    page = session.page
    choose(page, tool_id)
    tool = load_tools()[tool_id]
    props: dict[str, Any] = tool.input_schema["properties"]
    required = set(tool.input_schema["required"])
    advanced = {k for k, v in props.items() if v.get("x-ui", {}).get("advanced")}
    basic = [k for k in props if k not in advanced]

    page.evaluate("() => GreenApiPreview.setAdvanced(false)")
    assert visible_params(page) == ["operation", *basic]
    toggle = page.locator("#advanced-toggle")
    if advanced:
        expect(toggle).to_be_visible()
        toggle.click()
    else:
        expect(toggle).to_be_hidden()
    shown = visible_params(page)
    assert shown[0] == "operation" and sorted(shown[1:]) == sorted(props)

    for param, prop in props.items():
        ui = prop["x-ui"]
        wrap = page.locator(f'#block-form .field:not([hidden])[data-param="{param}"]')
        expect(wrap).to_have_count(1)
        assert wrap.locator(".label-text").text_content() == ui["label"]
        assert (wrap.locator(".field-label .required").count() == 1) == (param in required), param
        assert wrap.get_attribute("data-control") == ui["control"]
        placeholder = ui.get("placeholder")
        if placeholder and ui["control"] != "password":
            target = wrap.locator("input, textarea").first
            assert target.get_attribute("placeholder") == placeholder
    expected_outputs = list(tool.output_schema["properties"])
    outputs = page.eval_on_selector_all("#outputs-list .output", "els => els.map(e => e.dataset.output)")
    assert outputs == expected_outputs
    page.evaluate("() => GreenApiPreview.setAdvanced(false)")


# ------------------------------------------------------------------------------ running


def test_invalid_chat_id_is_reported_next_to_the_field_and_nothing_is_sent(session: Session) -> None:
    page = session.page
    choose(page, "green_api_send_message")
    runs = session.traffic.runs
    page.fill(field_id("green_api_send_message.chatId"), "not-a-chat")
    page.fill(field_id("green_api_send_message.message"), "hello")
    page.click("#run")
    error = page.locator(field_id("green_api_send_message.chatId") + "-error")
    expect(error).to_be_visible()
    schema = load_tools()["green_api_send_message"].input_schema
    assert error.text_content() == schema["properties"]["chatId"]["x-errorMessage"]
    expect(page.locator(".field.invalid")).to_have_count(1)
    expect(page.locator("#output-status")).to_have_attribute("data-kind", "error")
    assert session.traffic.runs == runs, "an invalid form must not reach the block"

    # An empty required field: "is required", next to that field.
    page.fill(field_id("green_api_send_message.message"), "")
    page.fill(field_id("green_api_send_message.chatId"), CUSTOMER)
    page.click("#run")
    expect(page.locator(field_id("green_api_send_message.message") + "-error")).to_have_text("is required")
    expect(page.locator(field_id("green_api_send_message.chatId") + "-error")).to_be_hidden()
    assert session.traffic.runs == runs


def test_send_message_shows_id_message(session: Session, preview: PreviewServer) -> None:
    page = session.page
    choose(page, "green_api_send_message")
    # A phone number is accepted, as the block normalises it (the page mirrors that).
    page.fill(field_id("green_api_send_message.chatId"), "+7 900 123-45-67")
    page.fill(field_id("green_api_send_message.message"), "Order #42 is ready")
    envelope = run_and_wait(page)
    assert envelope["ok"] is True, envelope
    assert preview.sandbox is not None and preview.sandbox_instance is not None
    sent = preview.sandbox.sent_messages(preview.sandbox_instance)[-1]
    assert envelope["output"] == {"idMessage": sent.id_message, "success": True}
    assert sent.chat_id == CUSTOMER and sent.text == "Order #42 is ready"
    expect(page.locator('.value-row[data-output="idMessage"] .value')).to_have_text(sent.id_message)
    expect(page.locator(".field-error:visible")).to_have_count(0)


def test_send_buttons_editor(session: Session, preview: PreviewServer) -> None:
    page = session.page
    choose(page, "green_api_send_buttons")
    sub = next(s for s in load_manifest()["subBlocks"] if s["id"] == "green_api_send_buttons.buttons")
    text_limit = next(f["maxLength"] for f in sub["itemFields"] if f["id"] == "buttonText")
    editor = page.locator(field_id(sub["id"]))
    rows = editor.locator(".btn-row")
    add = editor.locator(".add-button")
    expect(rows).to_have_count(1)
    expect(editor.locator(".btn-count")).to_have_text(f"1 / {sub['maxItems']}")
    expect(editor.locator(".hint")).to_contain_text(f"Up to {sub['maxItems']} buttons")
    expect(editor.locator(".hint")).to_contain_text(f"up to {text_limit} characters")
    while rows.count() < sub["maxItems"]:
        add.click()
    expect(add).to_be_disabled()
    expect(rows.nth(0).locator(".counter")).to_have_text(f"0 / {text_limit}")

    page.fill(field_id("green_api_send_buttons.chatId"), CUSTOMER)
    page.fill(
        field_id("green_api_send_buttons.message"),
        "Confirm the booking? Reply 1 or 2 if buttons do not show.",
    )
    rows.nth(0).locator("[data-item=buttonText]").fill("x" * (text_limit + 1))
    expect(rows.nth(0).locator(".counter")).to_have_class(re.compile("over"))
    rows.nth(1).locator("[data-item=buttonText]").fill("Cancel")
    # An action button among reply buttons: the copy code field appears, the mix is refused.
    rows.nth(2).locator("[data-item=type]").select_option("copy")
    expect(rows.nth(2).locator('[data-item-field="copyCode"]')).to_be_visible()
    expect(rows.nth(2).locator('[data-item-field="buttonId"]')).to_be_hidden()
    rows.nth(2).locator("[data-item=buttonText]").fill("Copy promo")
    runs = session.traffic.runs
    page.click("#run")
    expect(rows.nth(0).locator('[data-item-error="buttonText"]')).to_have_text(
        f"must be at most {text_limit} characters long (got {text_limit + 1})"
    )
    expect(rows.nth(2).locator('[data-item-error="copyCode"]')).to_have_text("is required")
    schema = load_tools()["green_api_send_buttons"].input_schema
    expect(page.locator(field_id(sub["id"]) + "-error")).to_have_text(
        schema["properties"]["buttons"]["x-errorMessage"]
    )
    assert session.traffic.runs == runs

    rows.nth(2).locator(".remove").click()
    expect(add).to_be_enabled()
    rows.nth(0).locator("[data-item=buttonText]").fill("Confirm")
    rows.nth(0).locator("[data-item=buttonId]").fill("yes")
    rows.nth(1).locator("[data-item=buttonId]").fill("no")
    envelope = run_and_wait(page)
    assert envelope["ok"] is True, envelope
    assert preview.sandbox is not None and preview.sandbox_instance is not None
    sent = preview.sandbox.sent_messages(preview.sandbox_instance)[-1]
    assert sent.id_message == envelope["output"]["idMessage"]
    assert sent.method == "sendInteractiveButtonsReply"
    assert [b["buttonText"] for b in sent.payload["buttons"]] == ["Confirm", "Cancel"]

    # The customer taps "Confirm": the reply shows in the notifications panel.
    preview.sandbox.inject_button_tap(preview.sandbox_instance, CUSTOMER, button_id="yes", sender_name="Ann")
    tap = page.locator('#notif-list .notif[data-type="incomingMessageReceived"]').filter(has_text="Confirm")
    expect(tap).to_contain_text("Ann (79001234567@c.us): Confirm")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-send-buttons.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        overflow = page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, "the page must fit a phone-width screen"
        page.screenshot(path=str(ARTIFACTS / "preview-send-buttons-phone.png"), full_page=True)
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def test_injected_message_appears_in_the_notifications_panel(
    session: Session, preview: PreviewServer
) -> None:
    page = session.page
    assert preview.sandbox is not None and preview.sandbox_instance is not None
    preview.sandbox.inject_incoming_text(
        preview.sandbox_instance, CUSTOMER, "Is my order ready?", sender_name="Ann"
    )
    item = page.locator('#notif-list .notif[data-type="incomingMessageReceived"]').filter(
        has_text="Is my order ready?"
    )
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Ann")
    # The panel's own "customer message" form goes through the same sandbox.
    page.fill("#sim-text", "Second question")
    page.click("#simulate button")
    expect(page.locator("#notif-list .notif").filter(has_text="Second question")).to_have_count(1)


def test_get_notifications_and_state_run_from_the_form(session: Session) -> None:
    page = session.page
    choose(page, "green_api_get_notifications")
    expect(page.locator("#advanced-toggle")).to_have_attribute("aria-expanded", "false")
    page.click("#advanced-toggle")
    page.fill(field_id("green_api_get_notifications.maxNotifications"), "100")
    envelope = run_and_wait(page)
    assert envelope["ok"] is True, envelope
    incoming = [
        n["body"]["messageData"]
        for n in envelope["output"]["notifications"]
        if n["body"]["typeWebhook"] == "incomingMessageReceived"
    ]
    assert [m["typeMessage"] for m in incoming] == [
        "interactiveButtonsResponse",
        "textMessage",
        "textMessage",
    ]
    assert [m["textMessageData"]["textMessage"] for m in incoming[1:]] == [
        "Is my order ready?",
        "Second question",
    ]
    # Listed once in the panel, even though it has now been received through the tool too.
    expect(page.locator("#notif-list .notif").filter(has_text="Is my order ready?")).to_have_count(1)

    page.fill(field_id("green_api_get_notifications.maxNotifications"), "")
    page.fill(field_id("green_api_get_notifications.receiveTimeout"), "61")
    page.click("#run")
    expect(page.locator(field_id("green_api_get_notifications.receiveTimeout") + "-error")).to_have_text(
        "must be at most 60"
    )
    page.fill(field_id("green_api_get_notifications.receiveTimeout"), "")

    choose(page, "green_api_get_state_instance")
    envelope = run_and_wait(page)
    assert envelope == {"ok": True, "output": {"stateInstance": "authorized"}}


# ------------------------------------------------------------------------------ the trigger


def test_trigger_view_shows_the_url_the_filters_and_the_outputs(
    session: Session, preview: PreviewServer
) -> None:
    page, manifest = session.page, load_manifest()
    assert manifest["triggers"]["available"] == ["green_api_webhook"]
    trigger = manifest["triggers"]["items"][0]
    card = page.locator("#trigger")
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-trigger-id", trigger["id"])
    expect(page.locator("#trigger-name")).to_have_text(trigger["name"])
    expect(page.locator("#trigger-description")).to_have_text(trigger["description"])
    drawn = page.eval_on_selector_all("#trigger-fields .field", "els => els.map(e => e.dataset.subBlock)")
    assert drawn == [sub["id"] for sub in trigger["subBlocks"]]
    subs = {sub["id"]: sub for sub in trigger["subBlocks"]}
    for sub_id, sub in subs.items():
        label = page.locator(f'#trigger-fields .field[data-sub-block="{sub_id}"] .label-text')
        expect(label).to_have_text(sub["label"])
    # The webhook URL to copy: the preview's own receiver, read-only.
    url = page.locator(field_id("trigger.webhookUrl"))
    expect(url).to_have_value(str(preview.webhook_url))
    assert url.get_attribute("readonly") is not None
    # The token: a secret the server holds, shown as the fixed marker.
    assert page.get_attribute(field_id("trigger.webhookUrlToken"), "type") == "password"
    expect(page.locator(field_id("trigger.webhookUrlToken"))).to_have_value(TOKEN_MARKER)
    # The filters, with the options the manifest lists.
    for sub_id in ("eventTypes", "chatTypes"):
        values = page.eval_on_selector_all(
            field_id(f"trigger.{sub_id}") + " input[type=checkbox]", "els => els.map(e => e.value)"
        )
        assert values == [o["id"] for o in subs[sub_id]["options"]], sub_id
    assert page.eval_on_selector(field_id("trigger.chatIds"), "e => e.tagName") == "TEXTAREA"
    assert page.get_attribute(field_id("trigger.includeOwnSends"), "role") == "switch"
    assert page.is_checked(field_id("trigger.includeOwnSends")) is False
    # The outputs: every Event field with its Sim type.
    outputs = page.eval_on_selector_all(
        "#trigger-outputs .output",
        "els => els.map(e => [e.dataset.output, e.querySelector('.output-type').textContent])",
    )
    assert outputs == [[name, spec["type"]] for name, spec in trigger["outputs"].items()]
    expect(page.locator("#trigger-listen")).not_to_be_checked()


def test_a_customer_message_arrives_as_a_pushed_event(session: Session, preview: PreviewServer) -> None:
    page = session.page
    sandbox, inst = preview.sandbox, preview.sandbox_instance
    assert sandbox is not None and inst is not None
    # Only incoming messages: the state change below must be filtered out by the receiver.
    page.check(field_id("trigger.eventTypes") + ' input[value="incomingMessageReceived"]')
    page.click("#trigger-listen")
    expect(page.locator("#trigger")).to_have_attribute("data-listening", "true")
    settings = sandbox.get_settings(inst)
    assert settings["webhookUrl"] == preview.webhook_url and settings["webhookUrlToken"]

    page.fill("#sim-text", "Where is my parcel?")
    page.click("#simulate button")
    event = page.locator(
        '#trigger-event-list .trigger-event[data-event-type="incomingMessageReceived"]'
    ).filter(has_text="Where is my parcel?")
    expect(event).to_have_count(1)
    expect(event.locator('.event-row[data-field="text"] .value')).to_have_text("Where is my parcel?")
    expect(event.locator('.event-row[data-field="chatId"] .value')).to_have_text(CUSTOMER)
    expect(event.locator('.event-row[data-field="chatType"] .value')).to_have_text("personal")
    # It came by push: the sandbox's journal has the POST to the preview, answered 200.
    attempts = sandbox.push_attempts(inst)
    assert attempts and attempts[-1].url == preview.webhook_url and attempts[-1].status == 200

    # Head of line: whatever was queued before the message has been pushed by now, so the
    # counters are still until the next notification.
    before = httpx.get(preview.url + "/api/trigger", timeout=5).json()
    events = page.locator("#trigger-event-list .trigger-event")
    expect(events).to_have_count(before["last"])
    sandbox.set_state(inst, "blocked")  # a stateInstanceChanged: pushed, and filtered out
    filtered = before["counters"]["filtered"] + 1
    expect(page.locator("#trigger-counters")).to_contain_text(f" {filtered} filtered out")
    expect(events).to_have_count(before["last"])

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "preview-trigger.png"), full_page=True)
    # A chat id the filter refuses: the error stays next to it through the next poll, and the
    # receiver keeps the last accepted filter.
    chat_ids = page.locator(field_id("trigger.chatIds"))
    chat_ids.fill("not-a-chat")
    chat_ids.blur()
    status = page.locator("#trigger-status")
    expect(status).to_have_attribute("data-kind", "error")
    expect(status).to_contain_text("is not a chat id")
    with page.expect_response(lambda r: "/api/trigger?after=" in r.url):
        pass
    expect(status).to_contain_text("is not a chat id")
    expect(chat_ids).to_have_value("not-a-chat")
    assert preview.config is not None and preview.config.trigger is not None
    assert preview.config.trigger.filter.chat_ids is None
    chat_ids.fill("")
    chat_ids.blur()
    expect(status).to_have_attribute("data-kind", "ok")

    sandbox.set_state(inst, "authorized")
    page.click("#trigger-listen")
    expect(page.locator("#trigger")).to_have_attribute("data-listening", "false")
    assert sandbox.get_settings(inst)["webhookUrl"] == ""
    page.uncheck(field_id("trigger.eventTypes") + ' input[value="incomingMessageReceived"]')


def test_the_token_never_reaches_the_page(session: Session, token: str, preview: PreviewServer) -> None:
    page, traffic = session.page, session.traffic
    page.focus(field_id("apiTokenInstance"))
    assert token not in page.content()
    assert token not in page.evaluate(
        "() => document.documentElement.outerHTML + JSON.stringify(localStorage)"
    )
    assert traffic.urls and not [u for u in traffic.urls if token in u]
    assert traffic.bodies and not [b for b in traffic.bodies if token in b]
    assert not [p for p in traffic.posts if token in p[1]]
    assert not [m for m in traffic.console if token in m]
    # Nor the trigger's webhook token (the receiver's secret), anywhere the page went.
    assert preview.config is not None and preview.config.trigger is not None
    secret = preview.config.trigger.token
    assert secret not in page.content()
    assert not [b for b in traffic.bodies + [p[1] for p in traffic.posts] + traffic.urls if secret in b]
    assert not [m for m in traffic.console if m.startswith(("error", "pageerror"))], traffic.console
    assert all(u.startswith(session.url) for u in traffic.urls), "nothing may be fetched from elsewhere"


# ------------------------------------------------------------------------------ a typed token


def test_a_typed_token_travels_only_in_the_post_body(browser: Browser, sandbox: Sandbox) -> None:
    inst = sandbox.create_instance()
    with PreviewServer(api_url=sandbox.url) as preview:
        s = open_page(browser, preview.url + "#green_api_get_state_instance")
        try:
            page = s.page
            assert page.input_value(field_id("apiTokenInstance")) == ""
            expect(page.locator("#mode")).to_have_text("Live instance")
            # The trigger is still drawn from the manifest, without the sandbox's live part.
            trigger = load_manifest()["triggers"]["items"][0]
            expect(page.locator("#trigger-name")).to_have_text(trigger["name"])
            url_sub = next(sub for sub in trigger["subBlocks"] if sub["id"] == "webhookUrl")
            expect(page.locator(field_id("trigger.webhookUrl"))).to_have_value("")
            assert page.get_attribute(field_id("trigger.webhookUrl"), "placeholder") == url_sub["placeholder"]
            expect(page.locator("#trigger-listen")).to_have_count(0)
            expect(page.locator("#trigger-events")).to_be_hidden()
            expect(page.locator("#trigger-outputs .output")).to_have_count(len(trigger["outputs"]))
            page.fill(field_id("idInstance"), inst.id_instance)
            page.fill(field_id("apiTokenInstance"), "bad/token")
            page.click("#run")
            expect(page.locator(field_id("apiTokenInstance") + "-error")).to_have_text(
                load_tools()["green_api_get_state_instance"].input_schema["properties"]["apiTokenInstance"][
                    "x-errorMessage"
                ]
            )
            page.fill(field_id("apiTokenInstance"), inst.api_token)
            envelope = run_and_wait(page)
            assert envelope == {"ok": True, "output": {"stateInstance": "authorized"}}
            # A wrong token (401): one character changed, never to what it already was.
            wrong = ("1" if inst.api_token[0] == "0" else "0") + inst.api_token[1:]
            page.fill(field_id("apiTokenInstance"), wrong)
            envelope = run_and_wait(page)
            assert envelope["ok"] is False and envelope["error"]["code"] == "unauthorized"

            token, traffic = inst.api_token, s.traffic
            posts = [body for url, body in traffic.posts if url.endswith("/api/run")]
            assert len(posts) == 2 and token in posts[0]
            assert token not in page.content()
            assert not [u for u in traffic.urls if token in u or wrong in u]
            assert not [b for b in traffic.bodies if token in b or wrong in b]
            assert not [m for m in traffic.console if token in m]
        finally:
            s.page.context.close()


# ------------------------------------------------------------------------------ the validator


def _corpus() -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for path in sorted(CASES.glob("*.json")):
        data = json.loads(path.read_text())
        rows += [(data["tool"], case) for kind in ("valid", "invalid") for case in data[kind]]
    for tool_id in TOOL_IDS:
        rows += [(tool_id, e) for e in load_tools()[tool_id].input_schema["examples"]]
    base = {"idInstance": "1101000001", "apiTokenInstance": "abc_DEF-123"}
    msg = {**base, "chatId": CUSTOMER, "message": "m"}
    btn = {**msg, "buttons": [{"buttonText": "a"}]}
    extra: list[tuple[str, Any]] = [
        ("green_api_send_message", {**msg, "chatId": CUSTOMER + "\n"}),
        ("green_api_send_message", {**msg, "message": "😀" * 3, "extra": 1, "other": None}),
        ("green_api_send_message", {**base}),
        ("green_api_send_message", None),
        ("green_api_send_message", [msg]),
        ("green_api_send_message", {**msg, "idInstance": 1101000001}),
        ("green_api_send_buttons", {**btn, "buttons": [{"buttonText": "😀" * 25}]}),
        ("green_api_send_buttons", {**btn, "buttons": [{"buttonText": "😀" * 26}]}),
        (
            "green_api_send_buttons",
            {**btn, "buttons": [{"buttonText": "a", "type": "reply"}, {"buttonText": "b"}]},
        ),
        (
            "green_api_send_buttons",
            {**btn, "buttons": [{"buttonText": "a", "type": "url", "url": "ftp://x"}]},
        ),
        ("green_api_send_buttons", {**btn, "buttons": [{"buttonText": "a", "type": "call"}]}),
        ("green_api_send_buttons", {**btn, "buttons": [{"buttonText": "a", "type": "sms"}]}),
        (
            "green_api_send_buttons",
            {**btn, "buttons": [{"buttonText": "a", "type": "call", "phoneNumber": "1"}]},
        ),
        ("green_api_send_buttons", {**btn, "buttons": [{"buttonText": "a"}] * 4, "header": ""}),
        ("green_api_send_buttons", {**btn, "buttons": ["a", None, {"buttonText": 5, "bogus": 1}]}),
        (
            "green_api_send_buttons",
            {**btn, "buttons": [{"type": "copy", "buttonText": "c", "copyCode": "x"}, {"buttonText": "r"}]},
        ),
        ("green_api_get_notifications", {**base, "receiveTimeout": 5.5, "maxNotifications": True}),
        ("green_api_get_notifications", {**base, "receiveTimeout": 60.0, "deleteAfterReceive": "no"}),
        ("green_api_get_notifications", {**base, "receiveTimeout": 4, "maxNotifications": 101}),
        (
            "green_api_send_file",
            {**base, "chatId": CUSTOMER, "urlFile": "https://x.org/a b.pdf", "fileName": ".pdf"},
        ),
    ]
    return rows + extra


def _expected(tool_id: str, case: Any) -> tuple[bool, set[tuple[str, str]]]:
    """jsonschema's verdict and its (path, rule) pairs, one per missing or unexpected property."""
    validator = EcmaValidator(load_tools()[tool_id].input_schema)
    pairs: set[tuple[str, str]] = set()
    errors = list(validator.iter_errors(case))
    for err in errors:
        path, rule = list(err.absolute_path), str(err.validator)
        if rule == "required":
            pairs |= {(error_path([*path, n]), rule) for n in err.validator_value if n not in err.instance}
        elif rule == "additionalProperties":
            known = err.schema.get("properties", {})
            pairs |= {(error_path([*path, n]), rule) for n in err.instance if n not in known}
        else:
            pairs.add((error_path(path), rule))
    return not errors, pairs


def test_the_page_validator_agrees_with_jsonschema(session: Session) -> None:
    corpus = _corpus()
    schemas = {t: load_tools()[t].input_schema for t in TOOL_IDS}
    results: list[list[dict[str, str]]] = session.page.evaluate(
        "([schemas, corpus]) => corpus.map(([tool, c]) =>"
        " GreenApiSchema.validate(schemas[tool], c, {all: true}))",
        [schemas, corpus],
    )
    assert len(results) == len(corpus) > 60
    verdicts = {"valid": 0, "invalid": 0}
    for (tool_id, case), got in zip(corpus, results, strict=True):
        ok, pairs = _expected(tool_id, case)
        verdicts["valid" if ok else "invalid"] += 1
        assert (not got) == ok, (tool_id, case, got)
        assert {(e["path"], e["rule"]) for e in got} == pairs, (tool_id, case, got)
        # Where the block names a problem, the page says it in the same words.
        triples = {(e["path"], e["rule"], e["message"]) for e in got}
        for e in schema_errors(load_tools()[tool_id], case):
            assert (e["path"], e["rule"], e["message"]) in triples, (tool_id, case, e, got)
    assert verdicts["valid"] >= 10 and verdicts["invalid"] >= 40


def test_the_page_normalises_input_like_the_block(session: Session) -> None:
    chat_ids = [
        "+7 900 123-45-67",
        " 79001234567 ",
        "(790) 0123.4567",
        "79001234567@s.whatsapp.net",
        "120363043968066561@g.us",
        "123",
        "+1 (555) 010-99999999999",
        "name@c.us",
        "",
    ]
    tool = load_tools()["green_api_send_message"]
    cases: list[dict[str, Any]] = [{"chatId": c, "message": "m", "maxNotifications": None} for c in chat_ids]
    cases.append({"buttons": [{"buttonText": "a", "buttonId": None}, None], "header": None, "n": 5.0})
    got = session.page.evaluate("cases => cases.map(c => GreenApiSchema.normalize(c, []))", cases)
    assert got == [normalize(tool, c, {}) for c in cases]
