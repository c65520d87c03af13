"""The one loopback check and the one yes/no parser, used by config, the CLI, guard and the servers."""

from __future__ import annotations

import pytest

from green_api_block.flags import parse_bool
from green_api_block.netaddr import is_loopback


@pytest.mark.parametrize(
    "host", ["localhost", "LocalHost", "127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "[::1]"]
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.com", "localhost.example.com", "", "[::2]"]
)
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("1", True),
        (" YES ", True),
        ("On", True),
        ("true", True),
        ("0", False),
        ("no", False),
        ("OFF", False),
        ("False", False),
    ],
)
def test_yes_no_words(word: str, value: bool) -> None:
    assert parse_bool(word) is value


@pytest.mark.parametrize("word", ["", "  ", "y", "2", "maybe", "truee"])
def test_anything_else_is_not_a_boolean(word: str) -> None:
    assert parse_bool(word) is None
