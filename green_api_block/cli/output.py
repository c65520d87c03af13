"""How the command line talks: human or JSON output, one-line errors, exit codes, a spinner.

Everything written to stdout or stderr goes through :func:`green_api_block.redact.redact`, so a
registered token cannot leak through an error message, a traceback or an echoed input. Colour
only on a terminal and never with ``NO_COLOR``; the spinner only when stderr is a terminal.

Colour, tables and the spinner are drawn by ``rich``, imported only once something is drawn on a
terminal: it costs tens of milliseconds, which JSON, piped output and the library never pay.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TextIO

from green_api_block.errors import ConfigError, GreenApiError, InputValidationError, UnknownToolError
from green_api_block.redact import RedactingFilter, redact

from .settings import connection_options

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_CONFIG",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_RATE_LIMIT",
    "EXIT_TRANSPORT",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "HelpFormatter",
    "Ui",
    "command",
    "common_parents",
    "error_payload",
    "exit_code_for",
    "output_options",
    "sanitize",
]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_RATE_LIMIT = 4
EXIT_TRANSPORT = 5
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    unexpected error (rerun with --debug for the traceback)
  2    usage or input error: bad option, tool input that breaks the schema, Green API 400
  3    auth or configuration: 401, 403, 404, instance not authorized, missing or bad settings
  4    rate limit (429) or the plan's quota (466)
  5    transport: timeout, no connection, server error, a send whose outcome is unknown
  130  interrupted (Ctrl-C); `watch` stopped by SIGTERM exits 143"""

_EXIT_BY_CODE = {
    "invalid_input": EXIT_USAGE,
    "bad_request": EXIT_USAGE,
    "unauthorized": EXIT_CONFIG,
    "forbidden": EXIT_CONFIG,
    "instance_not_authorized": EXIT_CONFIG,
    "not_found": EXIT_CONFIG,
    "rate_limited": EXIT_RATE_LIMIT,
    "quota_exceeded": EXIT_RATE_LIMIT,
    "timeout": EXIT_TRANSPORT,
    "transport_error": EXIT_TRANSPORT,
    "server_error": EXIT_TRANSPORT,
    "outcome_unknown": EXIT_TRANSPORT,
    "bad_response": EXIT_TRANSPORT,
}

_CHECK_SEND = "the message may have been sent: look at the chat before sending again"
_HINTS = {
    "bad_request": "check the input (`green-api-block schema TOOL` lists the fields)",
    "unauthorized": "check the token (--token-file, GREEN_API_TOKEN_INSTANCE or the profile; "
    "`green-api-block config show` says which one is used)",
    "forbidden": "check --id-instance and --api-url against the instance's page in the console",
    "instance_not_authorized": "link WhatsApp to the instance in the console; "
    "`green-api-block state` then says authorized",
    "not_found": "check --api-url: use the apiUrl the console shows for this instance",
    "rate_limited": "slow down and retry in a moment",
    "quota_exceeded": "upgrade the plan or wait for the monthly reset",
    "timeout": "check --api-url and the network, then retry",
    "transport_error": "check --api-url and the network, then retry",
    "server_error": "retry in a moment",
    "outcome_unknown": _CHECK_SEND,
    "bad_response": "check that --api-url is the instance's apiUrl, not a proxy or a web page",
}


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, InputValidationError):
        return EXIT_USAGE
    if isinstance(exc, ConfigError):
        return EXIT_CONFIG
    if isinstance(exc, GreenApiError):
        return _EXIT_BY_CODE.get(exc.code, EXIT_TRANSPORT if exc.retryable else EXIT_UNEXPECTED)
    return EXIT_UNEXPECTED


def _hint(exc: BaseException, tool: str | None) -> str:
    if isinstance(exc, UnknownToolError):
        return "`green-api-block tools` lists them"
    if isinstance(exc, InputValidationError):
        target = exc.tool or tool
        return f"`green-api-block schema {target or 'TOOL'}` lists the fields and their rules"
    if isinstance(exc, ConfigError):
        hint = getattr(exc, "hint", None)
        return (
            hint if isinstance(hint, str) else "`green-api-block config show` prints the effective settings"
        )
    if isinstance(exc, GreenApiError):
        if exc.outcome_unknown:
            return _CHECK_SEND
        if exc.code == "rate_limited" and exc.retry_after is not None:
            return f"wait {exc.retry_after:g} s and retry"
        if exc.code == "instance_not_authorized" and exc.retryable:
            return "the instance is starting: retry in a few seconds"
        return _HINTS.get(exc.code, "retry later")
    return "rerun with --debug for the traceback, and report it"


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The ``error`` part of ``{"ok": false, "error": ...}``, same shape as the block's envelopes."""
    if isinstance(exc, InputValidationError | GreenApiError):
        return exc.to_dict()
    if isinstance(exc, ConfigError):
        return {"code": "config_error", "message": str(exc), "retryable": False}
    return {"code": "unexpected_error", "message": f"{type(exc).__name__}: {exc}", "retryable": False}


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL.update({ord("\n"): "⏎", ord("\t"): " ", ord("\r"): ""})


def sanitize(text: str) -> str:
    """One line of text safe for a terminal: no newlines, no escape sequences from the wire."""
    return text.translate(_CONTROL)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _color_allowed(stream: TextIO) -> bool:
    return _is_tty(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


class HelpFormatter(argparse.HelpFormatter):
    """argparse's wrapping for descriptions, but the exit-code table printed as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("exit codes:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def output_options(*, suppress: bool = False) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS if suppress else None)
    group = parent.add_argument_group("output")
    group.add_argument("--json", action="store_true", help="machine-readable JSON on stdout (errors too)")
    group.add_argument(
        "--debug", action="store_true", help="log HTTP traffic and show tracebacks (tokens masked)"
    )
    return parent


def common_parents(*, top_level: bool = False) -> list[argparse.ArgumentParser]:
    """The output and connection options, for the main parser and for every sub-command.

    Both places take them (``green-api-block --json state`` and ``green-api-block state --json``
    alike); a sub-command's copies default to "not given", so that they never overwrite what was
    given before the sub-command's name.
    """
    return [output_options(suppress=not top_level), connection_options(suppress=not top_level)]


def _console(stream: TextIO, *, colour: bool) -> Console:
    from rich.console import Console

    tty = _is_tty(stream)
    return Console(
        file=stream,
        # Our own test, not rich's: FORCE_COLOR or TTY_COMPATIBLE must not turn a pipe into a
        # terminal, since scripts parse what goes down it.
        force_terminal=tty,
        force_interactive=None if tty else False,
        color_system="auto" if colour else None,
        # Chat text and descriptions are data: no markup, emoji codes or highlighting in them.
        markup=False,
        emoji=False,
        highlight=False,
    )


class _Spinner:
    """rich's spinner with the seconds waited, shown after ``delay`` and kept off other output."""

    def __init__(self, console: Console, message: str, delay: float) -> None:
        from rich.spinner import Spinner

        self._console = console
        self._message = message
        # The braille frames only where the stream can encode them.
        self._spinner = Spinner("dots" if console.encoding.startswith("utf") else "line")
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._live: Live | None = None
        self._stopped = False
        self._timer = threading.Timer(delay, self._show)  # quick calls never flash a spinner
        self._timer.daemon = True

    def _frame(self) -> RenderableType:
        self._spinner.update(text=f"{self._message} {time.monotonic() - self._started:.0f}s")
        return self._spinner

    def _start_live(self) -> None:
        from rich.live import Live

        # A fresh Live each time: a stopped one would reposition by its last frame's height.
        self._live = Live(
            get_renderable=self._frame,
            console=self._console,
            transient=True,
            refresh_per_second=12.5,  # the frame rate of rich's "dots"
            # rich would send our stdout to its stderr console; held() keeps the two apart instead.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start(refresh=True)

    def _show(self) -> None:
        with self._lock:
            if not self._stopped:
                self._start_live()

    def _hide(self) -> bool:
        live, self._live = self._live, None
        if live is None:
            return False
        live.stop()
        return True

    def start(self) -> None:
        self._timer.start()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Take the spinner off its line while other output is written, then put it back.

        The elapsed time restarts from here: in ``watch`` it counts since the last notification.
        """
        with self._lock:
            shown = self._hide()
            try:
                yield
            finally:
                self._started = time.monotonic()
                if shown and not self._stopped:
                    self._start_live()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._timer.cancel()
            self._hide()


class Ui:
    """One command's output: stdout for results, stderr for people (notes, warnings, errors)."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        debug: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.json = json_mode
        self.debug = debug
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.color_out = _color_allowed(self.stdout)
        self.color_err = _color_allowed(self.stderr)
        self.interactive = _is_tty(self.stderr) and os.environ.get("TERM") != "dumb"
        self.stdout_tty = _is_tty(self.stdout)
        self._spinner: _Spinner | None = None

    @functools.cached_property
    def _out_console(self) -> Console:
        return _console(self.stdout, colour=self.color_out)

    @functools.cached_property
    def _err_console(self) -> Console:
        return _console(self.stderr, colour=self.color_err)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Ui:
        return cls(json_mode=bool(getattr(args, "json", False)), debug=bool(getattr(args, "debug", False)))

    # -- writing ------------------------------------------------------------------------------

    def paint(self, text: str, *styles: str, err: bool = False) -> str:
        """``text`` in rich's ``styles`` ("bold", "red"...) as escape codes, or as is off a terminal."""
        if not (self.color_err if err else self.color_out) or not styles:
            return text
        from rich.console import COLOR_SYSTEMS
        from rich.style import Style

        console = self._err_console if err else self._out_console
        if console.color_system is None:  # e.g. TERM=unknown
            return text
        # Style.render, not console.print: a print on stderr would carry the live spinner with it.
        return Style.parse(" ".join(styles)).render(text, color_system=COLOR_SYSTEMS[console.color_system])

    def _write(self, stream: TextIO, text: str) -> None:
        spinner = self._spinner
        if spinner is None:
            stream.write(redact(text) + "\n")
            stream.flush()
            return
        with spinner.held():
            stream.write(redact(text) + "\n")
            stream.flush()

    def out(self, text: str = "") -> None:
        """A result line on stdout, flushed at once (watch deletes only what was written out)."""
        self._write(self.stdout, text)

    def out_json(self, data: Any, *, pretty: bool = False) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=2 if pretty else None)
        self._write(self.stdout, text)

    def note(self, text: str) -> None:
        """Information for a person on stderr: only when stderr is a terminal."""
        if self.interactive:
            self._write(self.stderr, self.paint(text, "dim", err=True))

    def say(self, text: str) -> None:
        """A message on stderr that matters even to a script (e.g. what an interrupt left behind)."""
        self._write(self.stderr, text)

    def warn(self, text: str) -> None:
        self._write(self.stderr, f"{self.paint('warning:', 'yellow', 'bold', err=True)} {text}")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Aligned columns on a terminal (last column cut to its width); tab-separated otherwise."""
        if not self.stdout_tty:
            for row in rows:
                self.out("\t".join(sanitize(c) for c in row))
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, header_style="bold")
        for i, header in enumerate(headers):
            last = i == len(headers) - 1
            # Only the last column gives way to a narrow terminal; the others are what people copy.
            table.add_column(header.upper(), no_wrap=not last, min_width=20 if last else None)
        for row in rows:
            # Masked before rich cuts the cell, so that no prefix of a token survives the cut.
            cells = [Text(redact(sanitize(c)), no_wrap=True, overflow="ellipsis") for c in row]
            table.add_row(*cells)
        console = self._out_console
        with console.capture() as capture:
            console.print(table)
        self.out("\n".join(line.rstrip() for line in capture.get().splitlines()))

    # -- waiting ------------------------------------------------------------------------------

    @contextmanager
    def spinner(self, message: str, *, delay: float = 0.3) -> Iterator[None]:
        """Show ``message`` with a spinner on stderr while the block runs, if stderr is a terminal."""
        if not self.interactive or self._spinner is not None:
            yield
            return
        spinner = _Spinner(self._err_console, message, delay)
        self._spinner = spinner
        spinner.start()
        try:
            yield
        finally:
            self._spinner = None
            spinner.stop()

    # -- failing ------------------------------------------------------------------------------

    def fail(self, exc: BaseException, what: str, *, tool: str | None = None) -> int:
        """Report ``exc`` as one line on stderr (and a JSON error on stdout with --json)."""
        code = exit_code_for(exc)
        if self.debug:
            trace = "".join(traceback.format_exception(exc))
            self._write(self.stderr, trace.rstrip())
        if isinstance(exc, GreenApiError | InputValidationError | ConfigError):
            why = str(exc)
            if isinstance(exc, InputValidationError) and exc.tool and why.startswith(f"{exc.tool}: "):
                why = why[len(exc.tool) + 2 :]  # the hint names the tool already
        else:
            why = f"unexpected {type(exc).__name__}: {exc}"
        line = f"{self.paint('error:', 'red', 'bold', err=True)} {what}: {sanitize(why)} — {_hint(exc, tool)}"
        self._write(self.stderr, line)
        if self.json:
            self.out_json({"ok": False, "error": error_payload(exc)})
        return code


@contextmanager
def _debug_logging(stream: TextIO) -> Iterator[None]:
    """Every logger at DEBUG to ``stream`` for one command; undone after it, so that ``main()``
    called repeatedly in one process (tests, a host embedding the CLI) does not stack handlers."""
    handler = logging.StreamHandler(stream)
    # On the handler as well: a logger's filter does not see records of its child loggers.
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _silence_stdout() -> None:
    # The reader went away (`| head`): point stdout at /dev/null so the interpreter's final flush
    # does not raise again on the way out.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


Handler = Callable[[argparse.Namespace, Ui], int]


def command(what: str) -> Callable[[Handler], Callable[[argparse.Namespace], int]]:
    """Turn ``handler(args, ui) -> int`` into an argparse ``func`` with the CLI's error handling."""

    def decorate(handler: Handler) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(handler)
        def run(args: argparse.Namespace) -> int:
            ui = Ui.from_args(args)
            try:
                with _debug_logging(ui.stderr) if ui.debug else nullcontext():
                    return handler(args, ui)
            except KeyboardInterrupt:
                ui.note("interrupted")
                return EXIT_INTERRUPTED
            except BrokenPipeError:
                _silence_stdout()
                return 128 + 13
            except Exception as exc:
                # Handlers set tool_id once they have resolved the tool name.
                tool = getattr(args, "tool_id", None)
                return ui.fail(exc, f"{what} {tool}" if tool else what, tool=tool)

        return run

    return decorate
