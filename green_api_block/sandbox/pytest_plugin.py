"""pytest plugin (entry point ``pytest11: green_api_sandbox``): a Green API sandbox per test.

Fixtures:

* ``green_api_sandbox``: a started :class:`~green_api_block.sandbox.Sandbox`, closed after the
  test. Options come from the ``green_api_sandbox`` marker, e.g.
  ``@pytest.mark.green_api_sandbox(max_receive_wait=0.2, rate_limits=False)``.
* ``green_api_instance``: an authorized instance on that sandbox with the notifications a bot
  needs switched on (incoming, outgoing statuses, outgoing API messages, state changes).

The sandbox is imported lazily: this module is loaded into every pytest run in an environment
where the package is installed, and must cost nothing to runs that never use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .defaults import BOT_SETTINGS

if TYPE_CHECKING:
    from green_api_block.sandbox import Sandbox, SandboxInstance

__all__ = ["BOT_SETTINGS", "green_api_instance", "green_api_sandbox"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "green_api_sandbox(**options): keyword options for the green_api_sandbox fixture's "
        "Sandbox (max_receive_wait, rate_limits, quota, retry_after_header, default_settings)",
    )


@pytest.fixture
def green_api_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A running Green API sandbox on 127.0.0.1; ``.url`` is the apiUrl and mediaUrl."""
    from green_api_block.sandbox import Sandbox

    marker = request.node.get_closest_marker("green_api_sandbox")
    options = dict(marker.kwargs) if marker is not None else {}
    with Sandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture
def green_api_instance(green_api_sandbox: Sandbox) -> SandboxInstance:
    """An authorized sandbox instance: ``.id_instance``, ``.api_token``, ``.api_url``."""
    return green_api_sandbox.create_instance(settings=BOT_SETTINGS)
