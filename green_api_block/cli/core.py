"""The everyday commands: ``tools``, ``schema``, ``manifest``, ``run``, ``state``, ``send``,
``send-file`` and ``config show``/``config path``.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, TypeAlias
from urllib.parse import unquote, urlsplit

from green_api_block.contract import CREDENTIAL_FIELDS, TOOL_IDS, ToolDefinition, load_tools
from green_api_block.errors import InputValidationError, UnknownToolError
from green_api_block.flags import parse_bool

from .output import EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, HelpFormatter, Ui, command, common_parents
from .settings import Settings, load_settings, make_block

__all__ = ["parse_params", "register", "resolve_tool", "settings_for"]

EXPORT_FORMATS = ("openai", "openai-responses", "anthropic", "mcp", "json-schema")
_STATE_MEANING = {
    "authorized": ("green", "linked to WhatsApp: it can send and receive"),
    "notAuthorized": ("red", "no WhatsApp account linked: scan the QR code in the console"),
    "blocked": ("red", "the WhatsApp number is banned: messages only queue"),
    "sleepMode": ("yellow", "the phone is offline: back within minutes of it coming online"),
    "starting": ("yellow", "the instance is (re)starting: usually ready within 5 minutes"),
    "yellowCard": ("red", "sending suspended for spam-like activity: reboot the instance in the console"),
}
_SHORT_NAMES = {"state": "green_api_get_state_instance", "notifications": "green_api_get_notifications"}

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def resolve_tool(name: str) -> str:
    """A tool id from what a person types: the id, the id without ``green_api_``, ``-`` for ``_``."""
    key = name.strip().lower().replace("-", "_")
    for candidate in (key, f"green_api_{key}", _SHORT_NAMES.get(key, "")):
        if candidate in TOOL_IDS:
            return candidate
    problem = {
        "path": "tool",
        "rule": "enum",
        "message": f"unknown tool {_printable(name)!r}; use one of: {', '.join(TOOL_IDS)}",
    }
    raise UnknownToolError(None, [problem])


def _printable(name: str) -> str:
    return "".join(c for c in name if c.isprintable())[:60]


def _schema_type(spec: Mapping[str, Any]) -> str:
    kind = spec.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind)


def _convert(kind: str, raw: str) -> tuple[Any, str | None]:
    """(value, None) or (None, what is wrong); the message never repeats the raw value."""
    if kind == "integer":
        try:
            return int(raw.strip()), None
        except ValueError:
            return None, "must be an integer"
    if kind == "number":
        try:
            return float(raw.strip()), None
        except ValueError:
            return None, "must be a number"
    if kind == "boolean":
        flag = parse_bool(raw)
        return (flag, None) if flag is not None else (None, "must be true or false")
    if kind in ("array", "object"):
        try:
            return json.loads(raw), None
        except ValueError:
            example = '[{"buttonText": "Yes"}]' if kind == "array" else '{"key": "value"}'
            return None, f"must be JSON, e.g. {example}"
    return raw, None


def parse_params(tool: ToolDefinition, pairs: list[str]) -> dict[str, Any]:
    """``key=value`` pairs typed by the tool's input schema (JSON for arrays and objects)."""
    props: Mapping[str, Any] = tool.input_schema["properties"]
    values: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append({"path": "", "rule": "format", "message": "--param takes key=value"})
            continue
        if key == "apiTokenInstance":
            # A token typed on the command line ends up in shell history and in `ps`.
            problems.append(
                {
                    "path": key,
                    "rule": "credential",
                    "message": "is never taken from the command line: use --token-file, "
                    "GREEN_API_TOKEN_INSTANCE or a profile",
                }
            )
            continue
        if key not in props:
            fields = ", ".join(k for k in props if k not in CREDENTIAL_FIELDS)
            problems.append(
                {
                    "path": _printable(key),
                    "rule": "additionalProperties",
                    "message": f"is not a field of this tool (fields: {fields})",
                }
            )
            continue
        value, problem = _convert(_schema_type(props[key]), raw)
        if problem:
            problems.append({"path": key, "rule": "type", "message": problem})
        else:
            values[key] = value
    if problems:
        raise InputValidationError(tool.id, problems)
    return values


def _stdin_has_data() -> bool:
    """True when stdin is a pipe or a file: a terminal or /dev/null is never read implicitly."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _read_input(tool_id: str, source: str) -> dict[str, Any]:
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        problem = {"path": "", "rule": "file", "message": f"cannot read {source}: {exc.strerror or exc}"}
        raise InputValidationError(tool_id, [problem]) from None
    if not text.strip():
        return {}
    where = "stdin" if source == "-" else source
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's message quotes nothing from the document, but keep to line and column.
        problem = {
            "path": "",
            "rule": "json",
            "message": f"{where} is not JSON (line {exc.lineno}, column {exc.colno})",
        }
        raise InputValidationError(tool_id, [problem]) from None
    if not isinstance(data, dict):
        raise InputValidationError(
            tool_id, [{"path": "", "rule": "type", "message": f"{where} must hold a JSON object"}]
        )
    return data


def settings_for(args: argparse.Namespace, ui: Ui, *, credentials: bool = True) -> Settings:
    settings = load_settings(args)
    for warning in settings.warnings:
        ui.warn(warning)
    if credentials:
        settings.require_credentials()
    return settings


def _execute(args: argparse.Namespace, ui: Ui, tool_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
    settings = settings_for(args, ui, credentials=False)
    # An --input file may carry credentials itself; the settings only have to fill the gaps.
    configured = {"idInstance": settings.id_instance.value, "apiTokenInstance": settings.api_token.value}
    if any(not inputs.get(k) and not configured[k] for k in CREDENTIAL_FIELDS):
        settings.require_credentials()
    with make_block(settings) as block, ui.spinner(f"calling Green API ({tool_id})"):
        try:
            return block.execute(tool_id, inputs)
        except KeyboardInterrupt:
            if load_tools()[tool_id].sends:
                ui.say("interrupted: the message may have been sent: look at the chat before sending again")
            raise


# -- tools, schema, manifest ----------------------------------------------------------------------


@command("tools")
def _tools(args: argparse.Namespace, ui: Ui) -> int:
    if args.format:
        from green_api_block import GreenApiBlock
        from green_api_block.config import DEFAULT_API_URL, DEFAULT_MEDIA_URL

        # No host or credentials are involved in an export: do not let a broken environment fail it.
        block = GreenApiBlock(DEFAULT_API_URL, DEFAULT_MEDIA_URL, credentials_from_env=False)
        ui.out_json(block.export_tools(args.format), pretty=not ui.json)
        return EXIT_OK
    tools = [load_tools()[t] for t in TOOL_IDS]
    if ui.json:
        ui.out_json(
            [{"id": t.id, "name": t.name, "description": t.description, "sends": t.sends} for t in tools]
        )
        return EXIT_OK
    ui.table(
        ("tool", "kind", "name", "description"),
        [(t.id, "send" if t.sends else "read", t.name, t.description) for t in tools],
    )
    return EXIT_OK


def _constraints(spec: Mapping[str, Any]) -> str:
    parts: list[str] = []
    lo, hi = spec.get("minLength"), spec.get("maxLength")
    if lo is not None or hi is not None:
        parts.append(f"{lo or 0}..{hi if hi is not None else ''} chars")
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if lo is not None or hi is not None:
        parts.append(f"{lo if lo is not None else ''}..{hi if hi is not None else ''}")
    lo, hi = spec.get("minItems"), spec.get("maxItems")
    if lo is not None or hi is not None:
        parts.append(f"{lo or 0}..{hi if hi is not None else ''} items")
    if "enum" in spec:
        parts.append("|".join(map(str, spec["enum"])))
    if "default" in spec:
        parts.append(f"default {json.dumps(spec['default'])}")
    return ", ".join(parts)


def _field_rows(schema: Mapping[str, Any], *, inputs: bool) -> list[tuple[str, str, str, str]]:
    required = set(schema.get("required", []))
    rows = []
    for name, spec in schema.get("properties", {}).items():
        if spec.get("x-credential"):
            flags = "credential (flags, env or profile)"
        elif inputs:
            flags = "required" if name in required else "optional"
        else:
            flags = "always" if name in required else ""
        detail = ", ".join(p for p in (flags, _constraints(spec)) if p)
        rows.append((name, _schema_type(spec), detail, spec.get("description", "")))
    return rows


@command("schema")
def _schema(args: argparse.Namespace, ui: Ui) -> int:
    tool_id = resolve_tool(args.tool)
    tool = load_tools()[tool_id]
    if ui.json:
        ui.out_json({"id": tool.id, "input": tool.input_schema, "output": tool.output_schema})
        return EXIT_OK
    ui.out(f"{ui.paint(tool.id, 'bold')}  {tool.name}")
    ui.out(tool.description)
    for title, schema, inputs in (
        ("input", tool.input_schema, True),
        ("output", tool.output_schema, False),
    ):
        ui.out("")
        ui.out(ui.paint(title, "bold"))
        rows = _field_rows(schema, inputs=inputs)
        width = max(len(r[0]) for r in rows)
        for name, kind, detail, description in rows:
            ui.out(f"  {ui.paint(name.ljust(width), 'cyan')}  {kind}{'  ' + detail if detail else ''}")
            if description:
                ui.out(f"  {' ' * width}  {ui.paint(description, 'dim')}")
    ui.out("")
    ui.out(ui.paint(f"full JSON Schemas: green-api-block schema {tool.id} --json", "dim"))
    return EXIT_OK


@command("manifest")
def _manifest(args: argparse.Namespace, ui: Ui) -> int:
    from green_api_block.manifest import build_manifest, render_manifest

    if ui.json:
        ui.out_json(build_manifest())
    else:
        ui.out(render_manifest().rstrip("\n"))
    return EXIT_OK


# -- run and its shortcuts --------------------------------------------------------------------


@command("run")
def _run(args: argparse.Namespace, ui: Ui) -> int:
    tool_id = resolve_tool(args.tool)
    args.tool_id = tool_id
    tool = load_tools()[tool_id]
    inputs: dict[str, Any] = {}
    if args.input:
        inputs.update(_read_input(tool_id, args.input))
    elif not args.params and _stdin_has_data():
        inputs.update(_read_input(tool_id, "-"))
    inputs.update(parse_params(tool, args.params))
    output = _execute(args, ui, tool_id, inputs)
    ui.out_json(output, pretty=not ui.json)
    return EXIT_OK


@command("state")
def _state(args: argparse.Namespace, ui: Ui) -> int:
    output = _execute(args, ui, "green_api_get_state_instance", {})
    if ui.json:
        ui.out_json(output)
        return EXIT_OK
    state = str(output.get("stateInstance"))
    color, meaning = _STATE_MEANING.get(state, ("yellow", "a state this tool does not know"))
    ui.out(f"{ui.paint(state, color, 'bold')}  {meaning}")
    return EXIT_OK


def _sent(ui: Ui, output: Mapping[str, Any], to: str) -> int:
    # Imported here: validation pulls in jsonschema and pydantic, which most commands never need.
    from green_api_block.validation import normalize_chat_id

    if ui.json:
        ui.out_json(output)
        return EXIT_OK
    chat_id = normalize_chat_id(to)  # the chat the block sent to, not the phone number as typed
    ui.out(f"{ui.paint('accepted', 'green', 'bold')}  {chat_id}  idMessage {output.get('idMessage')}")
    ui.note("queued by Green API; delivery statuses arrive as notifications (green-api-block watch)")
    return EXIT_OK


@command("send")
def _send(args: argparse.Namespace, ui: Ui) -> int:
    text = sys.stdin.read().rstrip("\n") if args.text == "-" else args.text
    inputs = {"chatId": args.to, "message": text}
    output = _execute(args, ui, "green_api_send_message", inputs)
    return _sent(ui, output, args.to)


def _file_name_from_url(url: str) -> str | None:
    try:
        name = PurePosixPath(unquote(urlsplit(url).path)).name
    except ValueError:
        return None
    return name if "." in name.strip(".") else None


@command("send-file")
def _send_file(args: argparse.Namespace, ui: Ui) -> int:
    file_name = args.file_name or _file_name_from_url(args.url)
    if not file_name:
        problem = {
            "path": "fileName",
            "rule": "required",
            "message": "the URL does not end in a file name with an extension: pass --file-name NAME.EXT "
            "(the extension decides how WhatsApp shows the file)",
        }
        raise InputValidationError("green_api_send_file", [problem])
    inputs: dict[str, Any] = {"chatId": args.to, "urlFile": args.url, "fileName": file_name}
    if args.caption:
        inputs["caption"] = args.caption
    output = _execute(args, ui, "green_api_send_file", inputs)
    return _sent(ui, output, args.to)


# -- config ---------------------------------------------------------------------------------------


@command("config show")
def _config_show(args: argparse.Namespace, ui: Ui) -> int:
    settings = settings_for(args, ui, credentials=False)
    data = settings.public()
    if ui.json:
        ui.out_json(data)
        return EXIT_OK
    found = "" if settings.config_exists else ui.paint("  (not found)", "dim")
    profile = settings.profile or ui.paint("(none)", "dim")
    rows = [
        ("config file", f"{settings.config_file}{found}", ""),
        ("profile", profile, ""),
    ]
    for label, key in (
        ("api_url", "apiUrl"),
        ("media_url", "mediaUrl"),
        ("id_instance", "idInstance"),
        ("api_token", "apiTokenInstance"),
    ):
        value = data[key]["value"]
        shown = str(value) if value else ui.paint("(unset)", "yellow")
        rows.append((label, shown, data[key]["source"]))
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows[2:])
    for label, value, source in rows:
        tail = f"  {ui.paint(source, 'dim')}" if source else ""
        ui.out(f"{label.ljust(width)}  {value.ljust(value_width) if source else value}{tail}".rstrip())
    return EXIT_OK


@command("config path")
def _config_path(args: argparse.Namespace, ui: Ui) -> int:
    from .settings import config_path

    path = config_path()
    if ui.json:
        ui.out_json({"configFile": str(path), "exists": path.exists()})
    else:
        ui.out(str(path))
    return EXIT_OK


def _config_help(parser: argparse.ArgumentParser) -> Any:
    def show_help(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return show_help


# -- registration ---------------------------------------------------------------------------------


def _add(
    subparsers: SubParsers, name: str, help_text: str, description: str | None = None
) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name,
        help=help_text,
        description=description or help_text,
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
        parents=common_parents(),
    )


def register(subparsers: SubParsers) -> None:
    p = _add(subparsers, "tools", "list the block's five tools")
    p.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        help="print the tools as an LLM ecosystem expects them (JSON), without credential fields",
    )
    p.set_defaults(func=_tools)

    p = _add(subparsers, "schema", "show a tool's input and output fields (--json: the JSON Schemas)")
    p.add_argument("tool", metavar="TOOL", help="tool id, e.g. green_api_send_message or send_message")
    p.set_defaults(func=_schema)

    p = _add(subparsers, "manifest", "print manifest.json, what a visual builder draws the block from")
    p.set_defaults(func=_manifest)

    p = _add(
        subparsers,
        "run",
        "run any tool with inputs from --param, --input or stdin",
        "Run a tool and print its output (pretty JSON; --json: one line). Inputs come from "
        "--input FILE (or - for stdin), then --param key=value pairs typed by the tool's schema "
        "(JSON for arrays and objects); a JSON object piped on stdin is read when neither is "
        "given. Credentials come from the connection options, never from --param.",
    )
    p.add_argument("tool", metavar="TOOL", help="tool id, e.g. green_api_send_buttons or send_buttons")
    p.add_argument(
        "-p",
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help='one input field, e.g. -p chatId=79001234567@c.us -p \'buttons=[{"buttonText": "Yes"}]\'',
    )
    p.add_argument("-i", "--input", metavar="FILE", help="a JSON object with the inputs ('-' for stdin)")
    p.set_defaults(func=_run)

    p = _add(subparsers, "state", "check the instance's authorization state (getStateInstance)")
    p.set_defaults(func=_state)

    p = _add(
        subparsers,
        "send",
        "send a text message",
        "Send a text message (sendMessage). TEXT '-' reads it from stdin.",
    )
    p.add_argument("text", metavar="TEXT", help="the message (1..20000 characters), or - for stdin")
    p.add_argument(
        "--to", required=True, metavar="CHAT", help="chat id (79001234567@c.us, ...@g.us) or a phone number"
    )
    p.set_defaults(func=_send)

    p = _add(
        subparsers,
        "send-file",
        "send a file by URL",
        "Send a file Green API downloads from URL (sendFileByUrl). The file name, taken from the URL "
        "unless --file-name is given, must carry an extension: it decides how the file is shown.",
    )
    p.add_argument("url", metavar="URL", help="a direct http(s) link to the file")
    p.add_argument(
        "--to", required=True, metavar="CHAT", help="chat id (79001234567@c.us, ...@g.us) or a phone number"
    )
    p.add_argument("--file-name", metavar="NAME", help="file name with extension (default: from the URL)")
    p.add_argument("--caption", metavar="TEXT", help="caption (shown for images and videos, ≤ 1024 chars)")
    p.set_defaults(func=_send_file)

    config = subparsers.add_parser(
        "config",
        help="show the effective settings (config show) or the config file's path (config path)",
        description="Settings come from flags, then the environment, then a profile of the config "
        "file (TOML, [profiles.NAME] tables with api_url, media_url, id_instance and token_file or "
        "api_token).",
        epilog=EXIT_CODES_HELP,
        formatter_class=HelpFormatter,
    )
    config.set_defaults(func=_config_help(config))
    actions = config.add_subparsers(dest="config_command", metavar="ACTION")
    p = _add(actions, "show", "print the effective settings and where each comes from (token masked)")
    p.set_defaults(func=_config_show)
    p = _add(actions, "path", "print the config file's path")
    p.set_defaults(func=_config_path)
