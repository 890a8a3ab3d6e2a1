"""Other transports: Unix domain sockets, a socket the caller connected,
socket options applied before connecting, and server_hostname for TLS."""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
import threading

import pytest
import trustme
from websockets.sync.server import unix_serve

from websocket import HandshakeError, WsClient

from .servers import T, client_context, dispatch, process_request, server_context, ws_server


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def echo(ws: WsClient) -> None:
    for message in ("over the transport", b"\x00" * 70000):
        ws.send(message)
        assert ws.receive(timeout=T)["data"] == message


@pytest.fixture
def unix_server():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ws.sock")
        with unix_serve(dispatch, path, process_request=process_request) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield path
            finally:
                server.shutdown()
                thread.join(T)


def test_unix_socket(unix_server):
    with WsClient("ws://localhost/headers", unix_socket=unix_server, timeout=T) as ws:
        assert '"Host": "localhost"' in ws.receive(timeout=T)["data"]
        echo(ws)
    assert ws.ready_state() == "closed"


def test_unix_socket_does_not_follow_redirects(unix_server):
    with pytest.raises(HandshakeError, match="not followed: the connection was given"):
        WsClient("ws://localhost/redirect?to=%2Fecho", unix_socket=unix_server, timeout=T)


def test_unix_socket_missing_path():
    with pytest.raises(FileNotFoundError):
        WsClient("ws://localhost/", unix_socket="/nonexistent/ws.sock", timeout=T)


def test_a_socket_the_caller_connected():
    with ws_server() as url:
        host, port = url.removeprefix("ws://").rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=T)
        with WsClient(url + "/echo", sock=sock, timeout=T) as ws:
            echo(ws)
        assert sock.fileno() == -1  # closed with the connection


def test_socketpair_with_a_tls_server(ca):
    # wss:// over a socket given by the caller: TLS runs on it as on TCP.
    with ws_server(ssl_context=server_context(ca, "example.test")) as url:
        port = int(url.rsplit(":", 1)[1])
        sock = socket.create_connection(("127.0.0.1", port), timeout=T)
        with WsClient("wss://example.test/echo", sock=sock, ssl_context=client_context(ca), timeout=T) as ws:
            echo(ws)


def test_socket_options_are_applied_before_connecting():
    options = [
        (socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20),
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    ]
    with ws_server() as url, WsClient(url + "/echo", socket_options=options, timeout=T) as ws:
        sock = ws._sock
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 1 << 20  # Linux doubles it
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1  # still ours
        echo(ws)


@pytest.mark.parametrize(
    "options, error, message",
    [
        ([(1, 2)], TypeError, "socket_options items must be"),
        ([("a", 1, 1)], TypeError, "socket_options items must be"),
        ([(socket.SOL_SOCKET, socket.SO_RCVBUF, "big")], TypeError, "socket_options items must be"),
        (42, TypeError, "socket_options must be an iterable"),
    ],
)
def test_bad_socket_options(options, error, message):
    with pytest.raises(error, match=message):
        WsClient("ws://127.0.0.1:9/", socket_options=options)


def test_socket_option_the_os_refuses_names_it():
    with ws_server() as url:
        with pytest.raises(OSError, match=r"socket option \(1, 99999, 1\)"):
            WsClient(url + "/echo", socket_options=[(socket.SOL_SOCKET, 99999, 1)], timeout=T)


def test_server_hostname_for_tls(ca):
    seen: list[str] = []
    trust = client_context(ca)
    with ws_server(ssl_context=server_context(ca, "feed.example.test", seen=seen)) as url:
        # Connect to 127.0.0.1, verify (and send SNI) for another name.
        with WsClient(url + "/echo", ssl_context=trust, server_hostname="feed.example.test", timeout=T) as ws:
            echo(ws)
        assert seen == ["feed.example.test"]
        with pytest.raises(ssl.SSLCertVerificationError):
            WsClient(url + "/echo", ssl_context=trust, timeout=T)


def test_transport_option_conflicts():
    with pytest.raises(ValueError, match="not a wss:// URL"):
        WsClient("ws://127.0.0.1:9/", server_hostname="x")
    with pytest.raises(TypeError, match="sock must be a socket.socket"):
        WsClient("ws://127.0.0.1:9/", sock=3)  # type: ignore[arg-type]
    with socket.socket() as sock:
        with pytest.raises(ValueError, match="either sock= or unix_socket="):
            WsClient("ws://127.0.0.1:9/", sock=sock, unix_socket="/tmp/x")
        with pytest.raises(ValueError, match="proxy= cannot be used with sock="):
            WsClient("ws://127.0.0.1:9/", sock=sock, proxy="http://127.0.0.1:1")
    with pytest.raises(TypeError, match="unix_socket must be a path"):
        WsClient("ws://127.0.0.1:9/", unix_socket=3)  # type: ignore[arg-type]
