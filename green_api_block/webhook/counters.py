"""What the receiver did, counted: for the CLI's summary and the preview."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Counters"]


@dataclass
class Counters:
    """Answers by outcome. Only the event loop's thread changes them, so no lock is needed."""

    accepted: int = 0  # handed to the handler, which returned
    duplicates: int = 0  # already handled (or handled by the copy it waited for): 200, not handed
    filtered: int = 0  # dropped by the filter: 200
    failed: int = 0  # the handler raised or timed out: 500, Green API sends it again
    timeouts: int = 0  # of ``failed``, the handler ran over handler_timeout
    dead_lettered: int = 0  # failed max_failures times: given to the dead-letter handler, 200
    unauthorized: int = 0  # 401
    rejected: int = 0  # 400, 405, 413: not a notification

    def snapshot(self) -> dict[str, int]:
        return asdict(self)
