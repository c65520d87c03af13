"""The example as a user runs it: its ``worker`` and ``order`` commands as real processes, against
the sandbox and the dev server. The order is asked, the tap confirms it, SIGTERM drains (exit 0)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from green_api_block.integrations.temporal.devserver import TemporalDevServer
from green_api_block.sandbox import Sandbox
from tests.support.credentials import CANARY
from tests.temporal.harness import eventually

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "green_api_block.integrations.temporal.examples.order_confirmation"
CHAT = "79003330001@c.us"


async def test_the_example_worker_and_order_commands_confirm_an_order(
    temporal_server: TemporalDevServer,
) -> None:
    with Sandbox(rate_limits=False, max_receive_wait=0.5) as sb:
        inst = sb.create_instance(api_token=CANARY)
        env = {**os.environ, "GREEN_API_URL": sb.url, "GREEN_API_MEDIA_URL": sb.url,
               "GREEN_API_ID_INSTANCE": inst.id_instance, "GREEN_API_TOKEN_INSTANCE": CANARY}  # fmt: skip
        queues = ["--address", temporal_server.address, "--task-queue", f"chats-{uuid.uuid4()}",
                  "--poller-queue", f"pollers-{uuid.uuid4()}"]  # fmt: skip
        worker = subprocess.Popen([sys.executable, "-m", EXAMPLE, *queues, "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "poller started"
            order = subprocess.run([sys.executable, "-m", EXAMPLE, *queues, "order", CHAT, "E-1"], cwd=ROOT,
                                   env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
            assert order.returncode == 0, order.stderr
            assert order.stdout.strip() == f"order E-1 asked in {CHAT}"

            async def asked() -> bool:
                return any(m.buttons for m in sb.sent_messages(inst))

            await eventually(asked, "the buttons")
            sb.inject_button_tap(inst, CHAT, button_id="confirm")

            async def confirmed() -> bool:
                return sb.sent_messages(inst)[-1].text == "Order E-1 is confirmed. Thank you!"

            await eventually(confirmed, "the confirmation")
        finally:
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=60)
        err = worker.stderr.read() if worker.stderr else ""
        assert code == 0, err[-2000:]
        assert CANARY not in err
