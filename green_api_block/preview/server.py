"""``PreviewServer``: the preview page served from a background thread (for the CLI and for tests).

with PreviewServer(sandbox=True) as preview:     # 127.0.0.1 and a free port by default
    print(preview.url)                             # open it in a browser
    preview.sandbox.inject_incoming_text(preview.sandbox_instance, "79001234567@c.us", "hi")
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Self
from urllib.parse import urlencode

from aiohttp import web

from ..background import DEFAULT_IDLE_TIMEOUT, BackgroundServer
from ..hostcheck import HostPolicy
from ..netaddr import is_loopback
from ..sandbox.defaults import BOT_SETTINGS
from .app import PreviewConfig, create_app, watch_sandbox
from .trigger import WEBHOOK_PATH, PreviewTrigger

if TYPE_CHECKING:
    from green_api_block.sandbox import Sandbox, SandboxInstance

__all__ = ["SANDBOX_SETTINGS", "PreviewServer", "is_loopback"]

#: Settings of the sandbox instance: what a bot needs, so that the panel shows sends and replies.
SANDBOX_SETTINGS = BOT_SETTINGS


class PreviewServer:
    """The preview on ``http://host:port``, run on its own event loop in a daemon thread.

    ``sandbox=True`` starts an embedded sandbox with one instance and binds its credentials (pass
    a running :class:`~green_api_block.sandbox.Sandbox` to use that one instead). Otherwise the
    block talks to ``api_url`` (Green API by default) with the credentials given here, if any,
    and else with those the person types into the form. ``allowed_hosts`` adds names the page
    may be reached by (besides the bind address); ``auth_token`` makes every request prove it
    knows the token (open :attr:`login_url` once in the browser).
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
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        allowed_hosts: Iterable[str] = (),
        auth_token: str | None = None,
    ) -> None:
        self._host = host
        self._extra_hosts = tuple(allowed_hosts)
        self._auth_token = auth_token
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
        self._server = BackgroundServer(
            self._make_app,
            host=host,
            port=port,
            name="green-api-preview",
            idle_timeout=idle_timeout,
            on_bound=self._on_bound,
        )

    def __repr__(self) -> str:
        return f"<PreviewServer {self.url if self._server.running else 'not running'}>"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        port = self._server.port
        if port is None:
            raise RuntimeError("the preview is not running")
        return port

    @property
    def url(self) -> str:
        return self._url_for(self.port)

    def _url_for(self, port: int) -> str:
        host = "127.0.0.1" if self._host in ("0.0.0.0", "::", "") else self._host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    @property
    def webhook_url(self) -> str | None:
        """Where the trigger receives the sandbox's pushes (``sandbox=True`` only)."""
        trigger = self.config.trigger if self.config is not None else None
        return trigger.url if trigger is not None else None

    @property
    def login_url(self) -> str:
        """The URL that lets a browser in when an auth token is required (it carries the token)."""
        if self._auth_token is None:
            return self.url
        return f"{self.url}/?{urlencode({'token': self._auth_token})}"

    @property
    def mode(self) -> str:
        return "sandbox" if self._want_sandbox is not False else "instance"

    # ------------------------------------------------------------------------------ lifecycle

    def _make_config(self) -> PreviewConfig:
        from green_api_block import GreenApiBlock
        from green_api_block.sandbox import Sandbox

        api_url, media_url = self._api_url, self._media_url
        id_instance, api_token = self._id_instance, self._api_token
        if self._want_sandbox is not False:
            if isinstance(self._want_sandbox, Sandbox):
                self.sandbox = self._want_sandbox
            else:
                self.sandbox = Sandbox().start()
                self._owns_sandbox = True
            inst = self.sandbox_instance = self.sandbox.create_instance(settings=SANDBOX_SETTINGS)
            api_url, media_url = inst.api_url, inst.media_url
            id_instance, api_token = inst.id_instance, inst.api_token
        block = GreenApiBlock(
            api_url, media_url, id_instance=id_instance, api_token=api_token, credentials_from_env=False
        )
        trigger = (
            PreviewTrigger(self.sandbox, self.sandbox_instance)
            if self.sandbox is not None and self.sandbox_instance is not None
            else None
        )
        webhook_token = trigger.token if trigger is not None else None
        return PreviewConfig(
            block=block,
            mode=self.mode,
            api_url=block.hosts.api_url,
            bound_id_instance=id_instance or None,
            token_bound=bool(api_token),
            sandbox=self.sandbox,
            sandbox_instance=self.sandbox_instance,
            secrets=tuple(t for t in (api_token, self._auth_token, webhook_token) if t),
            auth_token=self._auth_token,
            trigger=trigger,
        )

    def start(self) -> Self:
        """Start serving; returns once the port is bound (or raises what prevented it)."""
        if self._server.started:
            raise RuntimeError("a PreviewServer can be started once")
        try:
            self.config = self._make_config()
            if self.sandbox is not None:
                self._listener = watch_sandbox(self.config)
            self._server.start()
        except BaseException:
            self._release_sandbox()
            raise
        return self

    def close(self) -> None:
        """Stop serving, close the block's connections, stop an embedded sandbox."""
        trigger = self.config.trigger if self.config is not None else None
        if trigger is not None and trigger.listening and not self._owns_sandbox:
            # A sandbox that outlives the preview must not keep pushing to a closed port (it
            # would hold its queue back, retrying, until the next webhookUrl change).
            with contextlib.suppress(Exception):
                trigger.switch(False)
        self._server.close()
        self._release_sandbox()

    def _release_sandbox(self) -> None:
        if self.sandbox is not None and self._listener is not None:
            self.sandbox.backend.remove_listener(self._listener)
            self._listener = None
        if self.sandbox is not None and self._owns_sandbox:
            self.sandbox.close()
            self._owns_sandbox = False

    def _on_bound(self, port: int) -> None:
        if self.config is not None:
            # The bind address (loopback names on loopback) and the operator's --allow-host, for
            # every bind: a DNS-rebinding page's Host never matches, on or off loopback.
            policy = HostPolicy.for_bind(self._host, port, extra_hosts=self._extra_hosts)
            self.config.allowed_hosts = policy.hosts
            if self.config.trigger is not None:
                # The loopback name the preview prints: the sandbox pushes only to loopback.
                self.config.trigger.url = self._url_for(port) + WEBHOOK_PATH

    def _make_app(self) -> web.Application:
        assert self.config is not None
        config = self.config
        app = create_app(config)

        async def close_block(app: web.Application) -> None:
            await config.block.aclose()

        app.on_cleanup.append(close_block)
        return app
