"""Start a command with SIGINT as a shell would leave it, whatever this test process inherited.

A shell without job control starts a background command (``pytest ... &`` in a script, many CI
runners) with SIGINT ignored, every child inherits that, and Python keeps an ignored SIGINT
ignored: a Ctrl-C test would then wait for a process that never sees its signal. The prefix
sets the disposition and execs the real command line, unchanged (exec resets a handled signal to
its default but keeps an ignored one ignored; no Popen ``preexec_fn``, which is unsafe with the
threads a test process runs).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["sigint_default", "sigint_ignored"]

_EXEC_WITH_SIGINT = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, getattr(signal, sys.argv[1])); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


def _with_sigint(disposition: str, argv: Sequence[str]) -> list[str]:
    # -S -I: the prefix needs no site-packages and must not be steered by the environment.
    return [sys.executable, "-S", "-I", "-c", _EXEC_WITH_SIGINT, disposition, *argv]


def sigint_default(argv: Sequence[str]) -> list[str]:
    """``argv`` as typed into an interactive shell: Ctrl-C (SIGINT) reaches it."""
    return _with_sigint("SIG_DFL", argv)


def sigint_ignored(argv: Sequence[str]) -> list[str]:
    """``argv`` as started with ``&`` by a shell without job control: SIGINT is ignored."""
    return _with_sigint("SIG_IGN", argv)
