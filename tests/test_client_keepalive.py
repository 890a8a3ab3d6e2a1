"""Keepalive, ping() waiters and latency on WsClient, against the websockets
server and scripted peers that answer pings, stay silent, or keep talking."""

from __future__ import annotations

import struct
import threading
import time

import pytest

from websocket import ConnectionClosed, WebSocketTimeout, WsClient

from .servers import RawPeer, T, frames_until_eof, server_frame, ws_server


def test_keepalive_pings_a_silent_connection_and_measures_latency():
    with ws_server() as url, WsClient(url + "/echo", ping_interval=0.1, ping_timeout=T, timeout=T) as ws:
        assert ws.latency is None
        with pytest.raises(WebSocketTimeout):
            ws.receive(timeout=0.5)  # nothing to receive; pings go out meanwhile
        assert ws.ready_state() == "open"
        # The websockets server answered the pings; their pongs are consumed
        # (the caller sent no ping), their round trip measured.
        assert ws.latency is not None and 0 < ws.latency < T
        ws.send("still fine")
        assert ws.receive(timeout=T) == {"type": "text", "data": "still fine"}
        # A pong to the caller's own ping is returned, as before.
        ws.ping(b"mine")
        assert ws.receive(timeout=T) == {"type": "pong", "data": b"mine"}


def test_missing_pong_fails_with_1011_in_bounded_time():
    def script(peer):
        peer.accept()
        global received
        received = frames_until_eof(peer, answer_close=False)  # never pongs

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, ping_interval=0.2, ping_timeout=0.3, timeout=T, close_timeout=1)
        start = time.monotonic()
        with pytest.raises(ConnectionClosed) as info:
            ws.receive()  # no timeout: keepalive alone ends the wait
        took = time.monotonic() - start
    assert info.value.code == 1011 and "keepalive ping timeout" in info.value.reason
    assert 0.45 < took < 0.5 + T
    assert ws.ready_state() == "closed"
    opcodes = [f["opcode"] for f in received]
    assert opcodes[0] == 9 and opcodes[-1] == 8
    assert struct.unpack("!H", received[-1]["payload"][:2])[0] == 1011
    with pytest.raises(ConnectionClosed):
        ws.send("late")


@pytest.mark.parametrize("timeout", [T, None])
def test_no_ping_while_data_flows(timeout):
    # timeout None: receive()'s fast path reads, bounded by the keepalive
    # decision; the bytes it reads count as received all the same.
    done = threading.Event()

    def script(peer):
        peer.accept()
        for i in range(12):  # a message every 50 ms for 0.6 s
            peer.send(server_frame(2, bytes([i])))
            time.sleep(0.05)
        done.set()
        global received
        received = frames_until_eof(peer)

    with RawPeer(script) as peer:
        with WsClient(peer.url, ping_interval=0.3, timeout=T) as ws:
            got = [ws.receive(timeout=timeout)["data"] for _ in range(12)]
            assert done.wait(T)
    assert got == [bytes([i]) for i in range(12)]
    assert [f["opcode"] for f in received] == [8]  # the close, and no ping


def test_ping_returns_a_waiter_set_by_the_receiving_thread():
    with ws_server() as url, WsClient(url + "/echo", timeout=T) as ws:
        pongs = []

        def receiver():
            try:
                while True:
                    msg = ws.receive()
                    if msg["type"] == "pong":
                        pongs.append(msg["data"])
            except ConnectionClosed:
                pass

        thread = threading.Thread(target=receiver)
        thread.start()
        waiters = [ws.ping(f"p{i}") for i in range(3)]
        assert all(w.wait(T) for w in waiters)
        assert ws.latency is not None and ws.latency > 0
        ws.close()
        thread.join(T)
    assert pongs == [b"p0", b"p1", b"p2"]


def test_ping_waiter_without_a_receiver_is_not_set():
    with ws_server() as url, WsClient(url + "/echo", timeout=T) as ws:
        waiter = ws.ping(b"x")
        assert not waiter.wait(0.2)  # pongs are only read by receive()
        assert ws.receive(timeout=T) == {"type": "pong", "data": b"x"}
        assert waiter.is_set()


def test_keepalive_with_no_pong_limit_keeps_waiting():
    def script(peer):
        peer.accept()
        assert peer.recv_frame()["opcode"] == 9  # one ping, left unanswered
        time.sleep(0.4)
        peer.send(server_frame(1, "late but fine"))
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        with WsClient(peer.url, ping_interval=0.1, ping_timeout=None, timeout=T) as ws:
            assert ws.receive(timeout=T) == {"type": "text", "data": "late but fine"}
            assert ws.ready_state() == "open"


@pytest.mark.parametrize("kwargs", [{"ping_interval": 0}, {"ping_interval": -1}, {"ping_timeout": "1"}])
def test_bad_keepalive_options(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        WsClient("ws://127.0.0.1:9/", **kwargs)


@pytest.mark.parametrize("how", ["receive()", "receive(timeout=8)", "for msg in ws"])
def test_a_dead_peer_fails_at_once_without_waiting_for_its_close(how):
    """A peer that went silent (reads nothing, answers nothing, keeps TCP
    open) answers no close frame either: the 1011 close is sent without
    waiting for a reply and TCP ends, well within close_timeout, and a
    ``for`` loop raises ConnectionClosed(1011) instead of ending as after a
    clean close."""
    release = threading.Event()

    def script(peer):
        peer.accept()
        release.wait(6 * T)  # silent until the test is done

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, ping_interval=0.2, ping_timeout=0.5, timeout=T, close_timeout=6 * T)
        start = time.monotonic()
        try:
            with pytest.raises(ConnectionClosed) as info:
                if how == "receive()":
                    ws.receive()
                elif how == "receive(timeout=8)":
                    ws.receive(timeout=8 * T)
                else:
                    for _ in ws:
                        pass
            took = time.monotonic() - start
        finally:
            release.set()
    assert info.value.code == 1011 and "keepalive ping timeout" in info.value.reason
    assert took < 2 * T, f"took {took:.1f} s: it waited for the dead peer's close"
    assert ws.ready_state() == "closed"
    with pytest.raises(ConnectionClosed):
        next(iter(ws))  # iteration after the failure raises too
