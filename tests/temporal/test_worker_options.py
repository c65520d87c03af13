"""The worker's connection options and the CLI's import weight, without a server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import TLSConfig

from green_api_block import GreenApiBlock
from green_api_block.integrations.temporal.activities import GreenApiActivities
from green_api_block.integrations.temporal.worker import ConnectOptions
from tests.support.credentials import CANARY


def test_tls_files_become_a_tls_config(tmp_path: Path) -> None:
    cert, key, ca = (tmp_path / n for n in ("c.pem", "k.pem", "ca.pem"))
    for f in (cert, key, ca):
        f.write_bytes(f.name.encode())
    tls = ConnectOptions(tls_cert=cert, tls_key=key, tls_ca=ca).tls()
    assert isinstance(tls, TLSConfig)
    assert (tls.client_cert, tls.client_private_key, tls.server_root_ca_cert) == (
        b"c.pem",
        b"k.pem",
        b"ca.pem",
    )
    assert ConnectOptions().tls() is False  # a local dev server: plain
    with pytest.raises(ValueError, match="go together"):
        ConnectOptions(tls_cert=cert).tls()


def test_an_api_key_comes_from_its_file_and_implies_tls(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("  secret-key\n")
    opts = ConnectOptions(api_key_file=key)
    assert (opts.api_key(), opts.tls()) == ("secret-key", True)
    key.write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        opts.api_key()


def test_activities_need_credentials_bound_in_the_worker() -> None:
    with pytest.raises(TypeError, match="bind the credentials"):
        GreenApiActivities(GreenApiBlock("http://127.0.0.1:9", credentials_from_env=False))
    GreenApiActivities(GreenApiBlock("http://127.0.0.1:9", credentials_from_env=False), tokens={})
    GreenApiActivities(GreenApiBlock("http://127.0.0.1:9", id_instance="1101000001", api_token=CANARY))


def test_the_cli_does_not_import_temporalio_until_the_command_runs() -> None:
    code = "import sys, green_api_block.cli as c; c.build_parser(); print('temporalio' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
