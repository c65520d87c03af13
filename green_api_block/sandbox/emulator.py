"""``Emulator``: the sandbox's whole backend behind one typed Python API. No HTTP, no threads.

It holds the instance state (:class:`~.state.SandboxBackend`), the customer side
(:class:`~.customers.CustomerActions`) and the fault rules (:class:`~.faults.FaultInjector`).
The Green API HTTP layer, the control endpoints and the public ``Sandbox`` all work through it,
which is what lets ``Sandbox`` be nothing but this plus a server thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Unpack

from .customers import CustomerActions, InstanceRef, instance_id
from .defaults import DEFAULT_SANDBOX_SETTINGS
from .faults import Fault, FaultInjector, FaultKind, FaultOptions
from .pushjournal import PushJournal
from .records import (
    BillingPlan,
    InjectResult,
    PushAttempt,
    QueuedNotification,
    SandboxInstance,
    SentMessage,
)
from .state import SandboxBackend

__all__ = ["Emulator"]


class Emulator(CustomerActions):
    """Instances, what they sent, what customers do, and faults: see ``Sandbox`` for the options."""

    def __init__(
        self,
        *,
        rate_limits: bool | Mapping[str, float | None] = True,
        quota: bool = False,
        default_settings: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = SandboxBackend(
            rate_limits=rate_limits,
            quota=quota,
            default_settings=DEFAULT_SANDBOX_SETTINGS if default_settings is None else default_settings,
            clock=clock,
            monotonic=monotonic,
        )
        self.faults = FaultInjector()
        self.push_journal = PushJournal()

    # ---------------------------------------------------------------- instances, state, settings

    def create_instance(
        self,
        *,
        state: str = "authorized",
        id_instance: str | None = None,
        api_token: str | None = None,
        wid: str | None = None,
        settings: Mapping[str, Any] | None = None,
        plan: BillingPlan | None = None,
    ) -> SandboxInstance:
        """A new instance: 10-digit ``id_instance``, 50-hex-char ``api_token``, ``api_url`` = ``url``.

        ``settings`` are applied over the defaults (e.g. ``{"outgoingWebhook": "yes"}``);
        ``plan="developer"`` enables the 3-chats-a-month quota for this instance only.
        """
        return self.backend.create_instance(
            state=state, id_instance=id_instance, api_token=api_token, wid=wid, settings=settings, plan=plan
        )

    def instance(self, id_instance: str | int) -> SandboxInstance:
        return self.backend.instance(str(id_instance))

    def instances(self) -> list[SandboxInstance]:
        return self.backend.instances()

    def remove_instance(self, instance: InstanceRef) -> None:
        self.backend.remove_instance(instance_id(instance))

    def get_state(self, instance: InstanceRef) -> str:
        return self.backend.get_state(instance_id(instance))

    def set_state(self, instance: InstanceRef, state: str, *, notify: bool = True) -> InjectResult | None:
        """Change the state; with ``stateWebhook`` on, queues ``stateInstanceChanged``.

        Back to ``authorized``, messages queued while blocked/yellowCard/sleepMode go out.
        """
        return self.backend.set_state(instance_id(instance), state, notify=notify)

    def get_settings(self, instance: InstanceRef) -> dict[str, Any]:
        return self.backend.get_settings(instance_id(instance))

    def set_settings(
        self, instance: InstanceRef, settings: Mapping[str, Any] | None = None, **flags: Any
    ) -> dict[str, Any]:
        """Change settings at once, e.g. ``sb.set_settings(inst, outgoingWebhook="yes")``."""
        return self.backend.set_settings(instance_id(instance), {**(settings or {}), **flags})

    # ---------------------------------------------------------------- what the bot sent

    def sent_messages(self, instance: InstanceRef) -> list[SentMessage]:
        """Everything accepted by a send method, oldest first."""
        return self.backend.sent_messages(instance_id(instance))

    def set_message_status(
        self, instance: InstanceRef, id_message: str, status: str, *, description: str | None = None
    ) -> InjectResult:
        """Advance a sent message (delivered, read, failed, ...) and queue its status notification."""
        return self.backend.set_message_status(
            instance_id(instance), id_message, status, description=description
        )

    def notifications(self, instance: InstanceRef) -> list[QueuedNotification]:
        """The queued notifications, head first, without removing any."""
        return self.backend.pending(instance_id(instance))

    def clear_notifications(self, instance: InstanceRef) -> int:
        return self.backend.clear_queue(instance_id(instance))

    def push_attempts(self, instance: InstanceRef) -> list[PushAttempt]:
        """Every webhook POST made for this instance's queue (at most the last 1000), oldest first.

        Filled by a running ``Sandbox`` while the instance's ``webhookUrl`` is set; it never holds
        the token or any header.
        """
        id_instance = instance_id(instance)
        self.backend.instance(id_instance)  # an unknown instance is an error, not an empty list
        return self.push_journal.attempts(id_instance)

    # ---------------------------------------------------------------- faults and reset

    def inject_fault(
        self, kind: FaultKind | str, *, instance: InstanceRef | None = None, **options: Unpack[FaultOptions]
    ) -> Fault:
        """Make matching requests misbehave; see :mod:`green_api_block.sandbox.faults` for kinds.

        ``sb.inject_fault("status", method="sendMessage", status=502)`` fails the next send;
        ``sb.inject_fault("drop_after", method="sendMessage")`` records it, then drops the
        connection; ``sb.inject_fault("status", status=500, method="receiveNotification",
        probability=0.05, seed=1)`` fails about 5 % of polls, reproducibly. The options are
        :class:`~green_api_block.sandbox.faults.FaultOptions`.
        """
        return self.faults.add(kind, instance=None if instance is None else instance_id(instance), **options)

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset(self) -> None:
        """Forget every instance, message, notification, limiter bucket, fault and push attempt."""
        self.faults.clear()
        self.backend.reset()
        self.push_journal.clear()
