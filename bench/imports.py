"""``python -c "import green_api_block"`` against ``python -c "import httpx"``, many runs each.

Two measures, both medians over interleaved runs: the wall time of the whole process (what a
CLI or a worker start pays, interpreter start-up included), and ``-X importtime``'s cumulative
time of the top-level module alone.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from typing import Any

__all__ = ["measure_imports"]


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = _root() + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _wall(module: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env, cwd=_root())
    return time.perf_counter() - start


def _importtime_us(module: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True,
        env=env,
        cwd=_root(),
        capture_output=True,
        text=True,
    )
    for line in reversed(done.stderr.splitlines()):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return float(parts[1])
    raise RuntimeError(f"-X importtime printed no line for {module}")


def measure_imports(repeats: int = 21) -> dict[str, Any]:
    env = _env()
    walls: dict[str, list[float]] = {"green_api_block": [], "httpx": []}
    cumul: dict[str, list[float]] = {"green_api_block": [], "httpx": []}
    for module in walls:  # warm the file cache and the .pyc files
        _wall(module, env)
    for i in range(repeats):
        order = ("green_api_block", "httpx") if i % 2 == 0 else ("httpx", "green_api_block")
        for module in order:
            walls[module].append(_wall(module, env))
            cumul[module].append(_importtime_us(module, env))
    block_ms = statistics.median(walls["green_api_block"]) * 1e3
    httpx_ms = statistics.median(walls["httpx"]) * 1e3
    block_cum = statistics.median(cumul["green_api_block"]) / 1e3
    httpx_cum = statistics.median(cumul["httpx"]) / 1e3
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, green_api_block; print(','.join(m for m in ('aiohttp', 'jsonschema', 'pydantic',"
            " 'asyncio', 'green_api_block.sandbox', 'green_api_block.cli', 'green_api_block.mcp_server')"
            " if m in sys.modules))",
        ],
        check=True,
        env=env,
        cwd=_root(),
        capture_output=True,
        text=True,
    )
    return {
        "block_ms": block_ms,
        "httpx_ms": httpx_ms,
        "ratio": block_ms / httpx_ms,
        "block_importtime_ms": block_cum,
        "httpx_importtime_ms": httpx_cum,
        "importtime_ratio": block_cum / httpx_cum,
        "eager_heavy_modules": check.stdout.strip(),
    }
