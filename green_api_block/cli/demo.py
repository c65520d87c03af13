"""``green-api-block demo``: the whole block, offline, in a few seconds.

Starts the local sandbox, creates an authorized instance with outgoing notifications on, and
drives the block exactly as a workflow engine would: check the state, send a text, a file and
reply buttons; a simulated customer taps a button and writes back; the workflow drains the
notifications. Prints a transcript (tool, input with the token masked, output, who said what)
and a summary line; ``--json`` prints the same as one JSON document.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from green_api_block.events import Event

if TYPE_CHECKING:
    from green_api_block import GreenApiBlock

__all__ = ["describe_notification", "register", "run_demo"]

CUSTOMER = "79001234567@c.us"
_BOT, _CUSTOMER = "bot", "customer"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the block end to end against the local sandbox and print a transcript",
        description=(
            "Start the local Green API sandbox and drive the block as a workflow engine would: "
            "state check, text, file, reply buttons, a simulated customer reply, notifications. "
            "Needs no network and no Green API account."
        ),
    )
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the transcript as JSON"
    )
    parser.set_defaults(func=run)


@dataclass
class Step:
    number: int
    actor: str  # "workflow" (a tool call) or "customer" (simulated in the sandbox)
    title: str
    tool: str | None = None
    input: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    said: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.number, "actor": self.actor, "title": self.title}
        if self.tool is not None:
            out.update(tool=self.tool, input=self.input, output=self.output)
        out["said"] = self.said
        if self.notes:
            out["details"] = self.notes
        return out


def _line(speaker: str, text: str) -> dict[str, str]:
    listener = _CUSTOMER if speaker == _BOT else _BOT
    return {"from": speaker, "to": listener, "text": text}


def _buttons_text(payload: Mapping[str, Any]) -> str:
    """What the bot shows when it sends buttons (its own input, not a notification)."""
    labels = " ".join(f"[{b.get('buttonText', '')}]" for b in payload.get("buttons", []))
    return f"{payload.get('body', '')}  {labels}".strip()


def describe_notification(body: Mapping[str, Any]) -> tuple[str | None, str]:
    """(speaker or None, a one-line description) of a notification body, for people."""
    event = Event.from_body(body)
    if event.eventType == "outgoingMessageStatus":
        return None, f"message {event.idMessage} is {event.status}"
    if event.eventType == "stateInstanceChanged":
        return None, f"instance state is now {event.stateInstance}"
    if event.eventType == "incomingCall":
        return None, f"call from {event.sender} ({event.status})"
    if event.messageType is None:
        return None, event.eventType
    speaker = _CUSTOMER if event.eventType == "incomingMessageReceived" else _BOT
    if event.buttonId is not None or event.buttonText is not None:
        return speaker, f"[tapped] {event.buttonText} (buttonId {event.buttonId})"
    if event.file is not None:
        caption = f' "{event.file.caption}"' if event.file.caption else ""
        return speaker, f"[file] {event.file.fileName or ''}{caption}"
    if event.messageType in ("interactiveButtons", "interactiveButtonsReply"):
        return speaker, f"[buttons] {event.text or ''}"
    if event.text is not None:
        return speaker, event.text
    return speaker, f"[{event.messageType}]"


class _Recorder:
    """Runs tools through the block and records each step as the transcript shows it."""

    def __init__(self, block: GreenApiBlock, creds: dict[str, str], shown_creds: dict[str, str]) -> None:
        self.block = block
        self.creds = creds
        self.shown_creds = shown_creds
        self.steps: list[Step] = []
        self.tools_called: list[str] = []

    def tool(self, title: str, tool_id: str, args: dict[str, Any], *said: str) -> Step:
        """Call a tool as a workflow engine does: credentials and arguments in one input."""
        output = self.block.execute(tool_id, {**self.creds, **args})
        self.tools_called.append(tool_id)
        step = Step(
            len(self.steps) + 1,
            "workflow",
            title,
            tool=tool_id,
            input={**self.shown_creds, **args},
            output=output,
            said=[_line(_BOT, text) for text in said],
        )
        self.steps.append(step)
        return step

    def customer(self, title: str, text: str) -> None:
        self.steps.append(Step(len(self.steps) + 1, _CUSTOMER, title, said=[_line(_CUSTOMER, text)]))


def run_demo() -> dict[str, Any]:
    """Run the scenario and return the transcript (raises if any step fails)."""
    from green_api_block import GreenApiBlock
    from green_api_block.redact import mask_token
    from green_api_block.sandbox import BOT_SETTINGS, Sandbox

    started = time.perf_counter()
    # An empty poll holds receiveTimeout (at least 5 s): the real service's way of saying "queue
    # empty". The demo caps that hold so that draining the queue takes a moment, not 5 s.
    with Sandbox(max_receive_wait=0.1) as sandbox:
        instance = sandbox.create_instance(settings=BOT_SETTINGS)
        creds = instance.credentials()
        shown_creds = {**creds, "apiTokenInstance": mask_token(instance.api_token)}
        with GreenApiBlock(api_url=sandbox.url, media_url=sandbox.url, credentials_from_env=False) as block:
            run = _Recorder(block, creds, shown_creds)
            run.tool("Check that WhatsApp is linked", "green_api_get_state_instance", {})

            text = "Hi Anna! Your order #1042 is ready for pickup."
            run.tool(
                "Tell the customer the order is ready",
                "green_api_send_message",
                {"chatId": CUSTOMER, "message": text},
                text,
            )
            run.tool(
                "Send the invoice",
                "green_api_send_file",
                {
                    "chatId": CUSTOMER,
                    "urlFile": f"{sandbox.url}/__sandbox__/files/invoice-1042.pdf",
                    "fileName": "invoice-1042.pdf",
                    "caption": "Your invoice",
                },
                '[file] invoice-1042.pdf "Your invoice"',
            )
            question = "When will you pick it up? (reply 1 or 2 if no buttons show)"
            buttons = [
                {"buttonText": "Today", "buttonId": "today"},
                {"buttonText": "Tomorrow", "buttonId": "tomorrow"},
            ]
            run.tool(
                "Ask when, with reply buttons",
                "green_api_send_buttons",
                {"chatId": CUSTOMER, "message": question, "footer": "Shop #7", "buttons": buttons},
                f"[buttons] {_buttons_text({'body': question, 'buttons': buttons})}",
            )

            sandbox.inject_button_tap(instance, CUSTOMER, button_id="today", sender_name="Anna")
            run.customer("The customer taps “Today” (simulated in the sandbox)", "[tapped] Today")
            reply = "Great, see you at 5 pm!"
            sandbox.inject_incoming_text(instance, CUSTOMER, reply, sender_name="Anna")
            run.customer("The customer writes back (simulated in the sandbox)", reply)

            drain = run.tool(
                "Collect everything that happened",
                "green_api_get_notifications",
                {"receiveTimeout": 5, "maxNotifications": 20, "deleteAfterReceive": True},
            )
            received = (drain.output or {}).get("notifications", [])
            for item in received:
                speaker, seen = describe_notification(item["body"])
                kind = item["body"].get("typeWebhook", "?")
                who = f"{speaker} -> {_BOT if speaker == _CUSTOMER else _CUSTOMER}" if speaker else "status"
                drain.notes.append(f"#{item['receiptId']:<3} {kind:<27} {who:<16} {seen}")
                if speaker == _CUSTOMER:
                    drain.said.append(_line(_CUSTOMER, seen))
            left = len(sandbox.notifications(instance))

    elapsed = time.perf_counter() - started
    # What the workflow saw: its own sends, and the customer's words as notifications brought them.
    conversation = [line for step in run.steps if step.actor == "workflow" for line in step.said]
    return {
        "sandbox": sandbox.url,
        "instance": shown_creds,
        "customer": CUSTOMER,
        "steps": [step.to_json() for step in run.steps],
        "conversation": conversation,
        "summary": {
            "steps": len(run.steps),
            "toolCalls": len(run.tools_called),
            "tools": sorted(set(run.tools_called)),
            "notifications": len(received),
            "notificationsLeft": left,
            "elapsedSeconds": round(elapsed, 2),
        },
    }


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def render(transcript: Mapping[str, Any]) -> str:
    out = [
        "green-api-block demo: the block driven like a workflow engine would, against the local sandbox",
        f"sandbox {transcript['sandbox']}  instance {transcript['instance']['idInstance']}  "
        f"token {transcript['instance']['apiTokenInstance']}  customer {transcript['customer']}",
        "",
    ]
    for step in transcript["steps"]:
        if step.get("tool"):
            out.append(f"[{step['step']}] {step['title']}: tool {step['tool']}")
            out.append(f"    input   {_compact(step['input'])}")
            if step["tool"] == "green_api_get_notifications":
                got = step["output"]["notifications"]
                last = step["output"]["receiptId"]
                out.append(
                    f"    output  {len(got)} notifications, last receiptId {last} (full bodies: --json)"
                )
            else:
                out.append(f"    output  {_compact(step['output'])}")
        else:
            out.append(f"[{step['step']}] {step['title']}")
        details = step.get("details", [])
        out.extend(f"      {line}" for line in details)
        if not details:  # the details already show who said what
            out.extend(f"    {s['from']} -> {s['to']}: {s['text']}" for s in step["said"])
        out.append("")
    out.append("Conversation")
    out.extend(f"  {s['from']:>8} -> {s['to']:<8}  {s['text']}" for s in transcript["conversation"])
    summary = transcript["summary"]
    out += [
        "",
        f"Summary: {summary['steps']} steps, {summary['toolCalls']} tool calls "
        f"({len(summary['tools'])} tools), {summary['notifications']} notifications received, "
        f"{summary['notificationsLeft']} left queued, {summary['elapsedSeconds']:.2f} s, no network used.",
    ]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from green_api_block.errors import GreenApiBlockError

    try:
        transcript = run_demo()
    except GreenApiBlockError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(transcript, ensure_ascii=False, indent=2))
    else:
        print(render(transcript))
    return 0
