"""The webhook benchmark runs end to end with tiny counts (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("whatsapp_api_webhook_server_python")
pytest.importorskip("uvicorn")
pytest.importorskip("aiohttp")


def test_quick_run_prints_the_table_and_every_push_got_200(tmp_path: Path) -> None:
    out = tmp_path / "webhook.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.webhook", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| webhook pushes received, concurrency 32, keep-alive |" in done.stdout
    assert "`webhook serve --json`" in done.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["runs"]) == {"block", "official", "block --json"}
    assert all(r["errors"] == 0 for runs in data["runs"].values() for r in runs)
