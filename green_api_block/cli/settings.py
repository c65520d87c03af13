"""Where the command line finds its host and credentials: flags, then environment, then a profile.

The profile file is TOML (``$GREEN_API_BLOCK_CONFIG``, else
``$XDG_CONFIG_HOME/green-api-block/config.toml``, else ``~/.config/green-api-block/config.toml``)::

    default_profile = "shop"          # optional; else the profile named "default", if any

    [profiles.shop]
    api_url = "https://1103.api.green-api.com"
    media_url = "https://1103.media.green-api.com"
    id_instance = "1103000001"
    token_file = "~/.secrets/green-api-shop"   # or api_token = "..." (then chmod 600 the file)

A token is never taken from a command-line value (shell history and ``ps`` would show it): only
``--token-file``, ``GREEN_API_TOKEN_INSTANCE`` or the profile.
"""

from __future__ import annotations

import argparse
import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from green_api_block.config import (
    DEFAULT_API_URL,
    DEFAULT_MEDIA_URL,
    ENV_API_URL,
    ENV_ID_INSTANCE,
    ENV_MEDIA_URL,
    ENV_TOKEN_INSTANCE,
)
from green_api_block.errors import ConfigError
from green_api_block.redact import mask_token, register_secret

if TYPE_CHECKING:
    from green_api_block import GreenApiBlock

__all__ = [
    "ENV_CONFIG",
    "ENV_PROFILE",
    "PROFILE_KEYS",
    "MissingCredentialsError",
    "Settings",
    "config_path",
    "connection_options",
    "load_settings",
    "make_block",
]

ENV_CONFIG = "GREEN_API_BLOCK_CONFIG"
ENV_PROFILE = "GREEN_API_BLOCK_PROFILE"
PROFILE_KEYS = ("api_url", "media_url", "id_instance", "api_token", "token_file")
_ENV = {"api_url": ENV_API_URL, "media_url": ENV_MEDIA_URL, "id_instance": ENV_ID_INSTANCE}
_FLAGS = {"api_url": "--api-url", "media_url": "--media-url", "id_instance": "--id-instance"}


def connection_options(*, suppress: bool = False) -> argparse.ArgumentParser:
    """A parent parser with the options that choose the instance; every sub-command takes them."""
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS if suppress else None)
    group = parent.add_argument_group("connection (flags > environment > profile)")
    group.add_argument(
        "--profile",
        metavar="NAME",
        help=f"profile from the config file (default: ${ENV_PROFILE}, the file's default_profile, "
        "or the profile named 'default')",
    )
    group.add_argument("--api-url", metavar="URL", help=f"the instance's apiUrl (env {ENV_API_URL})")
    group.add_argument("--media-url", metavar="URL", help=f"the instance's mediaUrl (env {ENV_MEDIA_URL})")
    group.add_argument("--id-instance", metavar="ID", help=f"instance id (env {ENV_ID_INSTANCE})")
    group.add_argument(
        "--token-file",
        metavar="PATH",
        help=f"read the instance token from this file (else env {ENV_TOKEN_INSTANCE} or the profile)",
    )
    return parent


def config_path() -> Path:
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "green-api-block" / "config.toml"


class MissingCredentialsError(ConfigError):
    """No instance id or token anywhere; ``hint`` says where they can come from."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Value:
    """One effective setting and where it came from (for ``config show`` and error hints)."""

    value: str | None
    source: str  # "--api-url", "env GREEN_API_URL", "profile shop", "default", "unset: ..."
    secret: bool = False

    def __repr__(self) -> str:
        shown = mask_token(self.value) if self.secret else self.value
        return f"Value({shown!r}, source={self.source!r})"


@dataclass(frozen=True)
class Settings:
    api_url: Value
    media_url: Value
    id_instance: Value
    api_token: Value = field(repr=False)
    profile: str | None
    config_file: Path
    config_exists: bool
    warnings: tuple[str, ...] = ()
    #: The token file the token came from when other users may read it (a warning says so too).
    exposed_token_file: Path | None = None

    def __repr__(self) -> str:  # the token stays out even of a debugger's view
        return (
            f"Settings(api_url={self.api_url.value!r}, id_instance={self.id_instance.value!r}, "
            f"api_token={mask_token(self.api_token.value)!r}, profile={self.profile!r})"
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.id_instance.value and self.api_token.value)

    def require_credentials(self) -> None:
        missing = [
            name for name, v in (("instance id", self.id_instance), ("token", self.api_token)) if not v.value
        ]
        if missing:
            raise MissingCredentialsError(
                f"no {' and no '.join(missing)} configured",
                hint=f"set {ENV_ID_INSTANCE} and {ENV_TOKEN_INSTANCE}, pass --id-instance and "
                f"--token-file, or add a profile to {self.config_file}",
            )

    def public(self) -> dict[str, Any]:
        """The effective settings with the token masked: what ``config show --json`` prints."""

        def item(v: Value, masked: bool = False) -> dict[str, Any]:
            shown = mask_token(v.value) if masked and v.value else v.value
            return {"value": shown, "source": v.source}

        return {
            "profile": self.profile,
            "configFile": str(self.config_file),
            "configFileExists": self.config_exists,
            "apiUrl": item(self.api_url),
            "mediaUrl": item(self.media_url),
            "idInstance": item(self.id_instance),
            "apiTokenInstance": item(self.api_token, masked=True),
        }


def _readable_by_others(path: Path) -> bool:
    """Whether users other than the owner have any access to ``path`` (POSIX only)."""
    if os.name != "posix":
        return False
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def _read_token_file(path: Path, what: str, exposed: list[Path] | None = None) -> str:
    path = path.expanduser()
    if exposed is not None and _readable_by_others(path):
        # As dangerous as an api_token in a world-readable config file: say so the same way.
        exposed.append(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the token file {what} {path}: {exc.strerror or type(exc).__name__}"
        ) from None
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"the token file {what} {path} is empty")
    register_secret(token)
    return token


def _load_file(path: Path) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        # TOMLDecodeError names the line and column, never the offending text.
        raise ConfigError(f"the config file {path} is not valid TOML: {exc}") from None
    return data


def _profiles(data: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(p, dict) for p in profiles.values()):
        raise ConfigError(f"the config file {path}: [profiles.NAME] tables expected")
    return profiles


def _choose_profile(
    requested: str | None, data: dict[str, Any] | None, path: Path
) -> tuple[str | None, dict[str, Any]]:
    env_choice = os.environ.get(ENV_PROFILE) or None
    name = requested or env_choice
    if data is None:
        if name:
            raise ConfigError(
                f"profile {name!r} requested but there is no config file at {path}: create it "
                f"with a [profiles.{name}] table, or set ${ENV_CONFIG}"
            )
        return None, {}
    profiles = _profiles(data, path)
    if name is None:
        default = data.get("default_profile")
        if isinstance(default, str) and default:
            name = default
        elif "default" in profiles:
            name = "default"
        else:
            return None, {}
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"profile {name!r} is not in {path} (profiles there: {known})")
    return name, profiles[name]


def _check_permissions(path: Path, profile: dict[str, Any], warnings: list[str]) -> None:
    if "api_token" in profile and _readable_by_others(path):
        warnings.append(f"{path} holds an api_token and is readable by other users: run chmod 600 {path}")


def load_settings(args: argparse.Namespace) -> Settings:
    """Resolve the effective settings for this invocation; registers the token for redaction."""
    path = config_path()
    data = _load_file(path)
    name, profile = _choose_profile(getattr(args, "profile", None), data, path)
    warnings: list[str] = []
    unknown = sorted(set(profile) - set(PROFILE_KEYS))
    if unknown:
        warnings.append(
            f"profile {name!r} in {path}: unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(PROFILE_KEYS)})"
        )
    if profile:
        _check_permissions(path, profile, warnings)
    explicit_profile = bool(getattr(args, "profile", None))

    def pick(key: str, default: str | None) -> Value:
        flag = getattr(args, key, None)
        if flag not in (None, ""):
            return Value(str(flag), _FLAGS[key])
        env = os.environ.get(_ENV[key])
        from_profile = profile.get(key)
        if env:
            if explicit_profile and from_profile not in (None, "") and str(from_profile) != env:
                warnings.append(f"{_ENV[key]} overrides {key} of profile {name!r} (flags > env > profile)")
            return Value(env, f"env {_ENV[key]}")
        if from_profile not in (None, ""):
            if not isinstance(from_profile, str | int) or isinstance(from_profile, bool):
                raise ConfigError(f"profile {name!r} in {path}: {key} must be a string")
            return Value(str(from_profile), f"profile {name}")
        if default:
            return Value(default, "default")
        return Value(None, f"unset: use {_FLAGS[key]}, env {_ENV[key]} or a profile")

    api_url = pick("api_url", DEFAULT_API_URL)
    media_default = api_url.value if api_url.value != DEFAULT_API_URL else DEFAULT_MEDIA_URL
    media_url = pick("media_url", None)
    if media_url.value is None:
        # A custom api host without a media host (the sandbox, a proxy) serves media too.
        media_url = Value(media_default, "default" if api_url.source == "default" else "same as api_url")
    id_instance = pick("id_instance", None)
    exposed: list[Path] = []
    api_token = _pick_token(args, profile, name, path, explicit_profile, warnings, exposed)
    for token_path in exposed:
        warnings.append(f"the token file {token_path} is readable by other users: run chmod 600 {token_path}")
    return Settings(
        api_url=api_url,
        media_url=media_url,
        id_instance=id_instance,
        api_token=api_token,
        profile=name,
        config_file=path,
        config_exists=data is not None,
        warnings=tuple(warnings),
        exposed_token_file=exposed[0] if exposed else None,
    )


def _pick_token(
    args: argparse.Namespace,
    profile: dict[str, Any],
    name: str | None,
    path: Path,
    explicit_profile: bool,
    warnings: list[str],
    exposed: list[Path],
) -> Value:
    inline, from_file = profile.get("api_token"), profile.get("token_file")
    if inline and from_file:
        raise ConfigError(f"profile {name!r} in {path} sets both api_token and token_file: keep one")
    token_file = getattr(args, "token_file", None)
    if token_file:
        return Value(
            _read_token_file(Path(token_file), "given with --token-file", exposed), "--token-file", True
        )
    env = os.environ.get(ENV_TOKEN_INSTANCE)
    if env:
        register_secret(env)
        if explicit_profile and (profile.get("api_token") or profile.get("token_file")):
            warnings.append(f"{ENV_TOKEN_INSTANCE} overrides the token of profile {name!r}")
        return Value(env, f"env {ENV_TOKEN_INSTANCE}", True)
    if inline:
        if not isinstance(inline, str):
            raise ConfigError(f"profile {name!r} in {path}: api_token must be a string")
        register_secret(inline)
        return Value(inline, f"profile {name}", True)
    if from_file:
        if not isinstance(from_file, str):
            raise ConfigError(f"profile {name!r} in {path}: token_file must be a string")
        # A relative token_file is relative to the config file, not to wherever the user stands.
        target = path.parent / Path(from_file).expanduser()
        return Value(
            _read_token_file(target, f"of profile {name!r}", exposed), f"profile {name} (token_file)", True
        )
    return Value(None, f"unset: use --token-file, env {ENV_TOKEN_INSTANCE} or a profile")


def make_block(settings: Settings) -> GreenApiBlock:
    """A block bound to these settings; the environment was already taken into account."""
    from green_api_block import GreenApiBlock

    return GreenApiBlock(
        api_url=settings.api_url.value,
        media_url=settings.media_url.value,
        id_instance=settings.id_instance.value,
        api_token=settings.api_token.value,
        credentials_from_env=False,
    )


def read_auth_token(path: str) -> str:
    """The bearer token ``mcp --http`` and ``preview`` clients must send: line 1 of ``path``, 16+ chars."""
    token = _read_token_file(Path(path), "--auth-token-file")
    # Short tokens are guessable over the network; the check is constant-time, not rate-limited.
    if len(token) < 16 or any(c.isspace() for c in token):
        raise ConfigError(f"--auth-token-file {path}: the token must be one word of 16 characters or more")
    return token
