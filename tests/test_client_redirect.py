"""Redirects on the opening handshake and Basic auth from the URL, against
the websockets server (its process_request answers the redirects)."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
import trustme

from websocket import HandshakeError, WsClient
from websocket._handshake import resolve_redirect

from .servers import T, client_context, server_context, ws_server


@pytest.fixture(scope="module")
def server():
    with ws_server() as url:
        yield url


def redirect(to: str, status: int = 302) -> str:
    return f"/redirect?status={status}&to={urllib.parse.quote(to, safe='')}"


def request_headers(ws: WsClient) -> dict[str, str]:
    return json.loads(ws.receive(timeout=T)["data"])["headers"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_each_redirect_status_is_followed(server, status):
    with WsClient(server + redirect("/echo", status), timeout=T) as ws:
        ws.send("after the redirect")
        assert ws.receive(timeout=T)["data"] == "after the redirect"
        assert ws.redirects == [(status, server + "/echo")]
        assert ws.url == server + "/echo"


def test_a_chain_of_relative_and_absolute_locations(server):
    # absolute ws://, then http:// (mapped to ws://), then a relative path.
    last = redirect("echo?x=1")  # relative to /redirect: /echo?x=1
    middle = redirect(server.replace("ws://", "http://") + last, 307)
    with WsClient(server + redirect(server + middle, 301), timeout=T) as ws:
        assert [status for status, _ in ws.redirects] == [301, 307, 302]
        assert ws.url == server + "/echo?x=1"
        ws.send(b"\x01")
        assert ws.receive(timeout=T)["data"] == b"\x01"


def test_max_redirects(server):
    chain = redirect(redirect(redirect("/echo")))
    with pytest.raises(HandshakeError, match="too many redirects: 2 followed") as info:
        WsClient(server + chain, timeout=T, max_redirects=2)
    assert info.value.status == 302
    with pytest.raises(HandshakeError) as info:
        WsClient(server + redirect("/echo"), timeout=T, max_redirects=0)
    assert info.value.status == 302 and info.value.headers["location"] == "/echo"
    with WsClient(server + chain, timeout=T, max_redirects=3) as ws:
        assert len(ws.redirects) == 3
    with pytest.raises(ValueError, match="max_redirects must be >= 0, got -1"):
        WsClient(server, max_redirects=-1)


def test_a_redirect_loop_ends():
    requests = []

    def loop(connection, request):
        requests.append(request.path)
        response = connection.respond(307, "again\n")
        response.headers["Location"] = "/loop"
        return response

    with ws_server(process_request=loop) as base:
        with pytest.raises(HandshakeError, match="too many redirects: 5 followed"):
            WsClient(base + "/loop", timeout=T, max_redirects=5)
    assert requests == ["/loop"] * 6


def test_credentials_are_dropped_when_the_host_changes(server):
    other = server.replace("127.0.0.1", "localhost")
    sensitive = {
        "Authorization": "Bearer t0ken",
        "Cookie": "session=1",
        "Proxy-Authorization": "Basic eDp5",
        "X-Kept": "yes",
    }
    with WsClient(server + redirect(other + "/headers"), headers=sensitive, timeout=T) as ws:
        seen = request_headers(ws)
    assert seen["X-Kept"] == "yes"
    assert not {"Authorization", "Cookie", "Proxy-Authorization"} & set(seen)
    # The same host keeps them.
    with WsClient(server + redirect("/headers"), headers=sensitive, timeout=T) as ws:
        seen = request_headers(ws)
    assert {k: seen[k] for k in sensitive} == sensitive


def test_basic_auth_from_the_url(server):
    url = server.replace("ws://", "ws://al%20ice:p%40ss%3Aw@") + "/headers"
    with WsClient(url, timeout=T) as ws:
        seen = request_headers(ws)
    assert seen["Authorization"] == "Basic " + base64.b64encode(b"al ice:p@ss:w").decode()
    # An explicit header wins.
    with WsClient(url, headers={"Authorization": "Bearer x"}, timeout=T) as ws:
        assert request_headers(ws)["Authorization"] == "Bearer x"
    # Kept across a redirect to the same host, dropped for another.
    same = server.replace("ws://", "ws://u:p@") + redirect("/headers")
    with WsClient(same, timeout=T) as ws:
        assert request_headers(ws)["Authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    other = server.replace("ws://", "ws://u:p@") + redirect(server.replace("127.0.0.1", "localhost") + "/headers")
    with WsClient(other, timeout=T) as ws:
        assert "Authorization" not in request_headers(ws)


def test_wss_to_ws_downgrade_is_refused(server):
    ca = trustme.CA()
    trust = client_context(ca)
    with ws_server(ssl_context=server_context(ca, "127.0.0.1")) as secure:
        with pytest.raises(HandshakeError, match="redirect from wss:// to ws:// refused") as info:
            WsClient(secure + redirect(server + "/echo"), ssl_context=trust, timeout=T)
        assert info.value.status == 302
        # wss to wss is fine.
        with WsClient(secure + redirect("/echo"), ssl_context=trust, timeout=T) as ws:
            assert ws.url == secure + "/echo"


@pytest.mark.parametrize(
    "url, location, expected",
    [
        ("ws://a/b/c", "/d", "ws://a/d"),
        ("ws://a/b/c", "d?q=1", "ws://a/b/d?q=1"),
        ("wss://a:8443/b", "//c/e", "wss://c/e"),
        ("ws://a/", "https://c/", "wss://c/"),
        ("ws://a/", "HTTP://c:81/x", "ws://c:81/x"),
        ("ws://a/", "/x#frag", "ws://a/x"),
    ],
)
def test_resolve_redirect(url, location, expected):
    assert resolve_redirect(url, location) == expected


@pytest.mark.parametrize(
    "url, location, message",
    [
        ("wss://a/", "ws://a/", "wss:// to ws:// refused"),
        ("wss://a/", "http://a/", "wss:// to ws:// refused"),
        ("ws://a/", "ftp://a/", "scheme 'ftp' is not ws or wss"),
        ("ws://a/", "/x\x00y", "invalid Location"),
        # An unclosed IPv6 bracket: urllib's ValueError becomes ours.
        ("ws://a/", "ws://[::1/", "invalid Location 'ws://\\[::1/'"),
        ("ws://a/", "http://[::1/x", "invalid Location 'http://\\[::1/x'"),
        ("ws://a/", "//[::1/", "invalid Location '//\\[::1/'"),
    ],
)
def test_bad_redirects(url, location, message):
    with pytest.raises(HandshakeError, match=message):
        resolve_redirect(url, location)


@pytest.mark.parametrize("location", ["ws://[::1/", "http://[::1/x", "//[::1/"])
def test_a_malformed_location_from_a_server_is_a_handshake_error(location):
    def bad_location(connection, request):
        response = connection.respond(302, "moved\n")
        response.headers["Location"] = location
        return response

    with ws_server(process_request=bad_location) as url:
        with pytest.raises(HandshakeError, match="invalid Location") as info:
            WsClient(url + "/echo", timeout=T)
    assert info.value.status == 302 and location in str(info.value)


def test_a_redirect_without_location_is_a_refusal(server):
    def no_location(connection, request):
        return connection.respond(302, "nowhere\n")

    with ws_server(process_request=no_location) as url:
        with pytest.raises(HandshakeError) as info:
            WsClient(url + "/echo", timeout=T)
    assert info.value.status == 302 and info.value.body == b"nowhere\n"
