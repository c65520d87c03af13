"""What ``green-api-block temporal worker`` serves besides the activities: the project's workflows.

A module that ships a workflow appends its class to :data:`WORKFLOWS` here (the poller and the
conversation workflows do), so the CLI worker and :func:`~.worker.build_worker` serve it without
either of them importing every workflow module by name. Keep this module free of imports of
workflow code: the worker imports it, and workflow modules are re-imported in Temporal's sandbox.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WORKFLOWS", "workflows"]

#: Workflow classes (``@workflow.defn``) the project ships. Appended to by their modules.
WORKFLOWS: list[type[Any]] = []


def workflows() -> list[type[Any]]:
    """The project's workflows, for ``Worker(workflows=...)`` (a copy: callers may extend it)."""
    # The modules that append to WORKFLOWS are imported here, lazily, once they exist.
    return list(WORKFLOWS)
