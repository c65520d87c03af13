"""pytest plugin (entry point ``pytest11: green_api_sandbox``): a Green API sandbox per test.

Fixtures:

* ``green_api_sandbox``: a started :class:`~green_api_block.sandbox.Sandbox`, closed after the
  test. Options come from the ``green_api_sandbox`` marker, e.g.
  ``@pytest.mark.green_api_sandbox(max_receive_wait=0.2, rate_limits=False)``.
* ``green_api_instance``: an authorized instance on that sandbox with the notifications a bot
  needs switched on (incoming, outgoing statuses, outgoing API messages, state changes). Options
  come from the ``green_api_instance`` marker, e.g.
  ``@pytest.mark.green_api_instance(api_token="...", settings={})``.

A marker can sit on a test, its class or its module (``pytestmark``); where several apply, the
closest one wins option by option, so a module can set the sandbox for all its tests and one
test can change a single option.

The sandbox is imported lazily: this module is loaded into every pytest run in an environment
where the package is installed, and must cost nothing to runs that never use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .defaults import BOT_SETTINGS

if TYPE_CHECKING:
    from green_api_block.sandbox import Sandbox, SandboxInstance

__all__ = ["BOT_SETTINGS", "green_api_instance", "green_api_sandbox"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "green_api_sandbox(**options): keyword options for the green_api_sandbox fixture's "
        "Sandbox (max_receive_wait, rate_limits, quota, retry_after_header, default_settings, "
        "shutdown_timeout, webhook_timeout, webhook_retry_delay, allow_remote_webhooks)",
    )
    config.addinivalue_line(
        "markers",
        "green_api_instance(**options): keyword options for the green_api_instance fixture's "
        "Sandbox.create_instance (settings replace the bot preset; api_token, id_instance, state, plan)",
    )


def _marker_options(node: pytest.Item | pytest.Collector, name: str) -> dict[str, Any]:
    """The keyword options of every ``name`` marker on ``node`` and its parents, closest winning."""
    options: dict[str, Any] = {}
    # iter_markers goes from the test outwards: apply the farthest first, so closer ones override.
    for marker in reversed(list(node.iter_markers(name))):
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{name} takes keyword options only, got {marker.args!r}")
        options.update(marker.kwargs)
    return options


@pytest.fixture
def green_api_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A running Green API sandbox on 127.0.0.1; ``.url`` is the apiUrl and mediaUrl."""
    from green_api_block.sandbox import Sandbox

    with Sandbox(**_marker_options(request.node, "green_api_sandbox")) as sandbox:
        yield sandbox


@pytest.fixture
def green_api_instance(request: pytest.FixtureRequest, green_api_sandbox: Sandbox) -> SandboxInstance:
    """An authorized sandbox instance: ``.id_instance``, ``.api_token``, ``.api_url``."""
    options = _marker_options(request.node, "green_api_instance")
    options.setdefault("settings", BOT_SETTINGS)
    return green_api_sandbox.create_instance(**options)
