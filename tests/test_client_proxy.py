"""Proxies (websocket/_proxy.py and WsClient's proxy options) against real
proxy servers on loopback: tinyproxy (HTTP CONNECT), stunnel in front of it
(an https:// proxy), microsocks (SOCKS5) and Dante (SOCKS 4, 4a and 5); plus
scripted raw proxies for exact bytes and refusals."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import pytest
import trustme

from websocket import InvalidURI, ProxyError, WebSocketTimeout, WsClient
from websocket._proxy import SocksExchange, parse_proxy_url, proxy_from_environment

from .proxies import Socks4aPeer, dante, https_proxy, microsocks, relay, tinyproxy
from .servers import T, client_context, server_context, ws_server


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def server():
    with ws_server() as url:
        yield url


def echo_once(ws: WsClient, text: str = "hello through the proxy") -> None:
    ws.send(text)
    assert ws.receive(timeout=T) == {"type": "text", "data": text}
    ws.send(b"\x00\x01" * 40000)
    assert ws.receive(timeout=T)["data"] == b"\x00\x01" * 40000


# -- HTTP CONNECT ---------------------------------------------------------


def test_http_proxy_tunnels_the_connection(server):
    with tinyproxy() as proxy, WsClient(server + "/headers", proxy=proxy, timeout=T) as ws:
        seen = ws.receive(timeout=T)["data"]
        assert '"Host": "127.0.0.1:' in seen  # the request went through unchanged
        echo_once(ws)


def test_http_proxy_refusal_is_a_proxy_error_with_status_and_body(server):
    # This tinyproxy only CONNECTs to port 443: our server's port is refused.
    with tinyproxy(connect_ports=[443]) as proxy:
        with pytest.raises(ProxyError) as info:
            WsClient(server + "/echo", proxy=proxy, timeout=T)
    err = info.value
    assert err.status == 403
    assert err.body  # tinyproxy's HTML page, first bytes kept
    assert err.proxy == proxy
    assert "CONNECT refused" in str(err) and "HTTP 403" in str(err)


def test_http_proxy_basic_auth_from_the_url(server):
    with tinyproxy(auth=("alice", "s3cret")) as proxy:
        with WsClient(server + "/echo", proxy=proxy, timeout=T) as ws:
            echo_once(ws)
        bare = "http://" + proxy.rsplit("@", 1)[1]
        with pytest.raises(ProxyError) as info:
            WsClient(server + "/echo", proxy=bare, timeout=T)
        assert info.value.status == 407
        wrong = proxy.replace("s3cret", "nope")
        with pytest.raises(ProxyError) as info:
            WsClient(server + "/echo", proxy=wrong, timeout=T)
        assert info.value.status in (401, 407)
        assert "nope" not in str(info.value)  # the password is never shown


class RawProxy:
    """A scripted one-connection proxy: records the CONNECT head and
    answers with ``answer``; after a 2xx it relays to ``target``."""

    def __init__(self, answer: bytes, target: tuple[str, int] | None = None) -> None:
        self.answer = answer
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(T)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.head = b""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(T)
        with conn:
            while b"\r\n\r\n" not in self.head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                self.head += chunk
            conn.sendall(self.answer)
            if self.target is None:
                return
            with socket.create_connection(self.target, timeout=T) as upstream:
                relay(conn, upstream)

    def close(self) -> None:
        self.thread.join(T)
        self.listener.close()


def test_connect_request_bytes_and_proxy_headers(server):
    host, port = server.removeprefix("ws://").rsplit(":", 1)
    proxy = RawProxy(b"HTTP/1.1 200 Connection established\r\n\r\n", (host, int(port)))
    url = proxy.url.replace("http://", "http://bob:p%40ss@")
    with WsClient(server + "/echo", proxy=url, proxy_headers={"X-Trace": "t1"}, timeout=T) as ws:
        echo_once(ws)
    proxy.close()
    lines = proxy.head.decode().split("\r\n")
    assert lines[0] == f"CONNECT 127.0.0.1:{port} HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}" in lines
    # base64("bob:p@ss")
    assert "Proxy-Authorization: Basic Ym9iOnBAc3M=" in lines
    assert "X-Trace: t1" in lines


@pytest.mark.parametrize(
    "answer, status, body",
    [
        (b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 12\r\n\r\nlog in first", 407, b"log in first"),
        (b"HTTP/1.0 502 Bad Gateway\r\n\r\nupstream down", 502, b"upstream down"),
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 3000\r\n\r\n" + b"x" * 3000, 403, b"x" * 1024),
    ],
)
def test_refusals_carry_status_and_first_bytes_of_body(answer, status, body):
    proxy = RawProxy(answer)
    with pytest.raises(ProxyError) as info:
        WsClient("ws://example.invalid/", proxy=proxy.url, timeout=T)
    proxy.close()
    assert info.value.status == status
    assert info.value.body == body
    assert info.value.headers == {} or "content-length" in info.value.headers


def test_garbage_and_early_close_from_the_proxy():
    proxy = RawProxy(b"SSH-2.0-OpenSSH\r\n\r\n")
    with pytest.raises(ProxyError, match="malformed CONNECT answer"):
        WsClient("ws://example.invalid/", proxy=proxy.url, timeout=T)
    proxy.close()
    proxy = RawProxy(b"HTTP/1.1 200 OK\r\n")  # then closes mid-head
    with pytest.raises(ProxyError, match="connection closed during CONNECT"):
        WsClient("ws://example.invalid/", proxy=proxy.url, timeout=T)
    proxy.close()


def test_a_silent_proxy_times_out():
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(TimeoutError, match="through http://127.0.0.1"):
            WsClient("ws://example.invalid/", proxy=url, timeout=0.3)
    finally:
        listener.close()


# -- https:// proxies (TLS to the proxy, then CONNECT) ---------------------


@pytest.fixture(scope="module")
def tls_files(ca, tmp_path_factory):
    folder = tmp_path_factory.mktemp("proxy-tls")
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_pem, key_pem = folder / "cert.pem", folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    cert.private_key_pem.write_to_path(str(key_pem))
    return str(cert_pem), str(key_pem), cert


def test_https_proxy_to_ws_and_wss(ca, tls_files, server):
    cert_pem, key_pem, _ = tls_files
    with https_proxy(cert_pem, key_pem) as proxy:
        context = client_context(ca)
        with WsClient(server + "/echo", proxy=proxy, proxy_ssl_context=context, timeout=T) as ws:
            echo_once(ws)
        # TLS to the server inside TLS to the proxy.
        with ws_server(ssl_context=server_context(ca, "localhost")) as secure:
            secure = secure.replace("127.0.0.1", "localhost")
            with WsClient(
                secure + "/echo", proxy=proxy, proxy_ssl_context=context, ssl_context=context, timeout=T
            ) as ws:
                echo_once(ws)
                for size in (0, 1, 16384, 300_000):
                    ws.send(b"z" * size)
                    assert ws.receive(timeout=T)["data"] == b"z" * size


def test_https_proxy_certificate_is_verified(tls_files, server):
    cert_pem, key_pem, _ = tls_files
    with https_proxy(cert_pem, key_pem) as proxy:
        with pytest.raises(ssl.SSLCertVerificationError):
            WsClient(server + "/echo", proxy=proxy, timeout=T)  # default trust: not our CA


# -- SOCKS -----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_socks5(server, scheme):
    port = server.rsplit(":", 1)[1]
    with microsocks() as (host, proxy_port):
        proxy = f"{scheme}://{host}:{proxy_port}"
        # "localhost": resolved by the proxy with socks5h, here with socks5.
        with WsClient(f"ws://localhost:{port}/echo", proxy=proxy, timeout=T) as ws:
            echo_once(ws)


def test_socks5_with_username_and_password(server):
    with microsocks(auth=("carol", "pw")) as (host, port):
        with WsClient(server + "/echo", proxy=f"socks5://carol:pw@{host}:{port}", timeout=T) as ws:
            echo_once(ws)
        with pytest.raises(ProxyError) as info:
            WsClient(server + "/echo", proxy=f"socks5://carol:bad@{host}:{port}", timeout=T)
        assert "socks5://***@" in str(info.value) and "bad" not in str(info.value)


@pytest.mark.parametrize("scheme", ["socks4", "socks5", "socks5h"])
def test_dante_socks_versions(server, scheme):
    port = server.rsplit(":", 1)[1]
    with dante() as (host, proxy_port):
        with WsClient(f"ws://localhost:{port}/echo", proxy=f"{scheme}://{host}:{proxy_port}", timeout=T) as ws:
            echo_once(ws)


def test_socks4a_sends_the_name_for_the_proxy_to_resolve(server):
    port = int(server.rsplit(":", 1)[1])
    peer = Socks4aPeer()
    with WsClient(f"ws://localhost:{port}/echo", proxy=f"socks4a://127.0.0.1:{peer.port}", timeout=T) as ws:
        echo_once(ws)
    peer.close()
    # VN 4, CD 1 (connect), the port, 0.0.0.x, an empty user id, the name.
    assert peer.request[:4] == b"\x04\x01" + port.to_bytes(2, "big")
    assert peer.request[4:7] == b"\0\0\0" and peer.request[7] != 0
    assert peer.request[8:] == b"\0localhost\0"


def test_socks_refusal_is_a_proxy_error():
    with dante() as (host, proxy_port):
        # Dante's rules only pass connections to 127.0.0.1.
        with pytest.raises(ProxyError):
            WsClient("ws://127.0.0.2:9/", proxy=f"socks5://{host}:{proxy_port}", timeout=T)


# -- the environment ---------------------------------------------------------


PROXY_VARS = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY", "REQUEST_METHOD"]


@pytest.fixture
def clean_env(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_environment_proxy_is_used_and_can_be_turned_off(server, clean_env):
    with tinyproxy(connect_ports=[443]) as proxy:
        clean_env.setenv("HTTP_PROXY", proxy)
        # Going through the proxy is proven by its refusal.
        with pytest.raises(ProxyError) as info:
            WsClient(server + "/echo", timeout=T)
        assert info.value.status == 403
        with WsClient(server + "/echo", proxy=None, timeout=T) as ws:
            echo_once(ws)
        clean_env.setenv("NO_PROXY", "example.com, 127.0.0.0/8")
        with WsClient(server + "/echo", timeout=T) as ws:
            echo_once(ws)
    with tinyproxy() as proxy:
        clean_env.delenv("NO_PROXY")
        clean_env.setenv("http_proxy", proxy)  # lowercase, honoured too
        with WsClient(server + "/echo", timeout=T) as ws:
            echo_once(ws)


@pytest.mark.parametrize(
    "env, secure, host, port, expected",
    [
        ({"HTTP_PROXY": "http://p:3128"}, False, "example.com", 80, "http://p:3128"),
        ({"HTTP_PROXY": "http://p:3128"}, True, "example.com", 443, None),
        ({"HTTPS_PROXY": "http://s:3128"}, True, "example.com", 443, "http://s:3128"),
        ({"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:1"}, True, "a.b", 443, "http://low:1"),
        ({"ALL_PROXY": "socks5h://all:1080"}, False, "a.b", 80, "socks5h://all:1080"),
        ({"HTTP_PROXY": "", "all_proxy": "socks5://x:1"}, False, "a.b", 80, "socks5://x:1"),
        ({"HTTP_PROXY": "p:3128"}, False, "a.b", 80, "http://p:3128"),
        # httpoxy: under CGI the uppercase name comes from the client.
        ({"HTTP_PROXY": "http://evil:1", "REQUEST_METHOD": "GET"}, False, "a.b", 80, None),
        ({"http_proxy": "http://ok:1", "REQUEST_METHOD": "GET"}, False, "a.b", 80, "http://ok:1"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"}, False, "a.b", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.com"}, False, "api.example.com", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": ".example.com"}, False, "example.com", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "*.example.com"}, False, "x.example.com", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.com"}, False, "badexample.com", 80, "http://p:1"),
        ({"HTTP_PROXY": "http://p:1", "no_proxy": "example.com:8080"}, False, "example.com", 8080, None),
        ({"HTTP_PROXY": "http://p:1", "no_proxy": "example.com:8080"}, False, "example.com", 80, "http://p:1"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, False, "10.1.2.3", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, False, "11.1.2.3", 80, "http://p:1"),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "::1"}, False, "::1", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "[::1]:9000"}, False, "::1", 9000, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "fd00::/8"}, False, "fd12::5", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1"}, False, "127.0.0.1", 80, None),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "Example.COM."}, False, "example.com", 80, None),
        ({}, False, "a.b", 80, None),
    ],
)
def test_proxy_from_environment(env, secure, host, port, expected):
    assert proxy_from_environment(secure, host, port, env) == expected


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://p:21", "scheme must be http, https, socks4"),
        ("p:3128", "no scheme"),
        ("http://", "no host"),
        ("http://p:99999", "port"),
        ("http://p:1/path", "no path"),
        ("http://p :1", "space"),
    ],
)
def test_bad_proxy_urls_name_the_value(url, message):
    with pytest.raises(InvalidURI, match=message) as info:
        WsClient("ws://127.0.0.1:9/", proxy=url)
    assert repr(url) in str(info.value) and "proxy URL" in str(info.value)


def test_proxy_url_parsing_and_masking():
    spec = parse_proxy_url("socks5h://u%3A1:p%40ss@[::1]")
    assert (spec.scheme, spec.host, spec.port, spec.username, spec.password) == (
        "socks5h", "::1", 1080, "u:1", "p@ss",
    )
    assert spec.url == "socks5h://***@[::1]"
    assert parse_proxy_url("HTTPS://proxy").port == 443
    assert parse_proxy_url("http://proxy").port == 80


def test_bad_proxy_option_types():
    with pytest.raises(TypeError, match="proxy must be"):
        WsClient("ws://127.0.0.1:9/", proxy=3128)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="proxy_headers given with proxy=None"):
        WsClient("ws://127.0.0.1:9/", proxy=None, proxy_headers={"a": "b"})
    with pytest.raises(ValueError, match="contains"):
        WsClient("ws://127.0.0.1:9/", proxy="http://127.0.0.1:9", proxy_headers={"X": "a\r\nb"})


def test_connect_response_waits_for_a_body_that_ends_with_the_connection():
    # tinyproxy's refusals: no Content-Length, "Connection: close", the body
    # often in a later segment than the head.
    from websocket._proxy import ConnectResponse

    answer = ConnectResponse(parse_proxy_url("http://p:1"))
    assert answer.feed(b"HTTP/1.1 403 Access violation\r\nConnection: close\r\n\r\n") is False
    assert answer.feed(b"<html>no") is False
    with pytest.raises(ProxyError) as info:
        answer.feed(b"")
    assert (info.value.status, info.value.body) == (403, b"<html>no")
    # Without either, nothing more is awaited.
    answer = ConnectResponse(parse_proxy_url("http://p:1"))
    with pytest.raises(ProxyError) as info:
        answer.feed(b"HTTP/1.1 403 No\r\n\r\n")
    assert info.value.body == b""
    # A 2xx keeps what followed it for the tunnel.
    answer = ConnectResponse(parse_proxy_url("http://p:1"))
    assert answer.feed(b"HTTP/1.1 200 OK\r\n\r\nxyz") is True and answer.rest == b"xyz"


@pytest.mark.parametrize("kind", ["http", "socks5h"])
def test_wss_through_a_plain_proxy(ca, kind):
    # TLS to the server inside the tunnel: the proxy sees only ciphertext.
    with ws_server(ssl_context=server_context(ca, "localhost")) as secure:
        secure = secure.replace("127.0.0.1", "localhost")
        if kind == "http":
            proxy_cm = tinyproxy()
        else:
            proxy_cm = microsocks()
        with proxy_cm as proxy:
            if kind != "http":
                proxy = f"socks5h://{proxy[0]}:{proxy[1]}"
            with WsClient(secure + "/echo", proxy=proxy, ssl_context=client_context(ca), timeout=T) as ws:
                echo_once(ws)


@pytest.mark.parametrize("credential", ["proxy_headers", "proxy URL"])
def test_a_proxy_credential_goes_to_no_other_proxy_after_a_redirect(ca, clean_env, credential, tmp_path):
    """proxy=True: ws:// goes through HTTP_PROXY, wss:// through
    HTTPS_PROXY.  A ws:// server that redirects to wss:// on another host
    moves the connection to the other proxy: proxy A's Proxy-Authorization
    (given in proxy_headers, or from A's URL) is not sent to proxy B; the
    headers without credentials still are."""
    with ws_server(ssl_context=server_context(ca, "localhost")) as secure:
        secure_port = int(secure.rsplit(":", 1)[1])
        with ws_server() as plain:
            plain_port = int(plain.rsplit(":", 1)[1])
            target = f"wss://localhost:{secure_port}/echo"
            start = f"ws://127.0.0.1:{plain_port}/redirect?status=301&to={target.replace(':', '%3A').replace('/', '%2F')}"
            proxy_a = RawProxy(b"HTTP/1.1 200 OK\r\n\r\n", ("127.0.0.1", plain_port))
            proxy_b = RawProxy(b"HTTP/1.1 200 OK\r\n\r\n", ("127.0.0.1", secure_port))
            headers = {"X-Trace": "t1"}
            if credential == "proxy_headers":
                headers["Proxy-Authorization"] = "Basic YWxpY2U6YQ=="
                clean_env.setenv("HTTP_PROXY", proxy_a.url)
            else:
                clean_env.setenv("HTTP_PROXY", proxy_a.url.replace("http://", "http://alice:a@"))
            clean_env.setenv("HTTPS_PROXY", proxy_b.url)
            # ssl_context= is refused for a ws:// URL: the default context
            # trusts the test CA through SSL_CERT_FILE.
            ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
            clean_env.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
            with WsClient(start, proxy=True, proxy_headers=headers, timeout=T) as ws:
                assert ws.redirects == [(301, target)]
                echo_once(ws)
            proxy_a.close()
            proxy_b.close()
    first = proxy_a.head.decode().split("\r\n")
    second = proxy_b.head.decode().split("\r\n")
    assert first[0] == f"CONNECT 127.0.0.1:{plain_port} HTTP/1.1"
    assert "Proxy-Authorization: Basic YWxpY2U6YQ==" in first and "X-Trace: t1" in first
    assert second[0] == f"CONNECT localhost:{secure_port} HTTP/1.1"
    assert not [line for line in second if line.lower().startswith("proxy-authorization")], second
    assert "X-Trace: t1" in second


def test_a_socks5_reply_with_a_bound_name_that_is_not_utf8_is_a_proxy_error():
    """A SOCKS5 reply whose bound address is a domain name that is not
    UTF-8 (ATYP 3): a ProxyError naming the proxy, not a bare
    UnicodeDecodeError."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(T)
    port = listener.getsockname()[1]

    def proxy() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(T)
            conn.recv(16)  # greeting
            conn.sendall(b"\x05\x00")  # no authentication
            conn.recv(512)  # CONNECT request
            name = b"\xff\xfe\xfd"
            conn.sendall(b"\x05\x00\x00\x03" + bytes([len(name)]) + name + b"\x00\x50")
            conn.recv(16)

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    try:
        with pytest.raises(ProxyError, match="not UTF-8") as info:
            WsClient("ws://example.invalid/", proxy=f"socks5h://127.0.0.1:{port}", timeout=T)
        assert f"socks5h://127.0.0.1:{port}" in str(info.value)
    finally:
        thread.join(T)
        listener.close()


def test_timeout_bounds_a_socks_proxy_that_drips_its_reply():
    """``timeout`` bounds the whole opening, a SOCKS exchange included: a
    proxy that sends its reply one byte at a time, each well within the
    timeout, fails the connection by the deadline (a per-read timeout
    held it for the reply's length times ``timeout``)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(T)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def proxy() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(T)
            conn.recv(16)  # greeting
            conn.sendall(b"\x05\x00")
            conn.recv(512)  # CONNECT request
            name = b"n" * 255
            reply = b"\x05\x00\x00\x03" + bytes([len(name)]) + name + b"\x00\x50"
            for i in range(len(reply)):
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(reply[i : i + 1])
                except OSError:
                    return

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    try:
        start = time.monotonic()
        with pytest.raises(WebSocketTimeout) as info:
            WsClient("ws://example.invalid/", proxy=f"socks5h://127.0.0.1:{port}", timeout=0.8)
        took = time.monotonic() - start
        assert took < 0.8 + 1.5, f"timeout=0.8 took {took:.1f} s"
        assert "example.invalid" in str(info.value) and f"127.0.0.1:{port}" in str(info.value)
    finally:
        stop.set()
        thread.join(T)
        listener.close()


# -- the SOCKS exchange without I/O ------------------------------------------


def _exchange(url: str, address: str = "example.com", port: int = 443) -> SocksExchange:
    return SocksExchange(parse_proxy_url(url), address, port)


def test_socks4_and_4a_requests():
    ex = _exchange("socks4://u@p:1080", "10.1.2.3", 80)
    assert ex.output() == b"\x04\x01\x00\x50\x0a\x01\x02\x03u\0"
    assert not ex.feed(b"\0\x5a\0\0")
    assert ex.feed(b"\0\0\0\0") and ex.rest == b""
    ex = _exchange("socks4a://p:1080", "example.com", 80)
    assert ex.output() == b"\x04\x01\x00\x50\0\0\0\x01\0example.com\0"
    with pytest.raises(ProxyError, match=r"request rejected or failed \(91\)"):
        ex.feed(b"\0\x5b" + b"\0" * 6)
    with pytest.raises(ProxyError, match="IPv6 address ::1: use socks5"):
        _exchange("socks4://p:1080", "::1")


def test_socks5_with_authentication_step_by_step():
    ex = _exchange("socks5h://us%C3%A9r:pw@p:1080", "example.com", 443)
    assert ex.output() == b"\x05\x02\x00\x02"
    assert not ex.feed(b"\x05") and ex.output() == b""
    assert not ex.feed(b"\x02")
    assert ex.output() == b"\x01\x05us\xc3\xa9r\x02pw"
    assert not ex.feed(b"\x01\x00")
    assert ex.output() == b"\x05\x01\x00\x03\x0bexample.com\x01\xbb"
    # The reply, its bound IPv6 address, then a byte of the tunnel.
    assert ex.feed(b"\x05\x00\x00\x04" + bytes(16) + b"\x00\x01" + b"X")
    assert ex.rest == b"X"


@pytest.mark.parametrize(
    ("replies", "match"),
    [
        ([b"\x05\xff"], "accepts none of the offered authentication methods: it may need"),
        ([b"\x04\x00"], r"not a SOCKS 5 reply: b'\\x04\\x00'"),
        ([b"\x05\x02"], "chose a method that was not offered: 2"),
        ([b"\x05\x00", b"\x05\x05\x00\x01\0"], r"refused: connection refused \(5\)"),
        ([b"\x05\x00", b"\x05\x00\x00\x07\0"], "not a SOCKS 5 reply"),
        ([b"\x05\x00", b"\x05\x00\x00"], "connection closed during the SOCKS exchange after 3 bytes"),
    ],
)
def test_socks5_refusals_and_malformed_replies(replies, match):
    ex = _exchange("socks5://p:1080")
    ex.output()
    with pytest.raises(ProxyError, match=match) as info:
        for reply in replies:
            ex.feed(reply)
        ex.feed(b"")
    assert info.value.proxy == "socks5://p:1080"


def test_socks5_fields_too_long_are_named():
    with pytest.raises(ProxyError, match="SOCKS host name 'xxx"):
        _exchange("socks5h://p:1080", "x" * 256)
    with pytest.raises(ProxyError, match="SOCKS password must be 0 to 255 bytes") as info:
        _exchange(f"socks5://u:{'s' * 256}@p:1080")
    assert "sss" not in str(info.value)
