"""``temporal poll`` as a real process, twice: the first starts the poller, the second says it is
running already; both exit 0 (not 134: the client is released before the interpreter exits)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus

from green_api_block.integrations.temporal.workflows import PollerInput, poller_id
from tests.support.temporal_server import TemporalDevServer

ROOT = Path(__file__).resolve().parents[2]


def _poll(
    server: TemporalDevServer, id_instance: str, tmp: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GREEN_API_ID_INSTANCE": id_instance,
        "GREEN_API_BLOCK_CONFIG": str(tmp / "none.toml"),
    }
    env.pop("GREEN_API_TOKEN_INSTANCE", None)  # starting a poller needs no token
    cmd = [sys.executable, "-m", "green_api_block.cli.temporal_poll", "poll", "--address", server.address,
           "--task-queue", "cli-pollers", "--receive-timeout", "5", *extra]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


async def test_poll_starts_once_and_a_second_start_is_a_no_op(
    temporal_server: TemporalDevServer, temporal_client: Client, tmp_path: Path
) -> None:
    id_instance = str(1100000000 + uuid.uuid4().int % 10**8)
    first = _poll(temporal_server, id_instance, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"poller started: {poller_id(id_instance)} on task queue cli-pollers"
    second = _poll(temporal_server, id_instance, tmp_path, "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {
        "ok": True, "workflowId": poller_id(id_instance), "started": False, "taskQueue": "cli-pollers",
    }  # fmt: skip
    handle = temporal_client.get_workflow_handle(poller_id(id_instance))
    desc = await handle.describe()
    assert desc.status == WorkflowExecutionStatus.RUNNING and desc.task_queue == "cli-pollers"
    history = await handle.fetch_history()
    start = history.events[0].workflow_execution_started_event_attributes
    params = json.loads(start.input.payloads[0].data)
    assert params["id_instance"] == id_instance and params["receive_timeout"] == 5
    assert set(params) == set(PollerInput.__dataclass_fields__)  # no token field: nothing else travels
    await handle.terminate()
