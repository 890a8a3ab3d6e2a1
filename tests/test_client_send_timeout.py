"""Send timeouts: a server that stops reading makes send(), send_many(),
ping() and close() raise WebSocketTimeout (or return, for close) in bounded
time, instead of blocking for ever.  A frame not started leaves the
connection usable; a frame partly written fails it.  The peer checks that
every frame it finally reads is whole."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from websocket import ConnectionClosed, WebSocketTimeout, WsClient

from .servers import RawPeer, T, frames_until_eof

SMALL_BUFFERS = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)]


class StalledPeer(RawPeer):
    """A peer that accepts, reads nothing until :attr:`resume` is set, then
    reads every frame until EOF into :attr:`frames` (plus any bytes of a
    frame left incomplete in :attr:`leftover`)."""

    def __init__(self) -> None:
        self.resume = threading.Event()
        self.frames: list[dict] = []
        super().__init__(self._script)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)

    def _script(self, peer: RawPeer) -> None:
        peer.accept()
        assert self.resume.wait(4 * T)
        self.frames = frames_until_eof(peer)
        self.leftover = bytes(peer._buf)


def until_timeout(call, sent: list, frame: tuple[int, bytes], limit: float) -> None:
    """Call until it times out (the buffers are full), recording in
    ``sent`` the frame of each call that went out."""
    deadline = time.monotonic() + T
    while time.monotonic() < deadline:
        try:
            call()
        except WebSocketTimeout as exc:
            assert f"timed out after {limit} s: the server is not reading" in str(exc)
            assert "nothing was written and the connection is still usable" in str(exc)
            return
        sent.append(frame)
    raise AssertionError("the buffers never filled")


def fill(ws: WsClient) -> list:
    sent: list = []
    until_timeout(lambda: ws.send(b"f" * 1024, timeout=0.2), sent, (2, b"f" * 1024), 0.2)
    return sent


def test_a_frame_not_started_leaves_the_connection_usable():
    with StalledPeer() as peer:
        ws = WsClient(peer.url, socket_options=SMALL_BUFFERS, timeout=T)
        sent = fill(ws)
        assert ws.ready_state() == "open"
        # Every sending call times out before its frame starts, and the
        # connection stays usable (the buffers drain a little over time,
        # so each is called until it times out).
        for call, frame in (
            (lambda: ws.send("text", timeout=0.1), (1, b"text")),
            (lambda: ws.send_binary(b"bin", timeout=0.1), (2, b"bin")),
            (lambda: ws.ping(b"p", timeout=0.1), (9, b"p")),
            (lambda: ws.pong(b"q", timeout=0.1), (10, b"q")),
            (lambda: ws.send_many([b"m"], timeout=0.1), (2, b"m")),
        ):
            until_timeout(call, sent, frame, 0.1)
            assert ws.ready_state() == "open"
        peer.resume.set()  # the server reads again: the connection goes on
        ws.send("after", timeout=T)
        ws.close()
    got = [(f["opcode"], f["payload"]) for f in peer.frames]
    assert got[:-1] == [*sent, (1, b"after")]  # whole, in order, nothing else
    assert got[-1][0] == 8
    assert peer.leftover == b""


def test_a_frame_partly_written_fails_the_connection():
    with StalledPeer() as peer:
        ws = WsClient(peer.url, socket_options=SMALL_BUFFERS, timeout=T, close_timeout=1)
        start = time.monotonic()
        with pytest.raises(WebSocketTimeout, match="partly written.*closed \\(1006\\)"):
            ws.send(b"x" * (8 << 20), timeout=0.3)
        assert time.monotonic() - start < 0.3 + T
        assert ws.ready_state() == "closed"
        with pytest.raises(ConnectionClosed) as info:
            ws.send("more")
        assert info.value.code == 1006
        peer.resume.set()
    # What reached the peer is the start of that frame and nothing else.
    assert peer.frames == []
    assert 0 < len(peer.leftover) < (8 << 20)


def test_connection_wide_send_timeout():
    with StalledPeer() as peer:
        ws = WsClient(peer.url, socket_options=SMALL_BUFFERS, send_timeout=0.2, timeout=T, close_timeout=1)
        start = time.monotonic()
        with pytest.raises(WebSocketTimeout, match="send\\(\\) timed out after 0.2 s"):
            for _ in range(100_000):
                ws.send(b"y" * 1024)  # no per-call timeout: send_timeout applies
        assert time.monotonic() - start < T
        # A per-call timeout overrides it.
        until_timeout(lambda: ws.send(b"z", timeout=0.05), [], (2, b"z"), 0.05)
        peer.resume.set()
        ws.close()


def test_close_with_a_full_buffer_is_bounded_by_close_timeout():
    with StalledPeer() as peer:
        ws = WsClient(peer.url, socket_options=SMALL_BUFFERS, timeout=T, close_timeout=0.3)
        fill(ws)
        start = time.monotonic()
        ws.close()  # the close frame cannot be written: TCP is ended instead
        assert time.monotonic() - start < 0.3 + T
        assert ws.ready_state() == "closed"
        peer.resume.set()


def test_close_timeout_argument_overrides_the_option():
    with StalledPeer() as peer:
        ws = WsClient(peer.url, socket_options=SMALL_BUFFERS, timeout=T, close_timeout=60)
        fill(ws)
        start = time.monotonic()
        ws.close(timeout=0.2)
        assert time.monotonic() - start < 0.2 + T / 2
        assert ws.ready_state() == "closed"
        peer.resume.set()
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        ws.close(timeout=-1)


def test_waiting_for_another_sender_counts_against_the_timeout():
    with StalledPeer() as peer:
        ws = WsClient(peer.url, socket_options=SMALL_BUFFERS, timeout=T)
        big = threading.Thread(target=ws.send, args=(b"B" * (4 << 20),))  # no timeout: blocks
        big.start()
        time.sleep(0.2)
        with pytest.raises(WebSocketTimeout, match="nothing was written"):
            ws.send("queued behind", timeout=0.2)
        assert ws.ready_state() == "open"
        peer.resume.set()
        big.join(T)
        ws.send("after")
        ws.close()
    assert [(f["opcode"], len(f["payload"])) for f in peer.frames] == [(2, 4 << 20), (1, 5), (8, 2)]


@pytest.mark.parametrize("value, error", [(-1, ValueError), ("1", TypeError), (float("nan"), ValueError)])
def test_bad_timeouts(value, error):
    with pytest.raises(error, match="send_timeout"):
        WsClient("ws://127.0.0.1:9/", send_timeout=value)
