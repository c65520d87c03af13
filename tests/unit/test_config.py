from __future__ import annotations

import pytest

from green_api_block import ConfigError, GreenApiBlock
from green_api_block.config import DEFAULT_API_URL, DEFAULT_MEDIA_URL, Hosts, suggest_pool_hosts


def test_defaults_follow_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GREEN_API_URL", raising=False)
    monkeypatch.delenv("GREEN_API_MEDIA_URL", raising=False)
    assert Hosts.resolve(None, None) == Hosts(DEFAULT_API_URL, DEFAULT_MEDIA_URL)
    assert (DEFAULT_API_URL, DEFAULT_MEDIA_URL) == (
        "https://api.green-api.com",
        "https://media.green-api.com",
    )


def test_environment_then_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREEN_API_URL", "https://7103.api.greenapi.com/")
    monkeypatch.setenv("GREEN_API_MEDIA_URL", "https://7103.media.greenapi.com")
    assert Hosts.resolve(None, None) == Hosts(
        "https://7103.api.greenapi.com", "https://7103.media.greenapi.com"
    )
    assert Hosts.resolve("https://1103.api.green-api.com", None).api_url == "https://1103.api.green-api.com"


def test_custom_api_host_serves_media_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GREEN_API_MEDIA_URL", raising=False)
    assert Hosts.resolve("http://127.0.0.1:8080", None).media_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "url",
    [
        "http://api.green-api.com",
        "http://10.0.0.5:8080",
        "ftp://api.green-api.com",
        "https://u:p@api.green-api.com",
        "https://api.green-api.com/?x=1",
        "not a url",
        "https://",
    ],
)
def test_unsafe_or_broken_hosts_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        GreenApiBlock(url, credentials_from_env=False)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://api.green-api.com"]
)
def test_loopback_http_and_any_https_are_fine(url: str) -> None:
    GreenApiBlock(url, credentials_from_env=False)


def test_bound_credentials_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GREEN_API_ID_INSTANCE", "1101000001")
    monkeypatch.setenv("GREEN_API_TOKEN_INSTANCE", "abc123token")
    block = GreenApiBlock("http://127.0.0.1:9")
    assert block.bound_credentials
    assert "abc123token" not in repr(block)
    assert not GreenApiBlock("http://127.0.0.1:9", credentials_from_env=False).bound_credentials


def test_pool_host_suggestion_is_only_a_suggestion() -> None:
    assert suggest_pool_hosts("7105187566") == (
        "https://7105.api.greenapi.com",
        "https://7105.media.greenapi.com",
    )
    assert suggest_pool_hosts("1101000001") == (DEFAULT_API_URL, DEFAULT_MEDIA_URL)
