"""``Target.build`` keeps its merged headers and timeouts between requests; every request it
builds is the one ``httpx.Client.build_request`` builds from the same arguments."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from membrane_integrations.membrain import _flows
from membrane_integrations.membrain import _protocol as ops
from membrane_integrations.membrain._config import ClientConfig


def _reference(http: httpx.Client, target: Any, step: _flows.Send) -> httpx.Request:
    request = step.request
    timeout = step.timeout if step.timeout is not None else target.timeout
    return http.build_request(
        request.method,
        target.root_url + request.path,
        params=list(request.params) or None,
        json=request.json,
        headers=dict(target.headers),
        timeout=httpx.Timeout(timeout),
    )


def _same(built: httpx.Request, expected: httpx.Request) -> None:
    assert built.method == expected.method
    assert str(built.url) == str(expected.url)
    assert built.headers.multi_items() == expected.headers.multi_items()
    assert built.content == expected.content
    assert built.extensions == expected.extensions


STEPS = [
    _flows.Send(ops.search("what?", k=3, scope=["^container\\.bob$", "topic"]).request),
    _flows.Send(ops.search("what?").request, timeout=2.5),
    _flows.Send(ops.add("fact", scope=["a"], category="c").request),
    _flows.Send(ops.count(scope=["^a$"], category="c").request),
    _flows.Send(ops.get("m/1").request),
    _flows.Send(ops.delete_bulk(memory_id="m1").request, timeout=1.0),
    _flows.Send(ops.health().request),
]
CLIENTS = {
    "plain": {},
    "own headers": {"headers": {"User-Agent": "app/1", "X-Trace": "t", "Accept": "text/plain"}},
    "cookies": {"cookies": {"session": "s1"}},
    "params": {"params": {"tenant": "t1"}},
}


@pytest.mark.parametrize("client", list(CLIENTS), ids=str)
@pytest.mark.parametrize("bearer", [False, True])
def test_built_requests_equal_build_request(client: str, bearer: bool) -> None:
    config = ClientConfig.resolve(
        "mb_key", base_url="http://h:8080", bearer_token="tok" if bearer else None, timeout=7.0
    )
    target = config.target()
    with httpx.Client(**CLIENTS[client]) as http:
        for _ in range(2):  # the second round uses what the first kept
            for step in STEPS:
                _same(target.build(http, step), _reference(http, target, step))


def test_a_change_to_the_clients_headers_is_seen() -> None:
    target = ClientConfig.resolve("mb_key", base_url="http://h").target()
    step = _flows.Send(ops.stats().request)
    with httpx.Client() as http:
        target.build(http, step)
        http.headers["X-Extra"] = "1"
        http.headers["User-Agent"] = "changed/2"
        built = target.build(http, step)
        _same(built, _reference(http, target, step))
        assert built.headers["X-Extra"] == "1"
        assert built.headers["X-API-Key"] == "mb_key"  # ours still win over the client's
        http.headers = httpx.Headers({"X-API-Key": "theirs"})
        built = target.build(http, step)
        _same(built, _reference(http, target, step))
        assert built.headers["X-API-Key"] == "mb_key"


def test_a_built_request_never_changes_the_kept_headers() -> None:
    target = ClientConfig.resolve("mb_key", base_url="http://h").target()
    step = _flows.Send(ops.search("q").request)
    with httpx.Client() as http:
        first = target.build(http, step)
        first.headers["X-API-Key"] = "tampered"
        first.extensions["timeout"]["read"] = 0.001
        second = target.build(http, step)
        assert second.headers["X-API-Key"] == "mb_key"
        assert second.extensions["timeout"]["read"] == 30.0


def test_cookies_a_server_set_are_sent_back() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"}, headers={"set-cookie": "lb=node2"})
        return httpx.Response(200, json={"status": request.headers.get("cookie", "none")})

    from membrane_integrations.membrain import MembrainClient

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with http, MembrainClient("mb_key", base_url="http://h", http_client=http) as client:
        client.health()
        assert client.ready().status == "lb=node2"
