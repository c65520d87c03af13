"""Where ``webhook serve`` and ``webhook set`` keep the webhook token (Green API's webhookUrlToken).

Not the instance token (``--token-file``): this one is the Bearer secret Green API sends with
every push. ``webhook set`` writes it next to the CLI's config (mode 0600) unless given a file,
and ``webhook serve`` reads it from there, from ``--webhook-token-file`` or from
``GREEN_API_WEBHOOK_TOKEN``. A file other users can read is refused unless
``--insecure-token-file``: anyone holding the token can inject "customer messages".
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from green_api_block.errors import ConfigError
from green_api_block.redact import register_secret

from .settings import _read_token_file, _readable_by_others, config_path

__all__ = ["ENV_WEBHOOK_TOKEN", "default_token_path", "ensure_token_file", "find_token"]

ENV_WEBHOOK_TOKEN = "GREEN_API_WEBHOOK_TOKEN"


def default_token_path() -> Path:
    return config_path().parent / "webhook-token"


def _read(path: Path, what: str, *, insecure: bool) -> str:
    if _readable_by_others(path) and not insecure:
        raise ConfigError(
            f"the webhook token file {path} is readable by other users: run chmod 600 {path} "
            "(or pass --insecure-token-file)"
        )
    return _read_token_file(path, what)


def find_token(given: str | None, *, insecure: bool) -> tuple[str | None, str]:
    """The token ``serve`` checks, and where it came from (for the listening line)."""
    if given:
        path = Path(given).expanduser()
        return _read(path, "given with --webhook-token-file", insecure=insecure), str(path)
    env = os.environ.get(ENV_WEBHOOK_TOKEN)
    if env:
        register_secret(env)
        return env.strip(), f"env {ENV_WEBHOOK_TOKEN}"
    path = default_token_path()
    if path.exists():
        return _read(path, "written by webhook set", insecure=insecure), str(path)
    return None, "none"


def ensure_token_file(given: str | None, *, insecure: bool) -> tuple[str, Path, bool]:
    """The token in ``given`` (or the default file), made when missing: (token, path, created)."""
    path = Path(given).expanduser() if given else default_token_path()
    if path.exists():
        return _read(path, "for webhook set", insecure=insecure), path, False
    token = secrets.token_urlsafe(32)
    register_secret(token)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: never follow a planted link or overwrite a file made in between.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(f"cannot create the webhook token file {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token, path, True
