"""``PreviewServer``: the preview page served from a background thread (for the CLI and for tests).

with PreviewServer(sandbox=True) as preview:     # 127.0.0.1 and a free port by default
    print(preview.url)                             # open it in a browser
    preview.sandbox.inject_incoming_text(preview.sandbox_instance, "79001234567@c.us", "hi")
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Self

from aiohttp import web

from .app import PreviewConfig, create_app, watch_sandbox

if TYPE_CHECKING:
    from green_api_block import GreenApiBlock
    from green_api_block.sandbox import Sandbox, SandboxInstance

__all__ = ["SANDBOX_SETTINGS", "PreviewServer", "is_loopback"]

#: Settings of the sandbox instance: what a bot needs, so that the panel shows sends and replies.
SANDBOX_SETTINGS = {
    "incomingWebhook": "yes",
    "outgoingWebhook": "yes",
    "outgoingAPIMessageWebhook": "yes",
    "stateWebhook": "yes",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class PreviewServer:
    """The preview on ``http://host:port``, run on its own event loop in a daemon thread.

    ``sandbox=True`` starts an embedded sandbox with one instance and binds its credentials (pass
    a running :class:`~green_api_block.sandbox.Sandbox` to use that one instead). Otherwise the
    block talks to ``api_url`` (Green API by default) with the credentials given here, if any,
    and else with those the person types into the form.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sandbox: bool | Sandbox = False,
        api_url: str | None = None,
        media_url: str | None = None,
        id_instance: str | None = None,
        api_token: str | None = None,
    ) -> None:
        self._host = host
        self._requested_port = port
        self._want_sandbox = sandbox
        self._api_url = api_url
        self._media_url = media_url
        self._id_instance = id_instance
        self._api_token = api_token
        self.sandbox: Sandbox | None = None
        self.sandbox_instance: SandboxInstance | None = None
        self._owns_sandbox = False
        self._listener: Callable[[str], None] | None = None
        self.config: PreviewConfig | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._port: int | None = None

    def __repr__(self) -> str:
        return f"<PreviewServer {self.url if self._port else 'not running'}>"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the preview is not running")
        return self._port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in ("0.0.0.0", "::", "") else self._host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def mode(self) -> str:
        return "sandbox" if self._want_sandbox is not False else "instance"

    # ------------------------------------------------------------------------------ lifecycle

    def _make_config(self) -> PreviewConfig:
        from green_api_block import GreenApiBlock
        from green_api_block.sandbox import Sandbox

        block: GreenApiBlock
        if self._want_sandbox is not False:
            if isinstance(self._want_sandbox, Sandbox):
                self.sandbox = self._want_sandbox
            else:
                self.sandbox = Sandbox().start()
                self._owns_sandbox = True
            inst = self.sandbox.create_instance(settings=SANDBOX_SETTINGS)
            self.sandbox_instance = inst
            block = GreenApiBlock(
                inst.api_url,
                inst.media_url,
                id_instance=inst.id_instance,
                api_token=inst.api_token,
                credentials_from_env=False,
            )
            return PreviewConfig(
                block=block,
                mode="sandbox",
                api_url=inst.api_url,
                bound_id_instance=inst.id_instance,
                token_bound=True,
                sandbox=self.sandbox,
                sandbox_instance=inst,
                secrets=(inst.api_token,),
            )
        block = GreenApiBlock(
            self._api_url,
            self._media_url,
            id_instance=self._id_instance,
            api_token=self._api_token,
            credentials_from_env=False,
        )
        return PreviewConfig(
            block=block,
            mode="instance",
            api_url=block.hosts.api_url,
            bound_id_instance=self._id_instance or None,
            token_bound=bool(self._api_token),
            secrets=(self._api_token,) if self._api_token else (),
        )

    def start(self) -> Self:
        """Start serving; returns once the port is bound (or raises what prevented it)."""
        if self._thread is not None:
            raise RuntimeError("a PreviewServer can be started once")
        try:
            self.config = self._make_config()
            if self.sandbox is not None:
                self._listener = watch_sandbox(self.config)
        except BaseException:
            self._release_sandbox()
            raise
        self._thread = threading.Thread(target=self._run, name="green-api-preview", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._release_sandbox()
            raise self._startup_error
        return self

    def close(self) -> None:
        """Stop serving, close the block's connections, stop an embedded sandbox."""
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is not None:
            if loop is not None and stop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
            self._thread = None
        self._release_sandbox()

    def _release_sandbox(self) -> None:
        if self.sandbox is not None and self._listener is not None:
            self.sandbox.backend.remove_listener(self._listener)
            self._listener = None
        if self.sandbox is not None and self._owns_sandbox:
            self.sandbox.close()
            self._owns_sandbox = False

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._startup_error = exc
            loop.run_until_complete(self._close_block())
            loop.close()
            self._ready.set()
            return
        self._loop = loop
        self._ready.set()
        try:
            assert self._stop is not None
            loop.run_until_complete(self._stop.wait())
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(self._close_block())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            self._loop = None
            loop.close()

    async def _close_block(self) -> None:
        if self.config is not None:
            await self.config.block.aclose()

    async def _serve(self) -> web.AppRunner:
        assert self.config is not None
        self._stop = asyncio.Event()
        runner = web.AppRunner(
            create_app(self.config), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._requested_port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._port = int(runner.addresses[0][1])
        if is_loopback(self._host):
            names = {
                "127.0.0.1",
                "localhost",
                "[::1]",
                self._host if ":" not in self._host else f"[{self._host}]",
            }
            self.config.allowed_hosts = frozenset(f"{n}:{self._port}" for n in names)
        return runner
