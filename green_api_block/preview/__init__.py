"""The block as a visual builder draws it: a local page that renders ``manifest.json`` as a form.

``green-api-block preview [--sandbox]`` serves it on 127.0.0.1. The page (plain HTML, CSS and
JavaScript shipped in ``static/``, nothing fetched from elsewhere) builds the block card and its
form at run time from the manifest and the schemas, validates input against the same JSON Schema
in the browser, runs tools through ``POST /api/run`` and lists arriving notifications.

    from green_api_block.preview import PreviewServer

    with PreviewServer(sandbox=True) as preview:
        print(preview.url)
"""

from __future__ import annotations

from .app import (
    SANDBOX_CHAT_ID,
    STATIC_FILES,
    TOKEN_MARKER,
    NotificationFeed,
    PreviewConfig,
    create_app,
    read_contract,
)
from .server import SANDBOX_SETTINGS, PreviewServer, is_loopback

__all__ = [
    "SANDBOX_CHAT_ID",
    "SANDBOX_SETTINGS",
    "STATIC_FILES",
    "TOKEN_MARKER",
    "NotificationFeed",
    "PreviewConfig",
    "PreviewServer",
    "create_app",
    "is_loopback",
    "read_contract",
]
