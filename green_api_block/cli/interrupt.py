"""How the commands that run until stopped (``sandbox``, ``preview``, ``watch``) are stopped.

Ctrl-C (SIGINT) and SIGTERM both stop them. A SIGINT this process inherited as ignored stays
ignored, as Python and well-behaved Unix tools leave it: a shell without job control starts
background commands that way (``green-api-block sandbox &`` in a script) precisely so that a
Ctrl-C meant for the shell spares them; SIGTERM (``kill``) stops them there.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["until_interrupted"]


@contextmanager
def until_interrupted() -> Iterator[Callable[[], None]]:
    """Enter before announcing readiness; yields ``wait``, which returns on Ctrl-C or SIGTERM.

    A client may act on the announcement at once: a SIGTERM or Ctrl-C that lands while the
    banner is still being printed must stop the command as cleanly as one that lands in
    ``wait``, not kill it (SIGTERM's default) or escape as a traceback, with nothing closed.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def wait() -> None:
        # A timed wait keeps the main thread responsive to Ctrl-C on every platform (an untimed
        # lock wait cannot be interrupted on Windows).
        while not stop.wait(0.5):
            pass

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        yield wait
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
