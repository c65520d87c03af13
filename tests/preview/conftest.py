"""Fixtures for the preview: a preview on an embedded sandbox, and headless Chromium via Playwright.

Tests that need a sandbox of their own take the plugin's (``sandbox``, ``tests/conftest.py``).

The helpers the browser tests share (``open_page``, ``Session``, ``unavailable``, ...) live in
``tests/support/browser.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from green_api_block.preview import PreviewServer
from green_api_block.sandbox import Sandbox
from tests.support.browser import CHROMIUM_ARGS, Session, chromium_path, open_page, unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="module")
def preview() -> Iterator[PreviewServer]:
    """One preview for the module, on a sandbox of its own: the browser tests share one page on it,
    so its sandbox must outlive a test (the plugin's lasts one). Short empty polls: a Get
    notifications run on an empty queue answers within a second. A short push retry delay: a
    push the trigger missed comes again within the page's wait, not Green API's minute later."""
    with (
        Sandbox(max_receive_wait=0.5, webhook_retry_delay=0.05) as sandbox,
        PreviewServer(sandbox=sandbox) as server,
    ):
        yield server


@pytest.fixture(scope="module")
def token(preview: PreviewServer) -> str:
    assert preview.sandbox_instance is not None
    return preview.sandbox_instance.api_token


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        unavailable("no Chromium at /usr/bin/chromium (apt-get install -y chromium, or set $CHROMIUM)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def session(browser: Browser, preview: PreviewServer) -> Iterator[Session]:
    s = open_page(browser, preview.url)
    yield s
    s.page.context.close()
