"""The everyday commands in a real process against the sandbox: output, exit codes, no token."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from green_api_block import GreenApiBlock, RetryPolicy
from green_api_block.contract import TOOL_IDS, load_tools
from green_api_block.manifest import render_manifest
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.cli import CUSTOMER, SANDBOX, Cli
from tests.support.credentials import CANARY
from tests.support.stub_server import closed_port_url

pytestmark = SANDBOX

# -- declaration: tools, schema, manifest ----------------------------------------------------------


def test_tools_lists_the_five_tools(cli: Cli, run_main: Cli) -> None:
    res = cli("tools")
    assert res.code == 0
    # Not a terminal: one tab-separated row per tool, like gh does for pipes.
    rows = [line.split("\t") for line in res.lines]
    assert [r[0] for r in rows] == list(TOOL_IDS)
    assert {r[0]: r[1] for r in rows}["green_api_send_message"] == "send"
    assert {r[0]: r[1] for r in rows}["green_api_get_state_instance"] == "read"

    data = json.loads(run_main("tools", "--json").stdout)
    assert [t["id"] for t in data] == list(TOOL_IDS)
    assert all(set(t) == {"id", "name", "description", "sends"} for t in data)


@pytest.mark.skipif(
    importlib.util.find_spec("green_api_block.exporters") is None, reason="exporters not in this tree yet"
)
@pytest.mark.parametrize("fmt", ["openai", "anthropic", "mcp", "json-schema"])
def test_tools_format_exports_without_credentials(run_main: Cli, fmt: str) -> None:
    res = run_main("tools", "--format", fmt, "--json")
    assert res.code == 0, res.stderr
    exported = json.loads(res.stdout)
    assert len(exported) == len(TOOL_IDS)
    assert "apiTokenInstance" not in res.stdout


def test_schema_human_and_json(cli: Cli, run_main: Cli) -> None:
    res = cli("schema", "send-buttons")  # short names and dashes are accepted
    assert res.code == 0
    assert res.lines[0].startswith("green_api_send_buttons")
    assert any(line.strip().startswith("buttons") and "1..3 items" in line for line in res.lines)
    assert "output" in res.lines and any(line.strip().startswith("idMessage") for line in res.lines)

    data = json.loads(run_main("schema", "green_api_get_notifications", "--json").stdout)
    tool = load_tools()["green_api_get_notifications"]
    assert data == {"id": tool.id, "input": tool.input_schema, "output": tool.output_schema}


def test_schema_unknown_tool_is_a_usage_error(cli: Cli) -> None:
    res = cli("schema", "send_fax", "--json")
    assert res.code == 2
    assert res.stderr.startswith("error: schema: ")
    assert "`green-api-block tools` lists them" in res.stderr
    assert json.loads(res.stdout)["ok"] is False


def test_manifest_is_the_generated_manifest(cli: Cli, run_main: Cli) -> None:
    res = cli("manifest")
    assert res.code == 0
    assert res.stdout == render_manifest()
    assert json.loads(run_main("manifest", "--json").stdout) == json.loads(render_manifest())


# -- calls: state, send, send-file, run --------------------------------------------------------------


def test_state(cli: Cli, sandbox: Sandbox, instance: SandboxInstance) -> None:
    res = cli("state")
    assert res.code == 0
    assert res.stdout.startswith("authorized  ")
    sandbox.set_state(instance, "notAuthorized")
    res = cli("state", "--json")
    assert json.loads(res.stdout) == {"stateInstance": "notAuthorized"}
    assert res.code == 0


def test_options_work_before_and_after_the_command(
    run_main: Cli, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    """`--json state` and `state --json` alike; an option after the command's name never undoes
    one given before it."""
    before = run_main("--json", "state")
    after = run_main("state", "--json")
    assert json.loads(before.stdout) == json.loads(after.stdout) == {"stateInstance": "authorized"}
    assert before.code == after.code == 0
    # A wrong instance id before the command wins over the environment, as it does after it.
    wrong = run_main("--id-instance", "1100999999", "--json", "state", "--debug")
    assert wrong.code == 3 and json.loads(wrong.stdout)["error"]["code"] == "forbidden"
    assert "Traceback" in wrong.stderr


def test_send_normalises_the_phone_and_reports_the_id(
    cli: Cli, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    res = cli("send", "Order #42 is ready", "--to", "+7 900 123-45-67")
    assert res.code == 0, res.stderr
    sent = sandbox.sent_messages(instance)
    assert [(m.chat_id, m.text) for m in sent] == [(CUSTOMER, "Order #42 is ready")]
    assert res.stdout.split() == ["accepted", CUSTOMER, "idMessage", sent[0].id_message]

    res = cli("send", "-", "--to", CUSTOMER, "--json", input="from stdin\n")
    assert res.code == 0
    assert json.loads(res.stdout)["success"] is True
    assert sandbox.sent_messages(instance)[-1].text == "from stdin"


def test_send_file_takes_the_name_from_the_url(cli: Cli, sandbox: Sandbox, instance: SandboxInstance) -> None:
    res = cli(
        "send-file", "https://example.org/files/invoice%2042.pdf", "--to", CUSTOMER, "--caption", "Invoice"
    )
    assert res.code == 0, res.stderr
    payload = sandbox.sent_messages(instance)[-1].payload
    assert payload["fileName"] == "invoice 42.pdf"
    assert payload["caption"] == "Invoice"

    res = cli("send-file", "https://example.org/download", "--to", CUSTOMER)
    assert res.code == 2
    assert "--file-name" in res.stderr
    assert len(sandbox.sent_messages(instance)) == 1  # refused before any request


def test_run_with_typed_params(cli: Cli, sandbox: Sandbox, instance: SandboxInstance) -> None:
    buttons = json.dumps([{"buttonText": "Yes", "buttonId": "y"}, {"buttonText": "No"}])
    res = cli(
        "run",
        "send_buttons",
        "-p",
        f"chatId={CUSTOMER}",
        "-p",
        "message=Pick one",
        "-p",
        f"buttons={buttons}",
    )
    assert res.code == 0, res.stderr
    output = json.loads(res.stdout)
    assert output["success"] is True
    assert [b["buttonText"] for b in sandbox.sent_messages(instance)[-1].buttons] == ["Yes", "No"]

    sandbox.inject_incoming_text(instance, CUSTOMER, "hi")
    # Integers and booleans typed by the schema; --json gives one line.
    res = cli(
        "run",
        "green_api_get_notifications",
        "--json",
        "-p",
        "receiveTimeout=5",
        "-p",
        "maxNotifications=10",
        "-p",
        "deleteAfterReceive=no",
    )
    assert res.code == 0, res.stderr
    assert len(res.lines) == 1
    got = json.loads(res.stdout)["notifications"]
    assert len(got) == 1  # a peek sees only the head
    assert len(sandbox.notifications(instance)) >= 1


def test_run_input_from_file_and_from_stdin(
    cli: Cli, sandbox: Sandbox, instance: SandboxInstance, tmp_path: Path
) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps({"chatId": CUSTOMER, "message": "from a file"}))
    assert cli("run", "send_message", "--input", str(path)).code == 0
    # A pipe is read when no --param/--input is given; --param overrides the file.
    piped = json.dumps({"chatId": CUSTOMER, "message": "from a pipe"})
    assert cli("run", "send_message", input=piped).code == 0
    assert cli("run", "send_message", "--input", str(path), "-p", "message=overridden").code == 0
    texts = [m.text for m in sandbox.sent_messages(instance)]
    assert texts == ["from a file", "from a pipe", "overridden"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "send_message", "-p", "chatId=nope", "-p", "message=x"], "chatId"),
        (["run", "get_notifications", "-p", "receiveTimeout=soon"], "receiveTimeout: must be an integer"),
        (["run", "get_notifications", "-p", "receiveTimeout=99"], "receiveTimeout"),
        (["run", "send_message", "-p", "colour=red"], "colour: is not a field of this tool"),
        (["run", "state", "-p", f"apiTokenInstance={CANARY}"], "never taken from the command line"),
        (["run", "send_message", "--input", "/nonexistent/in.json"], "cannot read"),
        (["send", "", "--to", CUSTOMER], "message"),
    ],
)
def test_input_errors_exit_2_with_one_line(run_main: Cli, args: list[str], needle: str) -> None:
    res = run_main(*args)
    assert res.code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert needle in lines[0]
    assert " — " in lines[0]  # what failed: why — what to do
    assert "Traceback" not in res.stderr
    assert res.stdout == ""


def test_json_errors_go_to_stdout_as_an_envelope(cli: Cli) -> None:
    res = cli("send", "hi", "--to", "nope", "--json")
    assert res.code == 2
    data = json.loads(res.stdout)
    assert data["ok"] is False
    assert data["error"]["code"] == "invalid_input"
    assert data["error"]["errors"][0]["path"] == "chatId"
    assert res.stderr.startswith("error: send: ")


def test_argparse_usage_errors_exit_2(cli: Cli) -> None:
    res = cli("send", "hi")  # --to missing
    assert res.code == 2
    assert "--to" in res.stderr
    res = cli("state", "--help")
    assert res.code == 0
    for option in ("--json", "--debug", "--profile", "--api-url", "--id-instance", "--token-file"):
        assert option in res.stdout
    assert "exit codes:" in res.stdout and "130  interrupted" in res.stdout


# -- failures by kind: exit codes ---------------------------------------------------------------------


def test_wrong_token_exits_3(cli: Cli) -> None:
    res = cli("state", "--json", extra_env={"GREEN_API_TOKEN_INSTANCE": "wrongtoken0123456789"})
    assert res.code == 3
    assert json.loads(res.stdout)["error"]["code"] == "unauthorized"
    assert "check the token" in res.stderr
    assert "wrongtoken0123456789" not in res.stdout + res.stderr


def test_unauthorized_instance_exits_3(cli: Cli, sandbox: Sandbox, instance: SandboxInstance) -> None:
    sandbox.set_state(instance, "notAuthorized")
    sandbox.inject_fault("status", method="sendMessage", status=400, body="instance account not authorized")
    res = cli("send", "hi", "--to", CUSTOMER, "--json")
    assert res.code == 3
    assert json.loads(res.stdout)["error"]["code"] == "instance_not_authorized"


def test_missing_credentials_exit_3_and_say_where_to_set_them(cli: Cli) -> None:
    res = cli("state", extra_env={"GREEN_API_TOKEN_INSTANCE": None, "GREEN_API_ID_INSTANCE": None})
    assert res.code == 3
    assert "no instance id and no token configured" in res.stderr
    assert "GREEN_API_TOKEN_INSTANCE" in res.stderr and "--token-file" in res.stderr


def test_quota_and_rate_limit_exit_4(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.inject_fault("status", method="sendMessage", status=466)
    res = cli("send", "hi", "--to", CUSTOMER)
    assert res.code == 4
    assert "quota" in res.stderr

    # A Retry-After beyond what the block waits out comes straight back to the user.
    sandbox.inject_fault("status", method="getStateInstance", status=429, retry_after=120)
    res = cli("state", "--json")
    assert res.code == 4
    assert json.loads(res.stdout)["error"]["retry_after"] == 120
    assert "wait 120 s and retry" in res.stderr


def test_send_with_unknown_outcome_exits_5_and_warns(
    cli: Cli, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    sandbox.inject_fault("drop_after", method="sendMessage")
    res = cli("send", "hi", "--to", CUSTOMER, "--json")
    assert res.code == 5
    assert json.loads(res.stdout)["error"]["code"] == "outcome_unknown"
    assert "may have been sent" in res.stderr
    assert len(sandbox.sent_messages(instance)) == 1  # sent once, never retried


def test_unreachable_host_exits_5_without_a_traceback(run_main: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process with quick retries: the default policy would spend 3.5 s backing off first.
    from green_api_block.cli import core, settings

    def quick_block(config: settings.Settings) -> GreenApiBlock:
        block = settings.make_block(config)
        block.retry = RetryPolicy(max_retries=1, backoff_initial=0.001, backoff_max=0.002)
        return block

    monkeypatch.setattr(core, "make_block", quick_block)
    res = run_main("state", extra_env={"GREEN_API_URL": closed_port_url()})
    assert res.code == 5
    assert res.stderr.startswith("error: state: ")
    assert "check --api-url and the network" in res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_insecure_url_is_a_config_error(run_main: Cli) -> None:
    res = run_main("state", "--api-url", "http://api.example.org")
    assert res.code == 3
    assert "only https://" in res.stderr


# -- the token stays masked ------------------------------------------------------------------------


def test_debug_logs_and_tracebacks_mask_the_token(cli: Cli, sandbox: Sandbox) -> None:
    sandbox.inject_fault("status", method="getStateInstance", status=401, body=f"bad token {CANARY}")
    res = cli("state", "--debug")  # the cli fixture fails the test if the canary shows anywhere
    assert res.code == 3
    assert "Traceback (most recent call last)" in res.stderr
    assert "getStateInstance/***" in res.stderr  # httpx's request log line, masked
    assert res.stderr.strip().splitlines()[-1].startswith("error: state: ")
