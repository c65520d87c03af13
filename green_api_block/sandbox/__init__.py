"""A local, faithful emulator of the part of Green API the block uses (like moto for AWS).

    from green_api_block.sandbox import Sandbox

    with Sandbox() as sb:                       # HTTP on 127.0.0.1:<free port>, background thread
        inst = sb.create_instance()             # .id_instance, .api_token, .api_url
        ...                                     # point any Green API client at inst.api_url
        sb.inject_incoming_text(inst, "79001234567@c.us", "hi")
        sb.sent_messages(inst)

Layout (moto's split): ``state`` is the plain thread-safe backend, ``validation`` checks bodies
the way the service does, ``notifications`` builds the documented notification bodies, ``app``
maps Green API routes to the backend, ``control`` is the ``/__sandbox__/`` HTTP control plane,
``faults`` injects failures, ``server`` runs it all in a thread, and ``pytest_plugin`` gives
pytest users a ``green_api_sandbox`` fixture.
"""

from __future__ import annotations

from .app import EMULATED_METHODS
from .errors import ApiError, SandboxError, UnknownInstanceError
from .faults import FAULT_KINDS, Fault, FaultKind
from .notifications import BUTTON_REPLY_VARIANTS, ButtonReplyVariant
from .server import DEFAULT_SANDBOX_SETTINGS, InstanceRef, Sandbox
from .state import (
    DEFAULT_RATE_LIMITS,
    INSTANCE_STATES,
    InjectResult,
    Notification,
    SandboxBackend,
    SandboxInstance,
    SentMessage,
)

__all__ = [
    "BUTTON_REPLY_VARIANTS",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_SANDBOX_SETTINGS",
    "EMULATED_METHODS",
    "FAULT_KINDS",
    "INSTANCE_STATES",
    "ApiError",
    "ButtonReplyVariant",
    "Fault",
    "FaultKind",
    "InjectResult",
    "InstanceRef",
    "Notification",
    "Sandbox",
    "SandboxBackend",
    "SandboxError",
    "SandboxInstance",
    "SentMessage",
    "UnknownInstanceError",
]
