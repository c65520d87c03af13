"""``webhook set/clear/status``: the instance's webhookUrl, token and switches (REFERENCE.md §10.2).

setSettings reboots the instance and takes up to 5 minutes to apply, so every command reads
getSettings first and writes only what differs. The webhook token is never printed: status
says whether one is set.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit

from green_api_block.errors import ConfigError
from green_api_block.netaddr import is_loopback

from .output import EXIT_OK, Ui
from .settings import load_settings, make_block
from .webhook_token import ensure_token_file

__all__ = ["SWITCHES", "clear", "set_webhook", "status"]

#: flag name -> (setting, default): what a bot reading replies needs (REFERENCE.md §10.2).
SWITCHES: dict[str, tuple[str, bool]] = {
    "incoming": ("incomingWebhook", True),
    "outgoing": ("outgoingWebhook", True),  # delivery and read statuses of sent messages
    "state": ("stateWebhook", True),
    "own_sends": ("outgoingAPIMessageWebhook", False),  # the bot's own sends: loops if handled
}
_STATUS_KEYS = (
    "incomingWebhook",
    "outgoingWebhook",
    "outgoingMessageWebhook",
    "outgoingAPIMessageWebhook",
    "stateWebhook",
    "incomingCallWebhook",
    "pollMessageWebhook",
)


def _check_url(url: str, allow_insecure: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the webhook URL must be http(s)://host/..., not {url!r}")
    if parts.username or parts.password:
        raise ConfigError("the webhook URL must not carry a user or password: the token does that")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure:
        raise ConfigError(
            "the webhook token travels in a header: a plain http:// URL off loopback shows it to "
            "anyone on the way. Use https:// (or pass --allow-insecure-url)"
        )


def _block(args: argparse.Namespace, ui: Ui) -> Any:
    settings = load_settings(args)
    for warning in settings.warnings:
        ui.warn(warning)
    settings.require_credentials()
    return make_block(settings)


def _apply(block: Any, current: dict[str, Any], desired: dict[str, str]) -> list[str]:
    changes = {k: v for k, v in desired.items() if current.get(k) != v}
    if changes:
        block.set_settings(changes)
    return sorted(changes)


def _report(ui: Ui, changed: list[str], extra: dict[str, Any], done: str) -> None:
    if ui.json:
        ui.out_json({"ok": True, "changed": bool(changed), "changes": changed, **extra})
        return
    if changed:
        ui.out(f"{done} (changed: {', '.join(changed)})")
        ui.warn("setSettings reboots the instance; Green API may take up to 5 minutes to apply it")
    else:
        ui.out("nothing changed: the instance already has these settings (no setSettings call)")


def set_webhook(args: argparse.Namespace, ui: Ui) -> int:
    _check_url(args.url, args.allow_insecure_url)
    token, path, created = ensure_token_file(args.webhook_token_file, insecure=args.insecure_token_file)
    desired = {"webhookUrl": args.url, "webhookUrlToken": token}
    for flag, (setting, default) in SWITCHES.items():
        value = getattr(args, flag)
        desired[setting] = "yes" if (default if value is None else value) else "no"
    with _block(args, ui) as block:
        current = block.get_settings()
        changed = _apply(block, current, desired)
    if created and not ui.json:
        ui.say(f"wrote a new webhook token to {path} (mode 600): 'webhook serve' reads it from there")
    extra = {"webhookUrl": args.url, "tokenFile": str(path), "tokenFileCreated": created}
    _report(ui, changed, extra, f"webhook set to {args.url}")
    return EXIT_OK


def clear(args: argparse.Namespace, ui: Ui) -> int:
    with _block(args, ui) as block:
        current = block.get_settings()
        desired = {"webhookUrl": "", "webhookUrlToken": ""}
        # Only what is set: a missing key counts as empty, and an empty one is left alone.
        desired = {k: v for k, v in desired.items() if current.get(k)}
        changed = _apply(block, current, desired)
    _report(ui, changed, {"webhookUrl": ""}, "webhook cleared: polling (watch) works again")
    return EXIT_OK


def status(args: argparse.Namespace, ui: Ui) -> int:
    with _block(args, ui) as block:
        current = block.get_settings()
    url = current.get("webhookUrl") or ""
    token_set = bool(current.get("webhookUrlToken"))
    switches = {k: current[k] for k in _STATUS_KEYS if k in current}
    if ui.json:
        ui.out_json({"ok": True, "webhookUrl": url, "webhookUrlTokenSet": token_set, "switches": switches})
        return EXIT_OK
    ui.out(f"webhookUrl\t{url or '(none: polling)'}")
    ui.out(f"webhookUrlToken\t{'set (not shown)' if token_set else 'not set'}")
    for key, value in switches.items():
        ui.out(f"{key}\t{value}")
    return EXIT_OK
