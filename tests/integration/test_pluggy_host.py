"""A host discovers the block through the `aacflow` entry point, exactly as the README shows."""

from __future__ import annotations

from importlib.metadata import entry_points

import pluggy
import pytest

from green_api_block import TOOL_IDS, GreenApiBlock, hookspecs
from green_api_block.sandbox import Sandbox, SandboxInstance


def make_host() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("aacflow")
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints("aacflow")
    pm.check_pending()  # an impl of an unknown hook (a typo) fails here, not at call time
    return pm


def test_entry_point_is_declared() -> None:
    (ep,) = [e for e in entry_points(group="aacflow") if e.name == "green_api"]
    assert ep.value == "green_api_block.plugin"


def test_host_discovers_and_runs_the_block(monkeypatch: object) -> None:
    pm = make_host()
    blocks = [b for group in pm.hook.aacflow_register_blocks() for b in group]
    (block,) = [b for b in blocks if b.type == "green_api"]
    assert isinstance(block, GreenApiBlock)
    assert [t.id for t in block.tools] == list(TOOL_IDS)
    for tool in block.tools:
        assert tool.input_schema["type"] == "object" and tool.output_schema["type"] == "object"
    assert pm.get_plugin("green_api") is not None


@pytest.mark.green_api_instance(id_instance="1101000001", api_token="abc123")
def test_host_runs_a_tool_from_discovery(
    sandbox: Sandbox, instance: SandboxInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREEN_API_URL", sandbox.url)
    pm = make_host()
    (block,) = [b for group in pm.hook.aacflow_register_blocks() for b in group]
    out = block.execute(
        "green_api_get_state_instance", {"idInstance": "1101000001", "apiTokenInstance": "abc123"}
    )
    # Only /waInstance1101000001/getStateInstance/abc123 gets this: another id is 403, another token 401.
    assert out == {"stateInstance": "authorized"}
