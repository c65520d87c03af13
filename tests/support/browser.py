"""The preview's browser tests' helpers: headless Chromium via Playwright, and what a page did.

The browser is Debian's ``chromium`` (``$CHROMIUM`` overrides the path), driven by Playwright for
Python; tests that need it are skipped, with the reason, when either is missing (failed instead
when ``$GREEN_API_BLOCK_REQUIRE_BROWSER`` is set, as in CI).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

ROOT = Path(__file__).resolve().parents[2]  # the repository
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


#: Set in CI: a missing browser then fails the browser tests instead of skipping them.
REQUIRE_BROWSER = "GREEN_API_BLOCK_REQUIRE_BROWSER"


def unavailable(reason: str, *, module: bool = False) -> NoReturn:
    if os.environ.get(REQUIRE_BROWSER):
        pytest.fail(f"{reason} (and ${REQUIRE_BROWSER} is set)", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class Traffic:
    """Everything the page said or fetched: checked for the token."""

    urls: list[str] = field(default_factory=list)
    posts: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    runs: int = 0

    def attach(self, page: Page) -> None:
        def on_request(request: Request) -> None:
            self.urls.append(request.url)
            if request.method == "POST":
                self.posts.append((request.url, request.post_data or ""))
                if request.url.endswith("/api/run"):
                    self.runs += 1

        def on_response(response: Response) -> None:
            if "/api/" in response.url:
                # (the page may have navigated away before the body was read)
                with contextlib.suppress(Exception):
                    self.bodies.append(response.text())

        def on_console(message: ConsoleMessage) -> None:
            self.console.append(f"{message.type}: {message.text}")

        page.on("request", on_request)
        page.on("response", on_response)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))


@dataclass
class Session:
    page: Page
    traffic: Traffic
    url: str


def open_page(browser: Browser, url: str, *, width: int = 1280, height: int = 900) -> Session:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(5000)
    traffic = Traffic()
    traffic.attach(page)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return Session(page, traffic, url)


def visible_params(page: Page) -> list[str]:
    params: list[str] = page.eval_on_selector_all(
        "#block-form .field:not([hidden])", "els => els.map(e => e.dataset.param)"
    )
    return params
