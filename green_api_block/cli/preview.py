"""``green-api-block preview``: the block's form as a visual builder draws it, in a browser.

Serves one local page built from ``manifest.json`` and the schemas: the block card, the operation
dropdown, each tool's fields, the outputs; "Run" validates in the browser and calls the block.
With ``--sandbox`` it runs on an embedded sandbox whose credentials stay in this process;
otherwise on the instance the connection settings name (flags > environment > profile), or on
whatever instance the person types into the form.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import webbrowser
from typing import TYPE_CHECKING

from green_api_block.errors import ConfigError

from .interrupt import until_interrupted
from .output import EXIT_OK, Ui, command, common_parents
from .settings import load_settings, read_auth_token

if TYPE_CHECKING:
    from green_api_block.preview import PreviewServer

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "preview",
        parents=common_parents(),
        help="open the block's form (as a visual builder draws it) in a browser and try the tools",
        description=(
            "Serve a local page that draws the block from manifest.json exactly as a visual "
            "builder would (icon, operation dropdown, each tool's fields, outputs) and runs the "
            "tools: with --sandbox on an embedded sandbox, else on your instance. The page is "
            "plain HTML/CSS/JS shipped with the package: nothing is downloaded. Ctrl-C stops it."
        ),
    )
    group = parser.add_argument_group("preview")
    group.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    group.add_argument(
        "--port", type=int, default=0, metavar="N", help="port to listen on (default: a free port)"
    )
    group.add_argument(
        "--sandbox",
        action="store_true",
        help="run the tools on an embedded sandbox (credentials filled in, customer messages to inject)",
    )
    group.add_argument("--no-browser", action="store_true", help="print the URL, do not open a browser")
    group.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name the page is reached by (a LAN address, a DNS name; repeat)",
    )
    group.add_argument(
        "--auth-token-file",
        metavar="PATH",
        help="require the token on the first line of PATH (the browser opens /?token=...)",
    )
    parser.set_defaults(func=_preview)


def _has_display() -> bool:
    """Whether ``webbrowser`` would open a graphical browser rather than a text one in this terminal."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@command("preview")
def _preview(args: argparse.Namespace, ui: Ui) -> int:
    from green_api_block.netaddr import is_loopback
    from green_api_block.preview import PreviewServer

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535 (got {args.port})")
    auth_token = read_auth_token(args.auth_token_file) if args.auth_token_file else None
    if not is_loopback(args.host) and auth_token is None:
        ui.warn(
            f"listening on {args.host}: anyone who can reach it, and any web page the user visits, can "
            "run the tools with the credentials this preview holds unless a token is required: pass "
            "--auth-token-file (there is no TLS either)"
        )
    where = {"host": args.host, "port": args.port, "allowed_hosts": args.allow_host, "auth_token": auth_token}
    if args.sandbox:
        ignored = [
            flag
            for flag in ("api_url", "media_url", "id_instance", "token_file", "profile")
            if getattr(args, flag, None)
        ]
        if ignored:
            ui.warn(
                "--sandbox uses the embedded sandbox: "
                + ", ".join("--" + f.replace("_", "-") for f in ignored)
                + " ignored"
            )
        preview = PreviewServer(sandbox=True, **where)
    else:
        settings = load_settings(args)
        for warning in settings.warnings:
            ui.warn(warning)
        preview = PreviewServer(
            **where,
            api_url=settings.api_url.value,
            media_url=settings.media_url.value,
            id_instance=settings.id_instance.value,
            api_token=settings.api_token.value,
        )
    try:
        preview.start()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    # Signals are taken over before the URL is shown: whoever reads it may stop the preview at once.
    with until_interrupted() as wait, contextlib.closing(preview):
        _announce(preview, ui, args)
        if not args.no_browser and _has_display():
            threading.Thread(target=webbrowser.open, args=(preview.login_url,), daemon=True).start()
        wait()
    ui.note("preview stopped")
    return EXIT_OK


def _announce(preview: PreviewServer, ui: Ui, args: argparse.Namespace) -> None:
    config = preview.config
    assert config is not None
    if ui.json:
        data = {
            "url": preview.url,
            "mode": config.mode,
            "apiUrl": config.api_url,
            "idInstance": config.bound_id_instance,
        }
        if preview.webhook_url is not None:
            data["webhookUrl"] = preview.webhook_url
        ui.out(json.dumps(data))
        return
    ui.out(f"Block preview at {preview.url}  (Ctrl-C to stop)")
    if config.mode == "sandbox":
        ui.out(
            f"  sandbox at {config.api_url}, instance {config.bound_id_instance} "
            "(its token stays in this process)"
        )
        ui.out(f"  trigger: switch Listen on in the page and the sandbox pushes to {preview.webhook_url}")
    else:
        held = (
            "the token is held by this process"
            if config.token_bound
            else "type the instance's credentials into the form"
        )
        ui.out(f"  instance mode: {config.api_url}; {held}")
    if preview.config is not None and preview.config.auth_token is not None:
        # The token is not printed (terminals get logged): the person has the file.
        ui.out(f"  a token is required: open {preview.url}/?token=<the token in {args.auth_token_file}>")
    elif args.no_browser or not _has_display():
        ui.out("  open the URL above in a browser")
