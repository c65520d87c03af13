"""Settings: flags > environment > profile file; ``config show`` masks the token."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from green_api_block.redact import mask_token
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.cli import SANDBOX, Cli
from tests.support.credentials import CANARY

pytestmark = SANDBOX

NO_ENV = {"GREEN_API_URL": None, "GREEN_API_ID_INSTANCE": None, "GREEN_API_TOKEN_INSTANCE": None}


def write_config(home: Path, text: str, mode: int = 0o600) -> Path:
    path = home / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_config_show_masks_the_token_and_names_sources(run_main: Cli, sandbox: Sandbox) -> None:
    res = run_main("config", "show")
    assert res.code == 0
    assert mask_token(CANARY) in res.stdout
    lines = {line.split()[0]: line for line in res.lines}
    assert "env GREEN_API_TOKEN_INSTANCE" in lines["api_token"]
    assert sandbox.url in lines["api_url"] and "env GREEN_API_URL" in lines["api_url"]
    assert "same as api_url" in lines["media_url"]

    data = json.loads(run_main("config", "show", "--json").stdout)
    assert data["apiTokenInstance"] == {"value": mask_token(CANARY), "source": "env GREEN_API_TOKEN_INSTANCE"}
    assert data["profile"] is None and data["configFileExists"] is False


def test_profile_file_is_used_when_nothing_else_is_set(
    cli: Cli, run_main: Cli, home: Path, sandbox: Sandbox, instance: SandboxInstance
) -> None:
    token_file = home / "token"
    token_file.write_text(CANARY + "\n")
    write_config(
        home,
        f'default_profile = "shop"\n\n[profiles.shop]\napi_url = "{sandbox.url}"\n'
        f'id_instance = {instance.id_instance}\ntoken_file = "token"\n',
    )
    res = cli("state", extra_env=NO_ENV)
    assert res.code == 0, res.stderr
    assert res.stdout.startswith("authorized")
    data = json.loads(run_main("config", "show", "--json", extra_env=NO_ENV).stdout)
    assert data["profile"] == "shop"
    assert data["idInstance"] == {"value": instance.id_instance, "source": "profile shop"}
    assert data["apiTokenInstance"]["source"] == "profile shop (token_file)"


def test_precedence_flags_then_env_then_profile(run_main: Cli, home: Path, sandbox: Sandbox) -> None:
    write_config(
        home,
        '[profiles.default]\napi_url = "https://profile.example.org"\n'
        'media_url = "https://media.profile.example.org"\nid_instance = "1111111111"\n'
        f'api_token = "{CANARY}"\n',
    )
    env = {"GREEN_API_URL": "https://env.example.org", "GREEN_API_ID_INSTANCE": "2222222222"}
    res = run_main("config", "show", "--json", "--id-instance", "3333333333", extra_env={**NO_ENV, **env})
    data = json.loads(res.stdout)
    assert data["profile"] == "default"
    assert data["idInstance"] == {"value": "3333333333", "source": "--id-instance"}
    assert data["apiUrl"] == {"value": "https://env.example.org", "source": "env GREEN_API_URL"}
    assert data["mediaUrl"] == {"value": "https://media.profile.example.org", "source": "profile default"}
    assert data["apiTokenInstance"] == {"value": mask_token(CANARY), "source": "profile default"}


def test_env_overriding_an_explicit_profile_is_warned(run_main: Cli, home: Path) -> None:
    write_config(home, '[profiles.work]\nid_instance = "1111111111"\n')
    res = run_main("config", "show", "--profile", "work", extra_env={"GREEN_API_ID_INSTANCE": "2222222222"})
    assert res.code == 0
    assert "warning: GREEN_API_ID_INSTANCE overrides id_instance of profile 'work'" in res.stderr


def test_token_file_flag(cli: Cli, run_main: Cli, home: Path) -> None:
    token_file = home / "secret"
    token_file.write_text(CANARY)
    res = cli(
        "state", "--json", "--token-file", str(token_file), extra_env={"GREEN_API_TOKEN_INSTANCE": None}
    )
    assert res.code == 0, res.stderr
    data = json.loads(run_main("config", "show", "--json", "--token-file", str(token_file)).stdout)
    assert data["apiTokenInstance"]["source"] == "--token-file"


@pytest.mark.parametrize(
    ("config", "args", "needle"),
    [
        (None, ["--profile", "nope"], "no config file"),
        ('[profiles.a]\nid_instance = "1"\n', ["--profile", "b"], "profiles there: a"),
        ("[profiles.a\n", [], "not valid TOML"),
        ('[profiles.a]\napi_token = "x1234"\ntoken_file = "t"\n', ["--profile", "a"], "keep one"),
        (None, ["--token-file", "/nonexistent/token"], "cannot read the token file"),
    ],
)
def test_configuration_errors_exit_3(
    run_main: Cli, home: Path, config: str | None, args: list[str], needle: str
) -> None:
    if config is not None:
        write_config(home, config)
    res = run_main("state", *args)
    assert res.code == 3
    assert needle in res.stderr
    assert res.stderr.startswith("error: state: ")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_world_readable_inline_token_is_warned(run_main: Cli, home: Path) -> None:
    path = write_config(home, f'[profiles.default]\napi_token = "{CANARY}"\n', mode=0o644)
    res = run_main("config", "show", extra_env=NO_ENV)
    assert res.code == 0
    assert f"chmod 600 {path}" in res.stderr


def test_unknown_profile_keys_are_warned(run_main: Cli, home: Path) -> None:
    write_config(home, '[profiles.default]\napi_tokn = "x"\n')
    res = run_main("config", "show")
    assert "unknown key(s) api_tokn" in res.stderr


def test_config_path(run_main: Cli, home: Path) -> None:
    assert run_main("config", "path").stdout.strip() == str(home / "config.toml")
    res = run_main(
        "config", "path", extra_env={"GREEN_API_BLOCK_CONFIG": None, "XDG_CONFIG_HOME": str(home / "x")}
    )
    assert res.stdout.strip() == str(home / "x" / "green-api-block" / "config.toml")
