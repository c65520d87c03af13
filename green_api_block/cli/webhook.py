"""``green-api-block webhook serve|set|clear|status``: receive pushes instead of polling.

``serve`` runs the receiver (green_api_block.webhook) under uvicorn; ``set`` points the
instance at it with a generated token; ``clear`` goes back to polling; ``status`` shows what is
set. uvicorn is imported by ``serve`` only.
"""

from __future__ import annotations

import argparse

from .output import EXIT_CODES_HELP, HelpFormatter, Ui, command, common_parents

__all__ = ["register"]


def _token_file_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--webhook-token-file",
        metavar="PATH",
        help="the webhook token (Green API's webhookUrlToken; not the instance token of --token-file); "
        "default: webhook-token next to the config file",
    )
    parser.add_argument(
        "--insecure-token-file",
        action="store_true",
        help="use the webhook token file even though other users can read it",
    )


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < 180:
        raise argparse.ArgumentTypeError("must be more than 0 and under Green API's 180 s")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "webhook",
        help="receive notifications by push (serve, set, clear, status)",
        description="Receive Green API's notifications by webhook push instead of polling.",
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    sub = parser.add_subparsers(dest="webhook_command", metavar="ACTION")

    serve = sub.add_parser(
        "serve",
        help="receive pushes and print one line (--json: one object) per event",
        description=(
            "Serve the webhook receiver: every push must carry 'Authorization: Bearer <token>'; each "
            "accepted event is printed (and flushed) before Green API gets its 200. Duplicates are "
            "answered 200 and not printed again. Ctrl-C or SIGTERM stop it (exit 0)."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free port)")
    serve.add_argument("--path", default="/", help="the path Green API posts to (default /)")
    _token_file_options(serve)
    serve.add_argument("--no-auth", action="store_true", help="accept pushes without a token (loopback only)")
    serve.add_argument(
        "--handler-timeout",
        type=_seconds,
        default=170.0,
        metavar="SECONDS",
        help="answer 500 when printing takes longer (default 170)",
    )
    flt = serve.add_argument_group("filters (a filtered event is answered 200 and not printed)")
    flt.add_argument("--event-type", action="append", metavar="TYPE", help="a typeWebhook to keep (repeat)")
    flt.add_argument(
        "--chat-type", action="append", choices=("personal", "group"), help="keep personal or group chats"
    )
    flt.add_argument("--chat-id", action="append", metavar="CHAT", help="a chat id or phone to keep (repeat)")
    flt.add_argument(
        "--include-own-sends",
        action="store_true",
        help="print outgoingAPIMessageReceived too (the bot's own sends; off so a bot cannot loop)",
    )
    serve.set_defaults(func=_serve)

    set_ = sub.add_parser(
        "set",
        help="point the instance's webhookUrl here, with a generated token",
        description=(
            "Register URL as the instance's webhook with setSettings, with a generated token (kept "
            "in a 0600 file, reused when it exists) and the notification switches. Reads getSettings "
            "first and changes only what differs (setSettings reboots the instance)."
        ),
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    set_.add_argument("url", metavar="URL", help="where Green API posts (https://...)")
    _token_file_options(set_)
    set_.add_argument(
        "--allow-insecure-url", action="store_true", help="accept a plain http:// URL off loopback"
    )
    sw = set_.add_argument_group("notification switches")
    helps = {
        "incoming": "incoming messages (incomingWebhook; default yes)",
        "outgoing": "statuses of sent messages (outgoingWebhook; default yes)",
        "state": "authorization state changes (stateWebhook; default yes)",
        "own_sends": "the bot's own API sends (outgoingAPIMessageWebhook; default no)",
    }
    for name, text in helps.items():
        sw.add_argument(
            f"--{name.replace('_', '-')}", dest=name, action=argparse.BooleanOptionalAction, help=text
        )
    set_.set_defaults(func=_set)

    clear = sub.add_parser(
        "clear",
        help="empty webhookUrl and its token so polling works again",
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    clear.set_defaults(func=_clear)
    status = sub.add_parser(
        "status",
        help="show webhookUrl, whether a token is set, the switches",
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )
    status.set_defaults(func=_status)

    def usage(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    parser.set_defaults(func=usage)


@command("webhook serve")
def _serve(args: argparse.Namespace, ui: Ui) -> int:
    from .webhook_serve import serve

    return serve(args, ui)


@command("webhook set")
def _set(args: argparse.Namespace, ui: Ui) -> int:
    from .webhook_remote import set_webhook

    return set_webhook(args, ui)


@command("webhook clear")
def _clear(args: argparse.Namespace, ui: Ui) -> int:
    from .webhook_remote import clear

    return clear(args, ui)


@command("webhook status")
def _status(args: argparse.Namespace, ui: Ui) -> int:
    from .webhook_remote import status

    return status(args, ui)
