"""WsClient under threads, signals and races, against real peers.

The acceptance tests of the one-protocol redesign: each of these failed on
the previous shell (TLS driven by two threads at once, close races, replies
that waited on a blocked sender, a signal that left half a frame on the
wire).  The whole suite runs once compiled and once pure, so each runs on
both implementations.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import ssl
import sys
import threading
import time

import pytest
import trustme

from websocket import ConnectionClosed, IncompleteFrame, WsClient, decode_frame, parse_close_frame

from .servers import RawPeer, T, aiohttp_server, frames_until_eof, server_frame, ws_server


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def contexts(ca, tls: str | None):
    """(server context, client context) for "1.2", "1.3", or (None, None)."""
    if tls is None:
        return None, None
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    version = ssl.TLSVersion.TLSv1_2 if tls == "1.2" else ssl.TLSVersion.TLSv1_3
    server.minimum_version = server.maximum_version = version
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


SERVERS = {"websockets": ws_server, "aiohttp": aiohttp_server}


def run_threads(*targets) -> list[BaseException]:
    """Run each target in a thread, join them (bounded); their exceptions."""
    errors: list[BaseException] = []

    def wrap(target):
        def run():
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(4 * T)
        assert not t.is_alive(), "a thread did not finish: deadlock"
    return errors


@pytest.mark.parametrize("server", sorted(SERVERS))
@pytest.mark.parametrize("tls", ["1.2", "1.3"])
def test_tls_send_while_another_thread_receives(ca, server, tls):
    # Two threads on one TLS connection: the old shell drove one OpenSSL
    # object from both and failed at random with 1006.
    server_ctx, client_ctx = contexts(ca, tls)
    sizes = itertools.cycle([64, 1000, 16384, 70000])
    with SERVERS[server](ssl_context=server_ctx) as base:
        with WsClient(f"{base}/echo", timeout=T, ssl_context=client_ctx) as ws:
            sent: list[bytes] = []
            got: list[bytes] = []

            def sender():
                end = time.monotonic() + 1.0
                i = 0
                while time.monotonic() < end:
                    msg = i.to_bytes(4, "big") * (next(sizes) // 4)
                    ws.send(msg)
                    sent.append(msg)
                    i += 1
                ws.send("end")

            def receiver():
                while (msg := ws.receive(timeout=T))["data"] != "end":
                    got.append(msg["data"])

            assert run_threads(sender, receiver) == []
            assert got == sent and len(sent) > 10
            assert ws.ready_state() == "open"


@pytest.mark.parametrize("tls", [None, "1.3"])
@pytest.mark.parametrize("run", range(20))
def test_senders_receiver_and_closer(ca, tls, run):
    # Several senders, one receiver, one closer against the websockets
    # server, which checks every frame: interleaved frames would make it
    # close with 1002; the close must be ours (1000), exactly once.
    server_ctx, client_ctx = contexts(ca, tls)
    with ws_server(ssl_context=server_ctx) as base:
        ws = WsClient(f"{base}/echo", timeout=T, close_timeout=T, ssl_context=client_ctx)
        sent: dict[int, list[bytes]] = {k: [] for k in range(3)}
        got: list[bytes] = []
        ended: list[ConnectionClosed] = []
        started = time.monotonic()

        def sender(k):
            def run_sender():
                try:
                    for i in range(300):
                        msg = bytes([k]) + i.to_bytes(4, "big") * (1 + (i * 37) % 4000)
                        ws.send(msg)
                        sent[k].append(msg)
                        if i % 50 == 0:
                            ws.ping(b"%d" % k)
                except ConnectionClosed:
                    pass  # the closer won: later sends must raise this

            return run_sender

        def receiver():
            try:
                while True:
                    msg = ws.receive(timeout=T)
                    if msg["type"] == "binary":
                        got.append(msg["data"])
            except ConnectionClosed as exc:
                ended.append(exc)

        def closer():
            time.sleep(0.02 + 0.01 * (run % 5))
            ws.close(1000, "enough")

        assert run_threads(sender(0), sender(1), sender(2), receiver, closer) == []
        assert time.monotonic() - started < 3 * T
        assert ws.ready_state() == "closed"
        assert ended and ended[0].sent_code == 1000
        assert ended[0].code in (1000, 1006)  # the server's answer, or none in time
        assert ended[0].code != 1002
        # Every echo is a message some sender sent, and each sender's
        # messages come back in order.
        for k in range(3):
            mine = [m for m in got if m[0] == k]
            assert mine == sent[k][: len(mine)]


def close_race(first: bytes, code: int = 1000) -> list[int]:
    """The server sends ``first`` (ending with its close frame) while the
    application calls close() and another thread receives; the opcodes of
    every frame the client sent."""
    result = {}

    def script(peer):
        peer.accept()
        peer.send(first)
        result["frames"] = frames_until_eof(peer, answer_close=False)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=T)

        def receive():
            with contextlib.suppress(ConnectionClosed):
                while True:
                    ws.receive(timeout=T)

        assert run_threads(receive, lambda: ws.close(code)) == []
    return [f["opcode"] for f in result["frames"]]


def test_close_race_sends_exactly_one_close_frame():
    # The server closes while the application calls close() and another
    # thread receives: exactly one close frame from us, and nothing after.
    for i in range(200):
        opcodes = close_race(server_frame(8, b"\x03\xe8"), 1000 if i % 2 else 4000)
        assert opcodes == [8], (i, opcodes)


@pytest.fixture
def tiny_switch_interval():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def test_close_race_with_a_tiny_switch_interval(tiny_switch_interval):
    # The same race with a thread switch every microsecond: the pure twin
    # once sent two close frames here, or none; a pong, if any, goes first.
    for _ in range(30):
        opcodes = close_race(server_frame(9, b"p") + server_frame(8, b"\x03\xe8"))
        assert opcodes in ([8], [10, 8]), opcodes


def blocked_sender(ws, errors):
    """A thread stuck in send(): the server does not read."""

    def run():
        try:
            ws.send(b"\x00" * (64 << 20))
        except ConnectionClosed as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)  # let it fill the socket buffers and block
    return thread


def test_ping_reply_never_makes_receive_wait_on_a_blocked_sender():
    def script(peer):
        peer.accept()
        time.sleep(0.5)
        peer.send(server_frame(9, b"are you there"))
        time.sleep(2.0)  # still not reading
        peer.recv_until_eof()

    errors: list[BaseException] = []
    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=0.5)
        thread = blocked_sender(ws, errors)
        start = time.monotonic()
        assert ws.receive(timeout=2) == {"type": "ping", "data": b"are you there"}
        assert time.monotonic() - start < 1.5  # the ping came at once; no wait on the sender
        ws.close()  # the send lock cannot be had in close_timeout: abort
        thread.join(T)
        assert not thread.is_alive() and errors  # the stuck sender was woken
    assert ws.ready_state() == "closed"


def test_close_from_server_with_a_blocked_sender_is_bounded_by_the_receive_timeout():
    def script(peer):
        peer.accept()
        time.sleep(0.5)
        peer.send(server_frame(8, b"\x03\xe8"))
        time.sleep(3.0)
        peer.recv_until_eof()

    errors: list[BaseException] = []
    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=10)
        thread = blocked_sender(ws, errors)
        start = time.monotonic()
        msg = ws.receive(timeout=1)
        assert msg["type"] == "close" and msg["code"] == 1000
        assert time.monotonic() - start < 1.8  # not close_timeout (10 s)
        thread.join(T)
        assert not thread.is_alive()
    assert ws.ready_state() == "closed"


def test_receive_timeout_bounds_the_wait_for_the_servers_eof():
    # The server answers nothing after its close frame and keeps TCP open:
    # receive(timeout=1) returns the close within about a second, not
    # close_timeout.
    def script(peer):
        peer.accept()
        peer.send(server_frame(8, b"\x03\xe8"))
        peer.recv_frame()  # our reply
        time.sleep(2.5)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=10)
        start = time.monotonic()
        assert ws.receive(timeout=1)["type"] == "close"
        assert time.monotonic() - start < 1.8
        assert ws.ready_state() == "closed"


class Interrupted(Exception):
    pass


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer (POSIX)")
def test_signal_during_a_big_send_fails_the_connection():
    # A handler that raises while send() is blocked mid-frame: the frame is
    # half on the wire, so the connection fails (1006) and nothing more,
    # not even a close frame, is written after the broken frame.
    result = {}

    def script(peer):
        peer.accept()
        time.sleep(1.5)  # not reading: the client's send blocks
        result["data"] = peer.recv_until_eof()

    def handler(signum, frame):
        raise Interrupted

    size = 48 << 20
    old = signal.signal(signal.SIGALRM, handler)
    try:
        with RawPeer(script) as peer:
            ws = WsClient(peer.url, timeout=T, close_timeout=T)
            # Late enough that the frame is encoded (the pure twin masks
            # 48 MiB first) and its write blocked.
            signal.setitimer(signal.ITIMER_REAL, 1.0)
            with pytest.raises(Interrupted):
                ws.send(b"\x01" * size)
            assert ws.ready_state() == "closed"
            with pytest.raises(ConnectionClosed) as info:
                ws.send(b"more")
            assert info.value.code == 1006
            ws.close()  # idempotent, sends nothing
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    data = result["data"]
    assert 0 < len(data) < size
    with pytest.raises(IncompleteFrame):
        decode_frame(data)  # one broken frame, nothing appended to it


def test_signal_before_a_frame_starts_leaves_the_connection_usable():
    # A handler raising while send() waits for the send lock: no byte of
    # the frame went out, so the connection stays open.
    def handler(signum, frame):
        raise Interrupted

    with ws_server() as base:
        with WsClient(f"{base}/echo", timeout=T) as ws:
            old = signal.signal(signal.SIGALRM, handler)
            ws._send_lock.acquire()  # as if another thread were sending
            try:
                signal.setitimer(signal.ITIMER_REAL, 0.2)
                with pytest.raises(Interrupted):
                    ws.send(b"never started")
            finally:
                ws._send_lock.release()
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
            assert ws.ready_state() == "open"
            ws.send("still fine")
            assert ws.receive(timeout=T)["data"] == "still fine"


def test_send_many_iterable_may_call_ping():
    with ws_server() as base:
        with WsClient(f"{base}/echo", timeout=T) as ws:

            def items():
                yield b"a"
                ws.ping(b"inside")  # used to deadlock on the send lock
                yield b"b"

            errors = run_threads(lambda: ws.send_many(items()))
            assert errors == []
            got = [ws.receive(timeout=T) for _ in range(3)]
            assert {"type": "pong", "data": b"inside"} in got
            assert [m["data"] for m in got if m["type"] == "binary"] == [b"a", b"b"]


def test_message_too_big_is_reported_as_our_1009_afterwards():
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(2, b"x" * 2000))
        result["frames"] = frames_until_eof(peer, answer_close=False)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=1, max_size=1000)
        with pytest.raises(Exception, match="2000 bytes exceeds max_size 1000"):
            ws.receive(timeout=T)
        with pytest.raises(ConnectionClosed) as info:
            ws.receive(timeout=T)
        assert (info.value.code, info.value.sent_code) == (1009, 1009)
        assert "exceeds max_size 1000" in info.value.reason
        assert "1009" in str(info.value)
    (close,) = result["frames"]
    assert parse_close_frame(close["payload"])["code"] == 1009
