"""The pytest plugin, run the way users run it: a separate pytest process on their own test file."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENTRY_POINT = "green_api_block.sandbox.pytest_plugin"

# The README's example, verbatim in spirit: a user's workflow tested against the fixture.
USER_TESTS = """
import time

import httpx
import pytest

from green_api_block import GreenApiBlock

CUSTOMER = "79001234567@c.us"


def test_order_ready_flow(green_api_sandbox, green_api_instance):
    with GreenApiBlock(
        api_url=green_api_sandbox.url,
        id_instance=green_api_instance.id_instance,
        api_token=green_api_instance.api_token,
    ) as block:
        out = block.execute("green_api_send_message", {"chatId": CUSTOMER, "message": "Your order is ready"})

    (sent,) = green_api_sandbox.sent_messages(green_api_instance)
    assert sent.id_message == out["idMessage"]
    assert sent.text == "Your order is ready"


@pytest.mark.green_api_sandbox(max_receive_wait=0.1)
def test_customer_reply_reaches_the_workflow(green_api_sandbox, green_api_instance):
    green_api_sandbox.inject_incoming_text(green_api_instance, CUSTOMER, "yes, please")
    with GreenApiBlock(
        api_url=green_api_sandbox.url,
        id_instance=green_api_instance.id_instance,
        api_token=green_api_instance.api_token,
    ) as block:
        started = time.monotonic()
        out = block.execute("green_api_get_notifications", {"deleteAfterReceive": True})
        assert time.monotonic() - started < 3  # the marker capped the empty poll's hold
    (item,) = out["notifications"]
    assert item["body"]["messageData"]["textMessageData"]["textMessage"] == "yes, please"


def test_marker_is_registered(pytestconfig):
    assert any(line.startswith("green_api_sandbox(**options)") for line in pytestconfig.getini("markers"))


def test_fixture_is_fresh_per_test(green_api_sandbox):
    assert green_api_sandbox.instances() == []
    state = httpx.get(green_api_sandbox.url + "/__sandbox__/health").json()
    assert state == {"ok": True, "instances": 0}


def test_instance_has_the_bot_notifications_on(green_api_sandbox, green_api_instance):
    settings = green_api_sandbox.get_settings(green_api_instance)
    assert [settings[k] for k in ("incomingWebhook", "outgoingWebhook", "outgoingAPIMessageWebhook")] == [
        "yes", "yes", "yes"
    ]
    assert settings["stateWebhook"] == "yes" and settings["incomingCallWebhook"] == "no"
"""

# Markers on the module and on single tests, run under --strict-markers.
MARKER_TESTS = """
import time

import httpx
import pytest

pytestmark = [
    pytest.mark.green_api_sandbox(rate_limits=False, max_receive_wait=0.1),
    pytest.mark.green_api_instance(api_token="module-token", settings={}),
]


def state_codes(sandbox, instance, n=2):
    url = f"{sandbox.url}/waInstance{instance.id_instance}/getStateInstance/{instance.api_token}"
    return [httpx.get(url).status_code for _ in range(n)]


def test_module_markers_apply(green_api_sandbox, green_api_instance):
    assert green_api_instance.api_token == "module-token"
    assert state_codes(green_api_sandbox, green_api_instance) == [200, 200]  # no rate limits
    assert green_api_sandbox.get_settings(green_api_instance)["outgoingWebhook"] == "no"  # no preset


@pytest.mark.green_api_sandbox(rate_limits=True)
def test_a_test_marker_overrides_only_its_options(green_api_sandbox, green_api_instance):
    assert state_codes(green_api_sandbox, green_api_instance) == [200, 429]  # limits back on
    url = f"{green_api_sandbox.url}/waInstance{green_api_instance.id_instance}/receiveNotification/"
    started = time.monotonic()
    assert httpx.get(url + green_api_instance.api_token, timeout=10).json() is None
    assert time.monotonic() - started < 3  # the module's max_receive_wait still holds (default: 5 s)


@pytest.mark.green_api_instance(settings={"outgoingWebhook": "yes"}, state="notAuthorized")
def test_instance_marker(green_api_sandbox, green_api_instance):
    assert green_api_instance.api_token == "module-token"
    assert green_api_sandbox.get_state(green_api_instance) == "notAuthorized"
    settings = green_api_sandbox.get_settings(green_api_instance)
    assert (settings["outgoingWebhook"], settings["outgoingAPIMessageWebhook"]) == ("yes", "no")
"""

POSITIONAL_MARKER = """
import pytest


@pytest.mark.green_api_sandbox(False)
def test_positional(green_api_sandbox):
    pass
"""


def plugin_installed() -> bool:
    return any(ep.value == ENTRY_POINT for ep in importlib.metadata.entry_points(group="pytest11"))


def run_pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("PYTEST_ADDOPTS", None)
    # Other installed plugins are left out (they cost seconds to load and are not under test);
    # ours is then loaded by name, which is what its pytest11 entry point does when installed.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", ENTRY_POINT, "-p", "no:cacheprovider", "-q", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pyproject_registers_the_plugin() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"green_api_sandbox": ENTRY_POINT}


def test_users_can_test_their_workflow_with_the_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_my_workflow.py").write_text(textwrap.dedent(USER_TESTS))
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_markers_set_options_per_module_and_per_test(tmp_path: Path) -> None:
    (tmp_path / "test_markers.py").write_text(textwrap.dedent(MARKER_TESTS))
    result = run_pytest(tmp_path, "--strict-markers")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_a_positional_marker_argument_is_refused(tmp_path: Path) -> None:
    (tmp_path / "test_positional.py").write_text(textwrap.dedent(POSITIONAL_MARKER))
    result = run_pytest(tmp_path)
    assert result.returncode != 0
    assert "takes keyword options only" in result.stdout + result.stderr


@pytest.mark.skipif(not plugin_installed(), reason="the package is not installed in this environment")
def test_entry_point_loads_the_plugin() -> None:
    (ep,) = [ep for ep in importlib.metadata.entry_points(group="pytest11") if ep.value == ENTRY_POINT]
    assert ep.name == "green_api_sandbox" and hasattr(ep.load(), "green_api_sandbox")
