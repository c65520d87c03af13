"""The benchmark runs end to end with tiny counts (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("whatsapp_api_client_python")
pytest.importorskip("aiohttp")


def test_quick_run_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Exit status 1 only says a target was missed: with tiny counts that is noise, not a failure.
    assert done.returncode in (0, 1), done.stderr[-2000:]
    table = done.stdout
    assert "| figure | block | baseline (same run) | ratio (median) | target | met |" in table
    for figure in (
        "sync `execute(send_message)`",
        "concurrency 32",
        "concurrency 128",
        "draining",
        "own work",
        "import",
    ):
        assert figure in table, figure
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["server"] == "loopback"
    assert len(data["rows"]) >= 8
    assert all(row["met"] in (True, False, None) for row in data["rows"])


def test_loopback_server_speaks_the_green_api_routes() -> None:
    import httpx

    from bench.server import ServerProcess

    with ServerProcess("loopback") as srv:
        base = f"{srv.url}/waInstance{srv.id_instance}"
        with httpx.Client() as client:
            sent = client.post(
                f"{base}/sendMessage/{srv.api_token}", json={"chatId": "1@c.us", "message": "x"}
            )
            assert sent.status_code == 200 and sent.json()["idMessage"]
            assert client.get(f"{base}/receiveNotification/{srv.api_token}").json() is None
            srv.inject(2)
            first = client.get(f"{base}/receiveNotification/{srv.api_token}?receiveTimeout=5").json()
            assert first["receiptId"] == 1 and first["body"]["typeWebhook"] == "incomingMessageReceived"
            assert client.delete(f"{base}/deleteNotification/{srv.api_token}/1").json() == {"result": True}
            assert client.delete(f"{base}/deleteNotification/{srv.api_token}/1").json() == {"result": False}
            assert client.get(f"{base}/receiveNotification/{srv.api_token}").json()["receiptId"] == 2
        stats = srv.stats()
    assert stats["sends"] == 1 and stats["deleted"] == 1 and stats["queued"] == 1
