"""A test workflow that runs one of the block's activities by name, on the queue the workers of
the test serve, with the timeouts and retry policy the test chooses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy


@dataclass
class ToolCall:
    activity: str
    args: dict[str, Any] = field(default_factory=dict)
    task_queue: str = ""
    start_to_close: float = 10.0
    max_attempts: int = 0  # 0: Temporal's default, retry until it works
    initial_interval: float = 0.1


@workflow.defn(sandboxed=False)  # test code: no imports to guard, nothing to re-import per run
class RunTool:
    @workflow.run
    async def run(self, call: ToolCall) -> dict[str, Any]:
        result: dict[str, Any] = await workflow.execute_activity(
            call.activity,
            call.args,
            task_queue=call.task_queue or None,
            start_to_close_timeout=timedelta(seconds=call.start_to_close),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=call.initial_interval),
                backoff_coefficient=1.0,
                maximum_attempts=call.max_attempts,
            ),
            result_type=dict,
        )
        return result
