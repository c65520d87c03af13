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
        "sends over 100 instances",
        "100 instances long-polled at once",
        "growth from 10 to 100 instances",
        "distinct tokens",
    ):
        assert figure in table, figure
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["server"] == "loopback"
    assert len(data["rows"]) >= 14
    polled = [r for r in data["rows"] if "long-polled" in r["figure"]]
    # Every instance held its own connection, and the trickled notifications were received.
    assert [r["data"]["sockets"] >= n for r, n in zip(polled, (10, 100), strict=True)] == [True, True]
    assert all(r["data"]["errors"] == 0 for r in polled)
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


def test_loopback_server_holds_an_empty_poll_until_a_notification_comes() -> None:
    import time

    import httpx

    from bench.server import ServerProcess

    with ServerProcess("loopback", hold=True) as srv, httpx.Client(timeout=10) as client:
        url = f"{srv.url}/waInstance42/receiveNotification/{srv.api_token}?receiveTimeout=5"
        start = time.monotonic()
        assert client.get(url.replace("=5", "=1")).json() is None  # held its timeout, then null
        assert time.monotonic() - start >= 0.9
        srv.command("trickle 20")  # picks among the instances that polled: 42
        assert client.get(url).json()["receiptId"] == 1
        srv.command("trickle 0")
