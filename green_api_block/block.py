"""GreenApiBlock: the block as a workflow engine uses it.

``execute``/``aexecute`` run a tool: validate (before any I/O) -> the tool's plan yields API calls ->
the session sends them -> the plan maps the answers to the tool's output.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import ssl
import threading
import time
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .config import (
    ENV_ID_INSTANCE,
    ENV_TOKEN_INSTANCE,
    Hosts,
    RetryPolicy,
    Timeouts,
    check_async_transport,
    check_rate_limits,
    check_retry,
    check_transport,
    coerce_timeouts,
)
from .contract import TOOL_IDS, ToolDefinition, load_tools
from .errors import ConfigError, GreenApiError, InputValidationError, UnknownToolError
from .http import AsyncSession, AsyncTransportName, Credentials, SyncSession
from .network import resolve_network
from .ratelimit import RateLimiter
from .redact import in_flight, install_log_filter, register_secret

if TYPE_CHECKING:
    import asyncio

    from .tools import ApiCall, Plan

__all__ = ["GreenApiBlock"]

T = TypeVar("T")


class _Runtime:
    """What running a tool needs, imported on first use rather than with the package.

    The tool plans import the pydantic models and validation imports jsonschema: together about
    200 ms, which kept ``import green_api_block`` above twice ``import httpx`` (see bench/).
    """

    def __init__(self) -> None:
        from .operations import delete_notification, find_sent, get_settings, set_settings
        from .tools import SPECS
        from .tools.base import CallerGone
        from .validation import credential_errors, validate_input

        self.credential_errors = credential_errors
        self.delete_notification = delete_notification
        self.find_sent = find_sent
        self.get_settings = get_settings
        self.set_settings = set_settings
        self.specs = SPECS
        self.caller_gone = CallerGone
        self.validate_input = validate_input


@functools.cache
def _rt() -> _Runtime:
    return _Runtime()


class GreenApiBlock:
    """The Green API block: five tools, run synchronously or asynchronously.

    ``api_url``/``media_url`` default to the environment (``GREEN_API_URL``,
    ``GREEN_API_MEDIA_URL``), then to Green API's default hosts; use the apiUrl and mediaUrl
    the console shows for your instance. ``id_instance``/``api_token`` bind credentials (else
    ``GREEN_API_ID_INSTANCE``/``GREEN_API_TOKEN_INSTANCE`` when ``credentials_from_env``), so tool
    inputs may leave them out: that is how a host keeps them away from an LLM. Input may repeat a
    bound credential but never change it (``InputValidationError``, before any request).

    ``timeout``/``timeouts`` (one setting): seconds for every limit as in httpx, an
    ``httpx.Timeout`` or a :class:`Timeouts`. Every argument is checked here: a wrong type raises
    ``TypeError``, a wrong value ``ConfigError``, naming the argument.

    ``rate_limits`` spaces calls per instance and method so that bursts do not meet 429:
    True (default) uses Green API's published limits, a mapping sets requests/s per method,
    False turns the limiter off.

    ``proxy`` (``"http://user:pass@proxy:3128"``, ``https://``, ``socks5://``) carries every call;
    without it the block goes where ``httpx.get`` would: ``HTTPS_PROXY``/``HTTP_PROXY``/
    ``ALL_PROXY`` and ``NO_PROXY`` from the environment, on the sync and the async path alike.
    ``verify`` is the CA bundle (a path) or ``ssl.SSLContext`` both paths trust for TLS.
    """

    type = "green_api"

    def __init__(
        self,
        api_url: str | None = None,
        media_url: str | None = None,
        *,
        id_instance: str | int | None = None,
        api_token: str | None = None,
        credentials_from_env: bool = True,
        timeout: float | httpx.Timeout | Timeouts | None = None,
        timeouts: float | httpx.Timeout | Timeouts | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | AsyncTransportName = "aiohttp",
        rate_limits: Mapping[str, float] | bool = True,
        proxy: str | None = None,
        verify: str | os.PathLike[str] | ssl.SSLContext | None = None,
    ) -> None:
        # Every argument is checked here, so that a wrong one fails at construction, naming
        # itself, rather than at the first call (or the first long poll, or the first 5xx).
        self.hosts = Hosts.resolve(api_url, media_url)
        self._bound = self._bind_credentials(id_instance, api_token, credentials_from_env)
        if timeout is not None and timeouts is not None:
            raise TypeError("pass timeout= or timeouts= (the same setting), not both")
        self.timeouts = coerce_timeouts(
            timeouts if timeout is None else timeout, "timeout" if timeout is not None else "timeouts"
        )
        self.retry = check_retry(retry)
        self._transport = check_transport(transport)
        rates = check_rate_limits(rate_limits)
        self._async_transport = check_async_transport(async_transport)
        # Resolved now, so that a proxy a path cannot use fails here and not at the first call.
        self._network = resolve_network(
            proxy,
            self.hosts.api_url,
            self.hosts.media_url,
            verify=verify,
            sync_httpx=self._transport is None,
            async_path=self._async_transport if isinstance(self._async_transport, str) else None,
        )
        # One limiter for both clients: the server counts an instance's calls, however they are made.
        self.rate_limiter: RateLimiter | None = (
            None if rates is False else RateLimiter(None if rates is True else rates)
        )
        self._sync: SyncSession | None = None
        self._async: AsyncSession | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._definitions = load_tools()
        # Notifications a get_notifications call had received (and maybe deleted) when its caller
        # stopped waiting; the next call for the instance hands them over first.
        self._held: dict[str, list[dict[str, Any]]] = {}
        self._held_lock = threading.Lock()
        install_log_filter()

    def _bind_credentials(self, id_instance: object, api_token: object, from_env: bool) -> dict[str, str]:
        """The bound credentials, judged by the rules tool input meets (the contract's schema)."""
        # Messages name what the caller set: the argument, or the environment variable it came from.
        names = {"idInstance": "id_instance", "apiTokenInstance": "api_token"}
        if from_env:
            if id_instance is None and os.environ.get(ENV_ID_INSTANCE) is not None:
                id_instance = os.environ[ENV_ID_INSTANCE]
                names["idInstance"] = f"env {ENV_ID_INSTANCE}"
            if api_token is None and os.environ.get(ENV_TOKEN_INSTANCE) is not None:
                api_token = os.environ[ENV_TOKEN_INSTANCE]
                names["apiTokenInstance"] = f"env {ENV_TOKEN_INSTANCE}"
        if isinstance(id_instance, bool) or not isinstance(id_instance, (str, int, type(None))):
            raise TypeError(f"id_instance must be a str or an int, not {type(id_instance).__name__}")
        if not isinstance(api_token, (str, type(None))):
            raise TypeError(f"api_token must be a str, not {type(api_token).__name__}")
        bound: dict[str, str] = {}
        if id_instance not in (None, ""):
            bound["idInstance"] = str(id_instance)
        if api_token:
            # Registered before it is judged: no message about it may ever show it.
            register_secret(api_token)
            bound["apiTokenInstance"] = api_token
        if bound:
            # The tool whose input is the credentials alone: its schema holds their rules.
            definition = load_tools()["green_api_get_state_instance"]
            problems = _rt().credential_errors(definition, bound)
            if problems:
                raise ConfigError(
                    "; ".join(f"{names.get(p['path'], p['path'])}: {p['message']}" for p in problems)
                )
        return bound

    def __repr__(self) -> str:
        bound = "bound" if self._bound.get("apiTokenInstance") else "unbound"
        return f"GreenApiBlock(api_url={self.hosts.api_url!r}, credentials={bound})"

    # -- the declaration ------------------------------------------------------------------------

    @property
    def tools(self) -> tuple[ToolDefinition, ...]:
        """The five tool definitions (fresh copies: a host may change them freely)."""
        return tuple(copy.deepcopy(self._definitions[t]) for t in TOOL_IDS)

    def tool(self, tool_id: str) -> ToolDefinition:
        return copy.deepcopy(self._definition(tool_id))

    @property
    def bound_credentials(self) -> bool:
        """True when idInstance and apiTokenInstance are bound, so inputs may leave them out."""
        return "idInstance" in self._bound and "apiTokenInstance" in self._bound

    def _definition(self, tool_id: str) -> ToolDefinition:
        try:
            return self._definitions[tool_id]
        except (KeyError, TypeError):
            raise UnknownToolError(
                None,
                [
                    {
                        "path": "tool",
                        "rule": "enum",
                        "message": f"unknown tool; use one of: {', '.join(TOOL_IDS)}",
                    }
                ],
            ) from None

    # -- running ----------------------------------------------------------------------------------

    def _prepare(self, tool_id: str, args: Mapping[str, Any]) -> tuple[Plan, Credentials, Any]:
        definition = self._definition(tool_id)
        rt = _rt()
        spec = rt.specs[tool_id]
        model = rt.validate_input(definition, spec.model, args, self._bound)
        token = model.apiTokenInstance.get_secret_value()
        return spec.plan(model), Credentials(model.idInstance, token), model

    def _salvage(self, plan: Generator[ApiCall, Any, Any], creds: Credentials) -> None:
        """The caller stopped waiting mid-plan: keep what the plan cannot undo for the next call."""
        try:
            plan.throw(_rt().caller_gone())
        except StopIteration as done:
            out = done.value
            held = out.get("notifications") if isinstance(out, dict) else None
            if held:
                with self._held_lock:
                    self._held.setdefault(creds.id_instance, []).extend(held)
        except Exception:  # CallerGone itself: the plan had nothing to keep
            pass
        finally:
            plan.close()

    def _take_held(self, tool_id: str, plan: Plan, creds: Credentials, model: Any) -> dict[str, Any] | None:
        """What a cut-short get_notifications call left for this instance, as this call's output."""
        if tool_id != "green_api_get_notifications" or not self._held:
            return None
        with self._held_lock:
            held = self._held.pop(creds.id_instance, [])
            items, rest = held[: model.maxNotifications], held[model.maxNotifications :]
            if rest:
                self._held[creds.id_instance] = rest
        if not items:
            return None
        plan.close()
        return {"notifications": items, "receiptId": items[-1]["receiptId"]}

    def _run(self, plan: Generator[ApiCall, Any, T], creds: Credentials, tool: str | None = None) -> T:
        session = self._sync_session()
        # An unbound token is masked while its call runs (an error body may echo it), not kept
        # for the life of the process: a host may pass thousands of tenants' tokens.
        with in_flight(creds.token):
            try:
                call = next(plan)
                while True:
                    try:
                        body = session.call(creds, call, tool)
                    except GreenApiError as exc:
                        call = plan.throw(exc)
                    except BaseException:
                        self._salvage(plan, creds)
                        raise
                    else:
                        call = plan.send(body)
            except StopIteration as done:
                result: T = done.value
                return result

    async def _arun(self, plan: Generator[ApiCall, Any, T], creds: Credentials, tool: str | None = None) -> T:
        session = self._async_session()
        with in_flight(creds.token):  # as in _run
            try:
                call = next(plan)
                while True:
                    try:
                        body = await session.call(creds, call, tool)
                    except GreenApiError as exc:
                        call = plan.throw(exc)
                    except BaseException:  # cancelled (a host's deadline), interrupted
                        self._salvage(plan, creds)
                        raise
                    else:
                        call = plan.send(body)
            except StopIteration as done:
                result: T = done.value
                return result

    def execute(self, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Run a tool and return its output; raises InputValidationError or GreenApiError."""
        plan, creds, model = self._prepare(tool_id, args)
        held = self._take_held(tool_id, plan, creds, model)
        if held is not None:
            return held
        return self._run(plan, creds, tool_id)

    async def aexecute(self, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Async twin of :meth:`execute`."""
        plan, creds, model = self._prepare(tool_id, args)
        held = self._take_held(tool_id, plan, creds, model)
        if held is not None:
            return held
        del model  # not needed while the call is awaited (held long polls add up)
        return await self._arun(plan, creds, tool_id)

    def _credentials(self, id_instance: str | int | None, api_token: str | None) -> Credentials:
        args: dict[str, Any] = {"idInstance": id_instance, "apiTokenInstance": api_token}
        definition = self._definition("green_api_get_state_instance")
        rt = _rt()
        model = rt.validate_input(definition, rt.specs[definition.id].model, args, self._bound)
        return Credentials(model.idInstance, model.apiTokenInstance.get_secret_value())

    # -- beyond the five tools: what their guarantees rely on ---------------------------------

    def delete_notification(
        self, receipt_id: int, *, id_instance: str | int | None = None, api_token: str | None = None
    ) -> bool:
        """Delete one received notification; False means it was already gone (not an error)."""
        plan = _rt().delete_notification(receipt_id)
        return self._run(plan, self._credentials(id_instance, api_token))

    async def adelete_notification(
        self, receipt_id: int, *, id_instance: str | int | None = None, api_token: str | None = None
    ) -> bool:
        """Async twin of :meth:`delete_notification`."""
        plan = _rt().delete_notification(receipt_id)
        return await self._arun(plan, self._credentials(id_instance, api_token))

    def _find_sent_plan(
        self,
        chat_id: str | None,
        message: str | None,
        id_message: str | None,
        minutes: int | None,
        tool: str | None,
        args: Mapping[str, Any] | None,
        since: float | None,
        id_instance: str | int | None,
        api_token: str | None,
    ) -> tuple[Generator[ApiCall, Any, dict[str, Any] | None], Credentials]:
        if minutes is None:
            # Enough to reach back to ``since`` (plus the minute it falls in), else the last hour.
            span = 60 if since is None else math.ceil(max(0.0, time.time() - since) / 60) + 1
            minutes = min(max(span, 1), 10080)
        if tool is None:
            if args is not None:
                raise TypeError("find_sent: args= goes with tool=")
            if chat_id is None:
                raise TypeError("find_sent needs a chat_id, or tool= and args=")
            plan = _rt().find_sent(
                chat_id, message=message, id_message=id_message, minutes=minutes, since=since
            )
            return plan, self._credentials(id_instance, api_token)
        if chat_id is not None or message is not None:
            raise TypeError("find_sent: tool= takes the chat and the payload from args=")
        given = dict(args or {})
        if id_instance is not None:
            given["idInstance"] = id_instance
        if api_token is not None:
            given["apiTokenInstance"] = api_token
        # The tool's own plan says what it would send: validated, ids assigned, as a send would.
        send_plan, creds, _ = self._prepare(tool, given)
        try:
            call = next(send_plan)
        finally:
            send_plan.close()
        if not call.is_send:
            raise TypeError(f"find_sent: {tool} does not send a message")
        plan = _rt().find_sent(call=call, id_message=id_message, minutes=minutes, since=since)
        return plan, creds

    def find_sent(
        self,
        chat_id: str | None = None,
        *,
        message: str | None = None,
        id_message: str | None = None,
        minutes: int | None = None,
        tool: str | None = None,
        args: Mapping[str, Any] | None = None,
        since: float | None = None,
        id_instance: str | int | None = None,
        api_token: str | None = None,
    ) -> dict[str, Any] | None:
        """Did a message reach Green API? Looks it up in ``lastOutgoingMessages``.

        The check to make after an ``outcome_unknown`` error, before sending again. Either by
        ``chat_id`` and ``message`` (a text, caption or button body) and/or ``id_message``, or by
        ``tool`` and ``args`` (a send tool's input): then the entry must carry that send's whole
        payload (type, text or caption, a document's file name, buttons). ``since`` (Unix seconds,
        e.g. when the first attempt started) skips entries older than that instant, so an
        identical earlier message does not count; ``minutes`` defaults to what reaches back to
        ``since``, else 60. Returns the journal entry (``idMessage``, ``timestamp``, ...) or None.

        Green API allows this call once a second per instance; the block's rate limiter spaces it.
        """
        plan, creds = self._find_sent_plan(
            chat_id, message, id_message, minutes, tool, args, since, id_instance, api_token
        )
        return self._run(plan, creds)

    async def afind_sent(
        self,
        chat_id: str | None = None,
        *,
        message: str | None = None,
        id_message: str | None = None,
        minutes: int | None = None,
        tool: str | None = None,
        args: Mapping[str, Any] | None = None,
        since: float | None = None,
        id_instance: str | int | None = None,
        api_token: str | None = None,
    ) -> dict[str, Any] | None:
        """Async twin of :meth:`find_sent`."""
        plan, creds = self._find_sent_plan(
            chat_id, message, id_message, minutes, tool, args, since, id_instance, api_token
        )
        return await self._arun(plan, creds)

    def get_settings(
        self, *, id_instance: str | int | None = None, api_token: str | None = None
    ) -> dict[str, Any]:
        """The instance's settings (``getSettings``): webhookUrl, webhookUrlToken, the switches."""
        return self._run(_rt().get_settings(), self._credentials(id_instance, api_token))

    async def aget_settings(
        self, *, id_instance: str | int | None = None, api_token: str | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`get_settings`."""
        return await self._arun(_rt().get_settings(), self._credentials(id_instance, api_token))

    def set_settings(
        self,
        changes: Mapping[str, Any],
        *,
        id_instance: str | int | None = None,
        api_token: str | None = None,
    ) -> bool:
        """Change settings (``setSettings``). Green API reboots the instance and takes up to 5
        minutes to apply them: compare with :meth:`get_settings` and send only what differs."""
        plan = _rt().set_settings(dict(changes))
        return self._run(plan, self._credentials(id_instance, api_token))

    async def aset_settings(
        self,
        changes: Mapping[str, Any],
        *,
        id_instance: str | int | None = None,
        api_token: str | None = None,
    ) -> bool:
        """Async twin of :meth:`set_settings`."""
        plan = _rt().set_settings(dict(changes))
        return await self._arun(plan, self._credentials(id_instance, api_token))

    def invoke(self, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Run a tool and return an envelope instead of raising: what hosts and agents pass on.

        ``{"ok": True, "output": {...}}`` or ``{"ok": False, "error": {"code", "message", ...}}``;
        the error part is safe to show to a person or a model (no token, no traceback).
        """
        try:
            return {"ok": True, "output": self.execute(tool_id, args)}
        except (InputValidationError, GreenApiError) as exc:
            return {"ok": False, "error": exc.to_dict()}

    async def ainvoke(self, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Async twin of :meth:`invoke`."""
        try:
            return {"ok": True, "output": await self.aexecute(tool_id, args)}
        except (InputValidationError, GreenApiError) as exc:
            return {"ok": False, "error": exc.to_dict()}

    def export_tools(self, format: str = "json-schema") -> list[dict[str, Any]]:
        """The tools in an LLM ecosystem's shape (openai, anthropic, mcp, json-schema).

        Credentials are left out: they are bound to the block, never filled by a model.
        """
        from .exporters import export_tools

        return export_tools(self._definitions, format)

    def validate(self, tool_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and normalise input without calling Green API; the token comes back masked."""
        definition = self._definition(tool_id)
        rt = _rt()
        model = rt.validate_input(definition, rt.specs[tool_id].model, args, self._bound)
        data = model.model_dump(exclude_none=True)
        data["apiTokenInstance"] = "***"
        return data

    # -- clients and their lifetime -----------------------------------------------------------

    def _sync_session(self) -> SyncSession:
        if self._sync is None:
            self._sync = SyncSession(self.hosts, self.timeouts, self.retry, self._transport, self._network)
            self._sync.limiter = self.rate_limiter
        return self._sync

    def _async_session(self) -> AsyncSession:
        import asyncio  # imported already by whatever runs the loop; not by the package

        loop = asyncio.get_running_loop()
        if self._async is None or self._async_loop is not loop:
            # A pooled connection belongs to the loop that opened it: a new loop gets a new pool.
            self._async = AsyncSession(
                self.hosts, self.timeouts, self.retry, self._async_transport, self._network
            )
            self._async.limiter = self.rate_limiter
            self._async_loop = loop
        return self._async

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    async def aclose(self) -> None:
        import asyncio

        self.close()
        session, loop = self._async, self._async_loop
        self._async = None
        self._async_loop = None
        # A pool opened on another event loop (asyncio.run per call) cannot be closed from this
        # one: its connections belong to that loop ("Event loop is closed"). It is dropped, and
        # its sockets are closed with it.
        if session is not None and loop is asyncio.get_running_loop():
            await session.aclose()

    def __enter__(self) -> GreenApiBlock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> GreenApiBlock:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
