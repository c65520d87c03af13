"""What ``green-api-block temporal worker`` serves besides the activities: the project's workflows.

:func:`workflows` gives the shipped ones (``GreenApiPoller``, ``GreenApiInbox``) plus whatever was
appended to :data:`WORKFLOWS`, so the CLI worker, :func:`~.worker.build_worker` and
:func:`~.worker.worker_plugin` serve the same set. The example ``OrderConfirmation`` is not among
them: it is a sample to copy, run by its own worker. The workflow module is imported inside
:func:`workflows`, not at the top: workflow modules are re-imported in Temporal's sandbox, and the
CLI must not import temporalio before a command runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WORKFLOWS", "workflows"]

#: Further workflow classes (``@workflow.defn``) to serve with the shipped ones.
WORKFLOWS: list[type[Any]] = []


def workflows() -> list[type[Any]]:
    """The project's workflows, for ``Worker(workflows=...)`` (a new list: callers may extend it)."""
    from .workflows import GreenApiInbox, GreenApiPoller

    shipped: list[type[Any]] = [GreenApiPoller, GreenApiInbox]
    return [*shipped, *(w for w in WORKFLOWS if w not in shipped)]
