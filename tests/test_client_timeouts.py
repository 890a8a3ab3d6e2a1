"""Timeouts on the receive paths: ``timeout=0`` means "what is there now"."""

from __future__ import annotations

import select

import pytest
import trustme

import websocket
from websocket import WebSocketTimeout, WsClient

from .servers import RawPeer, T, client_context, frames_until_eof, server_context, server_frame


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def _receive_now(ws, path: str):
    """One message through ``path`` with timeout 0: its type and bytes."""
    if path == "receive":
        msg = ws.receive(timeout=0)
        return msg["type"], msg["data"]
    if path == "receive_into":
        buffer = bytearray(64)
        n, kind = ws.receive_into(buffer, timeout=0)
        return kind, bytes(buffer[:n])
    if path == "receive_streaming":
        stream = ws.receive_streaming(timeout=0)
        return stream.type, b"".join(stream)
    assert path == "compat"
    return "binary", ws.recv()


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
@pytest.mark.parametrize("path", ["receive", "receive_into", "receive_streaming", "compat"])
def test_timeout_zero_reads_what_the_kernel_holds(ca, tls, path):
    """A message waiting in the kernel is returned by a receive with
    timeout 0 (it used to time out before looking); with nothing there it
    raises WebSocketTimeout at once, and the connection goes on."""

    def script(peer):
        peer.accept()
        for i in range(3):
            assert peer.recv_frame()["payload"] == b"next"  # one at a time
            peer.send(server_frame(2, b"message %d" % i))
        frames_until_eof(peer)

    context = server_context(ca, "127.0.0.1") if tls else None
    with RawPeer(script, ssl_context=context) as peer:
        options = {"ssl_context": client_context(ca)} if tls else {}
        if path == "compat":
            ws = websocket.create_connection(peer.url, timeout=T, **({"sslopt": {"context": options["ssl_context"]}} if tls else {}))
            ws.settimeout(0)
            client = ws.ws
        else:
            ws = client = WsClient(peer.url, timeout=T, **options)
        for i in range(3):
            client.send(b"next")
            assert select.select([client._sock], [], [], T)[0], "the message did not arrive"
            assert _receive_now(ws, path) == ("binary", b"message %d" % i)
            with pytest.raises(WebSocketTimeout):
                _receive_now(ws, path)  # nothing more yet
        ws.close()
