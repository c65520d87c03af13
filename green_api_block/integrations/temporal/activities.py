"""Temporal activities for the block's five tools, named by the tool ids.

    from green_api_block import GreenApiBlock
    from green_api_block.integrations.temporal.activities import GreenApiActivities

    acts = GreenApiActivities(GreenApiBlock(id_instance=..., api_token=...))
    Worker(client, task_queue="green-api", activities=acts.activities(), ...)

Each activity takes the tool's input dict and returns its output dict, over the one block the
worker shares (its connection pool and rate limiter serve every activity). No token travels in a
payload: see ``credentials``. Failures are ``ApplicationError`` typed by the block's error code
(``failures``).

Two guarantees beyond the tools':

* **Notifications are not deleted before Temporal has them.** ``green_api_get_notifications``
  never deletes (it receives without deleting: the queue's head, until it is deleted); the
  workflow deletes with ``green_api_delete_notification`` once it holds the result. An activity
  that deleted as it received would lose what it deleted if the worker died before reporting.
* **Sends stay single under retries.** Activities are at-least-once: a worker may die after Green
  API accepted a message and before the result was recorded. So an attempt after the first, and an
  attempt whose send ended with ``outcome_unknown``, first looks the send up in
  ``lastOutgoingMessages`` (the whole payload, only entries since the first attempt was
  scheduled) and returns the message it finds instead of sending again. What that cannot tell
  apart: the same payload sent to the same chat twice on purpose within ``journal_slack``
  seconds of the first attempt; and how long a message takes to show in the real journal is
  unverified (the sandbox shows it at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from temporalio import activity

from ...block import GreenApiBlock
from ...errors import GreenApiError, InputValidationError
from .credentials import TokenSource, resolve_input
from .failures import application_error, refuse

__all__ = ["ACTIVITY_NAMES", "DELETE_NOTIFICATION", "SEND_TOOLS", "GreenApiActivities"]

SEND_TOOLS: Final = ("green_api_send_message", "green_api_send_file", "green_api_send_buttons")
DELETE_NOTIFICATION: Final = "green_api_delete_notification"
ACTIVITY_NAMES: Final = (
    *SEND_TOOLS,
    "green_api_get_notifications",
    "green_api_get_state_instance",
    DELETE_NOTIFICATION,
)


class GreenApiActivities:
    """The activities over one block. ``tokens`` makes it multi-instance (see ``credentials``).

    ``journal_slack``: seconds before the first attempt's scheduled time that a journal entry may
    carry and still count as this send (the journal stamps whole seconds, and Green API's clock
    and the Temporal server's need not agree).
    """

    def __init__(
        self, block: GreenApiBlock, *, tokens: TokenSource | None = None, journal_slack: float = 2.0
    ) -> None:
        if not isinstance(block, GreenApiBlock):
            raise TypeError("GreenApiActivities needs a GreenApiBlock")
        if tokens is None and not block.bound_credentials:
            raise TypeError(
                "bind the credentials in the worker: a block with id_instance and api_token, or tokens="
            )
        if journal_slack < 0:
            raise ValueError("journal_slack must not be negative")
        self.block = block
        self.tokens = tokens
        self.journal_slack = journal_slack

    def activities(self) -> list[Callable[..., Any]]:
        """Every activity, for ``Worker(activities=...)``."""
        return [
            self.send_message,
            self.send_file,
            self.send_buttons,
            self.get_notifications,
            self.get_state_instance,
            self.delete_notification,
        ]

    # -- the five tools ------------------------------------------------------------------------

    @activity.defn(name="green_api_send_message")
    async def send_message(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._send("green_api_send_message", args)

    @activity.defn(name="green_api_send_file")
    async def send_file(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._send("green_api_send_file", args)

    @activity.defn(name="green_api_send_buttons")
    async def send_buttons(self, args: dict[str, Any]) -> dict[str, Any]:
        return await self._send("green_api_send_buttons", args)

    @activity.defn(name="green_api_get_notifications")
    async def get_notifications(self, args: dict[str, Any]) -> dict[str, Any]:
        """Receive without deleting: delete with ``green_api_delete_notification`` afterwards."""
        given, token = await resolve_input(args, self.tokens)
        if given.get("deleteAfterReceive", False) is not False:
            raise refuse(
                "green_api_get_notifications never deletes under Temporal (a worker that died "
                "after deleting would lose the notification): leave deleteAfterReceive out and "
                "run green_api_delete_notification once the workflow holds the result",
                "invalid_input",
            )
        given["deleteAfterReceive"] = False
        return await self._execute("green_api_get_notifications", given, token)

    @activity.defn(name="green_api_get_state_instance")
    async def get_state_instance(self, args: dict[str, Any]) -> dict[str, Any]:
        given, token = await resolve_input(args, self.tokens)
        return await self._execute("green_api_get_state_instance", given, token)

    @activity.defn(name="green_api_delete_notification")
    async def delete_notification(self, args: dict[str, Any]) -> dict[str, Any]:
        """``{"receiptId": N}`` (plus ``idInstance`` on a multi-instance worker) -> ``{"deleted": bool}``;
        False means it was already gone, which a retried delete meets and is not an error."""
        given, token = await resolve_input(args, self.tokens)
        receipt = given.get("receiptId")
        try:
            deleted = await self.block.adelete_notification(
                receipt,  # type: ignore[arg-type]  # checked by the operation (invalid_input)
                id_instance=given.get("idInstance"),
                api_token=given.get("apiTokenInstance"),
            )
        except (GreenApiError, InputValidationError) as exc:
            raise application_error(exc, (token,)) from None
        return {"deleted": deleted}

    # -- running -------------------------------------------------------------------------------

    async def _execute(self, tool: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        try:
            return await self.block.aexecute(tool, args)
        except (GreenApiError, InputValidationError) as exc:
            raise application_error(exc, (token,)) from None

    async def _send(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        given, token = await resolve_input(args, self.tokens)
        info = activity.info()
        # scheduled_time is when the *first* attempt was scheduled (current_attempt_scheduled_time
        # is this one's): the send in question cannot have been accepted before it.
        since = info.scheduled_time.timestamp() - self.journal_slack
        if info.attempt > 1:
            found = await self._find(tool, given, since, token)
            if found is not None:
                activity.logger.info("%s: an earlier attempt had sent it; not sending again", tool)
                return found
        try:
            return await self.block.aexecute(tool, given)
        except GreenApiError as exc:
            if not exc.outcome_unknown:
                raise application_error(exc, (token,)) from None
            unknown = exc
        except InputValidationError as exc:
            raise application_error(exc, (token,)) from None
        # The request may have gone out: look now (it may well show already), and if it does not,
        # fail retryably: the next attempt looks again before it sends.
        found = await self._find(tool, given, since, token)
        if found is not None:
            return found
        raise application_error(unknown, (token,)) from None

    async def _find(
        self, tool: str, args: dict[str, Any], since: float, token: str | None
    ) -> dict[str, Any] | None:
        """The tool's output for an earlier attempt's message, if the journal shows one.

        A failed lookup fails the attempt (retryably): sending blind is what this is here to avoid.
        """
        try:
            entry = await self.block.afind_sent(tool=tool, args=args, since=since)
        except (GreenApiError, InputValidationError) as exc:
            raise application_error(exc, (token,)) from None
        if entry is None or not isinstance(entry.get("idMessage"), str):
            return None
        return {"idMessage": entry["idMessage"], "success": True}
