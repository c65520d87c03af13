"""Proxies on every path: HTTP CONNECT to an https sandbox, a forward proxy for http, NO_PROXY.

The block drives its transports directly, so httpx's own proxy selection never ran for it (and
aiohttp's trust_env ignores ALL_PROXY): with a proxy in the environment the block connected
directly. Each test routes a real call through a counting proxy on 127.0.0.1.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from green_api_block import ConfigError, GreenApiBlock, GreenApiError, RetryPolicy
from green_api_block.network import mask_proxy_url
from green_api_block.sandbox import Sandbox, SandboxInstance
from tests.support.proxy import CountingProxy
from tests.support.runner import MODES, block_for, run

Call = tuple[str, dict[str, Any]]  # a tool and its inputs
SEND: Call = ("green_api_send_message", {"chatId": "79001234567@c.us", "message": "hello"})
STATE: Call = ("green_api_get_state_instance", {})
FAST = RetryPolicy(max_retries=2, backoff_initial=0.001, backoff_max=0.005)
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
PASSWORD = "pr0xy-s3cret-pw"


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the proxy variables it means; none leak in from the machine."""
    for name in _PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)  # urllib ignores HTTP_PROXY under CGI


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="module")
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def tls_sandbox(server_context: ssl.SSLContext) -> Iterator[Sandbox]:
    with Sandbox(rate_limits=False, ssl_context=server_context) as sb:
        yield sb


@pytest.fixture
def http_sandbox() -> Iterator[Sandbox]:
    with Sandbox(rate_limits=False) as sb:
        yield sb


@pytest.fixture
def proxy() -> Iterator[CountingProxy]:
    with CountingProxy() as p:
        yield p


def _call(mode: str, url: str, instance: SandboxInstance, tool: Call, **kw: Any) -> Any:
    kw.setdefault("retry", FAST)
    block = block_for(mode, url, **kw)
    try:
        return run(mode, block, tool[0], {**instance.credentials(), **tool[1]})
    finally:
        block.close()


# -- HTTP CONNECT to https, the path real users take ---------------------------------------------


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
@pytest.mark.parametrize("mode", MODES)
def test_https_goes_through_the_environment_proxy(
    mode: str,
    variable: str,
    tls_sandbox: Sandbox,
    proxy: CountingProxy,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    instance = tls_sandbox.create_instance()
    assert tls_sandbox.url.startswith("https://")
    out = _call(mode, tls_sandbox.url, instance, SEND, verify=str(ca_file))
    assert out["idMessage"]
    assert proxy.tunnels == [f"127.0.0.1:{tls_sandbox.port}"]
    assert len(tls_sandbox.sent_messages(instance)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_explicit_proxy_wins_over_the_environment(
    mode: str, tls_sandbox: Sandbox, proxy: CountingProxy, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CountingProxy() as env_proxy:
        monkeypatch.setenv("HTTPS_PROXY", env_proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # an explicit proxy= ignores NO_PROXY, as httpx does
        instance = tls_sandbox.create_instance()
        _call(mode, tls_sandbox.url, instance, STATE, proxy=proxy.url, verify=str(ca_file))
        assert env_proxy.passed == 0
    assert len(proxy.tunnels) == 1


@pytest.mark.parametrize("mode", MODES)
def test_an_https_proxy_is_trusted_through_verify(
    mode: str, tls_sandbox: Sandbox, server_context: ssl.SSLContext, ca_file: Path
) -> None:
    """TLS to the proxy, then TLS to Green API inside the tunnel: verify= covers both."""
    instance = tls_sandbox.create_instance()
    with CountingProxy(ssl_context=server_context, credentials=("user", PASSWORD)) as tls_proxy:
        proxy_url = tls_proxy.url_with("user", PASSWORD)
        assert proxy_url.startswith("https://")
        _call(mode, tls_sandbox.url, instance, SEND, proxy=proxy_url, verify=ca_file)
        assert tls_proxy.tunnels == [f"127.0.0.1:{tls_sandbox.port}"] and tls_proxy.refused == 0


@pytest.mark.parametrize("mode", MODES)
def test_proxy_credentials_are_sent_and_never_shown(
    mode: str, tls_sandbox: Sandbox, ca_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    instance = tls_sandbox.create_instance()
    with CountingProxy(credentials=("user", PASSWORD)) as guarded:
        url = guarded.url_with("user", PASSWORD)
        out = _call(mode, tls_sandbox.url, instance, STATE, proxy=url, verify=str(ca_file))
        assert out and guarded.refused == 0 and len(guarded.tunnels) == 1
        block = block_for(mode, tls_sandbox.url, proxy=url, verify=str(ca_file))
        assert PASSWORD not in repr(block) + repr(block._network)
        # Wrong credentials: the proxy refuses the tunnel; the error does not echo the URL's secret.
        with pytest.raises(GreenApiError) as info:
            _call(mode, tls_sandbox.url, instance, STATE, proxy=guarded.url_with("user", "wrong-" + PASSWORD))
    shown = str(info.value) + repr(info.value) + str(info.value.to_dict()) + caplog.text
    assert PASSWORD not in shown
    assert mask_proxy_url(url) == f"http://***@127.0.0.1:{guarded.port}"


@pytest.mark.parametrize("mode", MODES)
def test_send_refused_at_connect_never_reached_the_server(
    mode: str, tls_sandbox: Sandbox, ca_file: Path
) -> None:
    """A CONNECT the proxy refuses (407) carried no send: not outcome_unknown, nothing sent."""
    instance = tls_sandbox.create_instance()
    with CountingProxy(credentials=("user", PASSWORD)) as guarded:
        with pytest.raises(GreenApiError) as info:
            _call(mode, tls_sandbox.url, instance, SEND, proxy=guarded.url, verify=str(ca_file))
        assert guarded.refused == FAST.max_retries + 1  # the send was retried: it provably never left
    assert info.value.outcome_unknown is not True
    assert tls_sandbox.sent_messages(instance) == []


def test_your_own_transports_are_left_alone(
    tls_sandbox: Sandbox, proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As httpx skips the environment for a client given a transport; proxy=/verify= would be lost."""
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    mine = httpx.MockTransport(lambda request: httpx.Response(200, json={"stateInstance": "authorized"}))
    block = block_for("sync", tls_sandbox.url, transport=mine)
    assert block._network.proxies["api"] is not None  # the async path is still the block's own
    assert run("sync", block, *STATE[:1], {**tls_sandbox.create_instance().credentials()})
    assert proxy.passed == 0
    own = {"transport": mine, "async_transport": httpx.AsyncHTTPTransport()}
    assert block_for("sync", tls_sandbox.url, **own)._network.proxies["api"] is None
    with pytest.raises(ConfigError, match="proxy= has no effect"):
        block_for("sync", tls_sandbox.url, proxy=proxy.url, **own)
    with pytest.raises(ConfigError, match="verify= has no effect"):
        block_for("sync", tls_sandbox.url, verify=ssl.create_default_context(), **own)


# -- a plain forward proxy for http:// targets ----------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
@pytest.mark.parametrize("mode", MODES)
def test_http_goes_through_a_forward_proxy(
    mode: str, variable: str, http_sandbox: Sandbox, proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    instance = http_sandbox.create_instance()
    _call(mode, http_sandbox.url, instance, SEND)
    assert len(proxy.forwarded) == 1 and proxy.forwarded[0].startswith("POST ")
    assert "/sendMessage/" in proxy.forwarded[0]
    assert len(http_sandbox.sent_messages(instance)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_forward_proxy_credentials(mode: str, http_sandbox: Sandbox) -> None:
    instance = http_sandbox.create_instance()
    with CountingProxy(credentials=("user", PASSWORD)) as guarded:
        _call(mode, http_sandbox.url, instance, SEND, proxy=guarded.url_with("user", PASSWORD))
        assert guarded.refused == 0 and len(guarded.forwarded) == 1


@pytest.mark.parametrize("no_proxy", ["NO_PROXY", "no_proxy"])
@pytest.mark.parametrize("mode", MODES)
def test_no_proxy_is_respected(
    mode: str,
    no_proxy: str,
    http_sandbox: Sandbox,
    tls_sandbox: Sandbox,
    proxy: CountingProxy,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    monkeypatch.setenv(no_proxy, "example.com,127.0.0.1")
    _call(mode, http_sandbox.url, http_sandbox.create_instance(), STATE)
    _call(mode, tls_sandbox.url, tls_sandbox.create_instance(), STATE, verify=str(ca_file))
    assert proxy.passed == 0
    # The other host (media_url) outside NO_PROXY still goes through the proxy: one pool each.
    monkeypatch.setenv(no_proxy, "localhost")
    block = block_for(mode, http_sandbox.url, media_url=http_sandbox.url.replace("127.0.0.1", "localhost"))
    network = block._network
    assert network.proxies["api"] is not None and network.proxies["media"] is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HTTP_PROXY": "http://plain:1"}, None),  # an http proxy variable is for http:// hosts only
        ({"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:1"}, "http://lower:1"),
        ({"ALL_PROXY": "http://all:1", "HTTPS_PROXY": "http://https:1"}, "http://https:1"),
        ({"HTTPS_PROXY": "proxy.example:3128"}, "http://proxy.example:3128"),  # no scheme: http
        ({"ALL_PROXY": "http://all:1", "NO_PROXY": "*"}, None),
        ({"ALL_PROXY": "http://all:1", "NO_PROXY": ".green-api.com"}, None),
        ({"ALL_PROXY": "http://all:1", "NO_PROXY": "green-api.com.evil"}, "http://all:1"),
    ],
)
def test_environment_rules_are_httpx_rules(
    env: dict[str, str], expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    block = GreenApiBlock("https://api.green-api.com", credentials_from_env=False)
    chosen = block._network.proxies["api"]
    assert (chosen.url if chosen else None) == expected
    # The same answer httpx.Client gives for the host (its mounts, matched the way it matches them).
    client = httpx.Client()
    transport = client._transport_for_url(httpx.URL("https://api.green-api.com/x"))
    assert (transport is client._transport) == (expected is None)
    client.close()


# -- the wire-level "was it sent?" rule through the proxy ----------------------------------------


@pytest.mark.parametrize("target", ["https-connect", "http-forward"])
@pytest.mark.parametrize("mode", MODES)
def test_send_dropped_after_the_proxy_forwarded_it_is_outcome_unknown(
    mode: str,
    target: str,
    tls_sandbox: Sandbox,
    http_sandbox: Sandbox,
    proxy: CountingProxy,
    ca_file: Path,
) -> None:
    sandbox = tls_sandbox if target == "https-connect" else http_sandbox
    instance = sandbox.create_instance()
    fault = sandbox.inject_fault("drop_after", method="sendMessage", forever=True)
    with pytest.raises(GreenApiError) as info:
        _call(mode, sandbox.url, instance, SEND, proxy=proxy.url, verify=str(ca_file))
    assert info.value.code == "outcome_unknown"
    assert info.value.outcome_unknown is True and info.value.retryable is False
    assert fault.hits == 1, "a POST the server read must never be sent again"
    assert proxy.passed == 1
    assert len(sandbox.sent_messages(instance)) == 1


# -- SOCKS, verify and bad values: refused at construction ---------------------------------------


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_socks_on_the_aiohttp_path_fails_at_construction(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"socks5://user:{PASSWORD}@127.0.0.1:1080"
    kw: dict[str, Any] = {"proxy": url} if how == "argument" else {}
    if how == "environment":
        monkeypatch.setenv("ALL_PROXY", url)
    with pytest.raises(ConfigError, match='async_transport="httpcore"') as info:
        GreenApiBlock("https://api.green-api.com", credentials_from_env=False, **kw)
    assert PASSWORD not in str(info.value)


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
@pytest.mark.parametrize("mode", ["sync", "async-httpcore"])
def test_socks_works_where_httpx_has_it(
    mode: str,
    scheme: str,
    tls_sandbox: Sandbox,
    proxy: CountingProxy,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALL_PROXY", proxy.url.replace("http", scheme, 1))
    instance = tls_sandbox.create_instance()
    # aiohttp cannot take a SOCKS proxy, so even a sync-only block names the httpcore async path.
    out = _call(mode, tls_sandbox.url, instance, SEND, verify=ca_file, async_transport="httpcore")
    assert out["idMessage"]
    assert proxy.socks == [f"127.0.0.1:{tls_sandbox.port}"]


def test_socks_without_socksio_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "socksio" else real(name)
    )
    with pytest.raises(ConfigError, match=r"green-api-block\[socks\]"):
        GreenApiBlock(
            "https://api.green-api.com",
            credentials_from_env=False,
            async_transport="httpcore",
            proxy="socks5://127.0.0.1:1080",
        )


@pytest.mark.parametrize(
    "value", ["ftp://user:" + PASSWORD + "@proxy:21", "http://", "proxy.example:3128", "http://h:99999"]
)
def test_bad_proxy_urls_fail_at_construction_without_the_password(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        GreenApiBlock("https://api.green-api.com", credentials_from_env=False, proxy=value)
    assert PASSWORD not in str(info.value)


def test_proxy_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="proxy"):
        GreenApiBlock("https://api.green-api.com", credentials_from_env=False, proxy=3128)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
def test_verify_takes_a_path_or_an_ssl_context(
    mode: str, tls_sandbox: Sandbox, ca: trustme.CA, ca_file: Path
) -> None:
    instance = tls_sandbox.create_instance()
    with pytest.raises(GreenApiError) as info:  # the local CA is not trusted by default
        _call(mode, tls_sandbox.url, instance, STATE, retry=RetryPolicy(max_retries=0))
    assert info.value.code in ("transport_error", "timeout")
    context = ssl.create_default_context()
    ca.configure_trust(context)
    assert _call(mode, tls_sandbox.url, instance, STATE, verify=context)
    assert _call(mode, tls_sandbox.url, instance, STATE, verify=ca_file)


@pytest.mark.parametrize("value", [False, True, 5])
def test_verify_rejects_other_types(value: Any) -> None:
    with pytest.raises(TypeError, match="verify"):
        GreenApiBlock("https://api.green-api.com", credentials_from_env=False, verify=value)


def test_verify_rejects_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no CA bundle"):
        GreenApiBlock(
            "https://api.green-api.com", credentials_from_env=False, verify=str(tmp_path / "none.pem")
        )


def test_verify_rejects_a_file_that_is_not_a_ca_bundle(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match="not a PEM CA bundle"):
        GreenApiBlock("https://api.green-api.com", credentials_from_env=False, verify=garbage)
