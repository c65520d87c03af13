"""The Temporal benchmark runs end to end with tiny counts (a smoke test: no timing is asserted).

It runs as a process of its own, so its exit code is checked too (a temporalio client alive at
interpreter exit can turn it into 134, ENGINES.md §1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_prints_the_table(tmp_path: Path) -> None:
    out = tmp_path / "temporal.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.temporal", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| 20 sends fanned out by one workflow over one worker |" in done.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["rates"]) == {"sends", "no-ops"} and len(data["ratios"]) == 1
