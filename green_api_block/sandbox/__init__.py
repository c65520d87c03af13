"""A local, faithful emulator of the part of Green API the block uses (like moto for AWS).

    from green_api_block.sandbox import Sandbox

    with Sandbox() as sb:                       # HTTP on 127.0.0.1:<free port>, background thread
        inst = sb.create_instance()             # .id_instance, .api_token, .api_url
        ...                                     # point any Green API client at inst.api_url
        sb.inject_incoming_text(inst, "79001234567@c.us", "hi")
        sb.sent_messages(inst)

Four rooms, as moto draws them:

* the backend, no HTTP and no threads: ``state`` (instances, queues, journals, quotas; rate
  ``buckets``), ``customers`` (what the other side does), ``faults`` (rules for misbehaving), and
  ``emulator``, the one typed Python API over the three; ``records``, ``notifications``,
  ``validation`` and ``defaults`` are the vocabulary they share;
* ``api``, the Green API HTTP layer (routes -> backend -> JSON); ``push``, the webhook pusher
  (queues POSTed to ``webhookUrl`` on the server's loop; ``pushjournal`` records its attempts);
* ``control``, the ``/__sandbox__/`` HTTP control plane for clients outside this process;
* ``server``, ``Sandbox``: the emulator plus ``green_api_block.background.BackgroundServer``,
  which serves the app from a thread (the preview uses the same helper).

``pytest_plugin`` gives pytest users a ``green_api_sandbox`` fixture.
"""

from __future__ import annotations

from ..limits import METHOD_RATE_LIMITS as DEFAULT_RATE_LIMITS
from .api import EMULATED_METHODS
from .customers import InstanceRef
from .defaults import BOT_SETTINGS, DEFAULT_SANDBOX_SETTINGS
from .emulator import Emulator
from .errors import APIError, ApiError, SandboxError, UnknownInstanceError
from .faults import FAULT_KINDS, Fault, FaultKind, FaultOptions
from .notifications import BUTTON_REPLY_VARIANTS, ButtonReplyVariant
from .records import (
    INSTANCE_STATES,
    BillingPlan,
    InjectResult,
    PushAttempt,
    QueuedNotification,
    SandboxInstance,
    SentMessage,
)
from .server import Sandbox
from .state import SandboxBackend

#: The old name of :class:`QueuedNotification` (it clashed with the block's ``models.Notification``).
Notification = QueuedNotification

__all__ = [
    "BOT_SETTINGS",
    "BUTTON_REPLY_VARIANTS",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_SANDBOX_SETTINGS",
    "EMULATED_METHODS",
    "FAULT_KINDS",
    "INSTANCE_STATES",
    "APIError",
    "ApiError",
    "BillingPlan",
    "ButtonReplyVariant",
    "Emulator",
    "Fault",
    "FaultKind",
    "FaultOptions",
    "InjectResult",
    "InstanceRef",
    "Notification",
    "PushAttempt",
    "QueuedNotification",
    "Sandbox",
    "SandboxBackend",
    "SandboxError",
    "SandboxInstance",
    "SentMessage",
    "UnknownInstanceError",
]
