"""A test conversation workflow: keeps every event routed to it (de-duplicated), until ``finish``."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from green_api_block.integrations.temporal.conversation import Conversation
    from green_api_block.integrations.temporal.routing import EVENT_SIGNAL

__all__ = ["Collector"]


@workflow.defn(name="Collector")
class Collector:
    def __init__(self) -> None:
        self.chat = Conversation()
        self.signals = 0
        self.done = False

    @workflow.signal(name=EVENT_SIGNAL)
    def green_api_event(self, payload: dict[str, Any]) -> None:
        self.signals += 1
        self.chat.receive(payload)

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def texts(self) -> list[str]:
        return [str(e.get("text")) for e in self.chat.events]

    @workflow.query
    def counts(self) -> dict[str, int]:
        return {"events": len(self.chat.events), "signals": self.signals, "duplicates": self.chat.duplicates}

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return self.texts()
