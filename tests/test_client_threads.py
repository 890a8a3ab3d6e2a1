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

from websocket import (
    ConcurrencyError,
    ConnectionClosed,
    IncompleteFrame,
    WsClient,
    decode_frame,
    parse_close_frame,
)

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


@pytest.mark.parametrize("server", sorted(SERVERS))
@pytest.mark.parametrize("tls", [None, "1.3"])
def test_compressing_senders_keep_the_deflate_stream_whole(ca, server, tls):
    """Three threads send compressed messages at once: each send() takes
    the fast path (send_ready compresses under the send lock) or, when the
    lock is busy, the shell's full path.  One compressor, one stream:
    frames must leave in the compressor's order, or the server's inflate
    fails (1007/1002) and messages go missing."""
    server_ctx, client_ctx = contexts(ca, tls)
    options = {"compress": True} if server == "aiohttp" else {}  # websockets: deflate by default
    with SERVERS[server](ssl_context=server_ctx, **options) as base:
        with WsClient(f"{base}/echo", timeout=T, ssl_context=client_ctx, compression="deflate") as ws:
            assert ws.compression == "deflate"
            got: list = []

            def sender(k: int):
                def run():
                    for i in range(300):
                        text = f"{k}:{i}:" + "abc" * (i % 50)
                        ws.send(text if i % 2 else text.encode())
                return run

            def receiver():
                while len(got) < 900:
                    got.append(ws.receive(timeout=T)["data"])

            assert run_threads(sender(0), sender(1), sender(2), receiver) == []
            texts = sorted(m if isinstance(m, str) else m.decode() for m in got)
            want = sorted(f"{k}:{i}:" + "abc" * (i % 50) for k in range(3) for i in range(300))
            assert texts == want
            assert ws.ready_state() == "open"


def receiver_and_closer(ws, got: list, ended: list, delay: float):
    """A receiver thread's target (binary messages to ``got``, the closing
    ConnectionClosed to ``ended``) and a closer's (close(1000) after
    ``delay`` seconds)."""

    def receiver():
        try:
            while True:
                msg = ws.receive(timeout=T)
                if msg["type"] == "binary":
                    got.append(msg["data"])
        except ConnectionClosed as exc:
            ended.append(exc)

    def closer():
        time.sleep(delay)
        ws.close(1000, "enough")

    return receiver, closer


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

        receiver, closer = receiver_and_closer(ws, got, ended, 0.02 + 0.01 * (run % 5))
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


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer (POSIX)")
def test_close_after_a_signal_interrupted_a_tls_send_returns(ca):
    # A handler that raises while a big frame is being encrypted: CPython's
    # ssl runs it after SSL_write put the record in the outgoing buffer, so
    # the connection fails (part of the frame is in the stream).  close()
    # then used to spin at full CPU for ever, waiting to flush TLS output
    # to the socket it had closed.  Whatever point the signal hits, close()
    # and a with block's exit return within their timeout.
    server_ctx, client_ctx = contexts(ca, "1.3")
    size = 64 << 20

    def script(peer):
        peer.accept()
        frames_until_eof(peer)

    def handler(signum, frame):
        raise Interrupted

    old = signal.signal(signal.SIGALRM, handler)
    try:
        for delay in (0.002, 0.01, 0.03):
            with RawPeer(script, ssl_context=server_ctx) as peer:
                ws = WsClient(peer.url, timeout=T, close_timeout=1, ssl_context=client_ctx)
                signal.setitimer(signal.ITIMER_REAL, delay)
                with contextlib.suppress(Interrupted):
                    ws.send(b"\x05" * size)
                signal.setitimer(signal.ITIMER_REAL, 0)
                closer = threading.Thread(target=ws.close, kwargs={"timeout": 1}, daemon=True)
                closer.start()
                closer.join(T)
                assert not closer.is_alive(), f"close() still running {T} s later (signal after {delay} s)"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


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


@pytest.mark.parametrize("tls", [None, "1.3"], ids=["tcp", "tls"])
def test_a_signal_after_send_returned_leaves_another_threads_send_alone(ca, tls):
    # A handler raising in the main thread just as its send() returned (the
    # frame out, the lock released) while another thread's send() now holds
    # the lock mid-frame: the main thread's send raises, and the other
    # thread's frame, its lock and the connection are left alone.  The fast
    # path used to judge by a flag the other thread had set: it took the
    # other frame for its own, half written, and failed the connection.
    server_ctx, client_ctx = contexts(ca, tls)
    size = 8 << 20
    reading = threading.Event()
    result = {}

    def script(peer):
        peer.accept()
        reading.wait(T)  # not reading: the other thread's send blocks
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script, ssl_context=server_ctx) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=T, ssl_context=client_ctx)
        real = ws._send_data
        errors: list[BaseException] = []

        def send_big():
            try:
                ws.send(b"\x02" * size)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                errors.append(exc)

        other = threading.Thread(target=send_big, daemon=True)

        def send_data_then_a_signal(opcode, message, compress, timeout):
            if threading.current_thread() is other:
                return real(opcode, message, compress, timeout)
            sent = real(opcode, message, compress, timeout)
            assert sent == 1 and not ws._send_lock.locked()
            other.start()
            deadline = time.monotonic() + T
            while not ws._send_lock.locked() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # blocked in its write, the lock held
            assert ws._send_lock.locked() and other.is_alive()
            raise Interrupted  # as a handler run when the call returned

        ws._send_data = send_data_then_a_signal
        with pytest.raises(Interrupted):
            ws.send(b"first")
        ws._send_data = real
        assert ws.ready_state() == "open"
        assert ws._send_lock.locked()  # still the other thread's
        reading.set()
        other.join(T)
        assert not other.is_alive() and not errors, errors
        ws.send(b"last")
        ws.close()
    payloads = [bytes(f["payload"]) for f in result["frames"] if f["opcode"] == 2]
    assert payloads == [b"first", b"\x02" * size, b"last"]


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


def blocked_receiver(ws, got, timeout=T):
    """A thread in receive(), holding the receive lock until a message
    (``timeout`` None: the fast path's blocking read)."""

    def run():
        try:
            got.append(ws.receive(timeout=timeout))
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            got.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + T
    while not ws._recv_lock.locked() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert ws._recv_lock.locked()
    return thread


def test_a_second_receive_from_another_thread_is_refused_at_once():
    # Two readers would race for each message and could split one between
    # them: the second call raises at once, whatever its timeout, and the
    # first gets its message intact.
    def script(peer):
        peer.accept()
        peer.recv_frame()  # "go": the second thread has tried every call
        peer.send(server_frame(2, b"m" * 100_000, fin=False) + server_frame(0, b"!"))
        peer.send(server_frame(1, b"after"))
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=T)
        got: list = []
        thread = blocked_receiver(ws, got)
        calls = {
            "receive()": lambda: ws.receive(),
            "receive(timeout=10)": lambda: ws.receive(timeout=10),
            "receive_into()": lambda: ws.receive_into(bytearray(10), timeout=10),
            "receive_streaming()": lambda: ws.receive_streaming(timeout=10),
            "iteration": lambda: next(iter(ws)),
        }
        for what, call in calls.items():
            start = time.monotonic()
            with pytest.raises(ConcurrencyError, match="another thread is receiving") as info:
                call()
            assert time.monotonic() - start < 1.0, what  # not the timeout
            assert isinstance(info.value, RuntimeError)
        ws.send(b"go")
        thread.join(T)
        assert got == [{"type": "binary", "data": b"m" * 100_000 + b"!"}]
        assert ws.ready_state() == "open"
        assert ws.receive(timeout=T) == {"type": "text", "data": "after"}
        ws.close()


def test_a_receive_while_close_waits_gets_connection_closed_not_concurrency_error():
    # close() from another thread holds the receive lock while it waits for
    # the server's close frame: a receive then waits and reports the close.
    def script(peer):
        peer.accept()
        frame = peer.recv_frame()
        assert frame["opcode"] == 8
        time.sleep(0.5)  # the close is answered late
        peer.send(server_frame(8, frame["payload"]))
        peer.recv_until_eof()

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=T)
        got: list = []
        thread = blocked_receiver(ws, got)
        closer = threading.Thread(target=ws.close, args=(1000, "bye"), daemon=True)
        closer.start()
        deadline = time.monotonic() + T
        while ws.ready_state() == "open" and time.monotonic() < deadline:
            time.sleep(0.001)
        with pytest.raises(ConnectionClosed) as info:
            ws.receive(timeout=T)
        assert (info.value.code, info.value.sent_code) == (1000, 1000)
        thread.join(T)
        closer.join(T)
        assert not thread.is_alive() and not closer.is_alive()
        # The blocked receiver got the close (as a message or as the
        # exception, depending on which thread read it).
        (first,) = got
        assert isinstance(first, ConnectionClosed) or first["type"] == "close"


def test_a_close_from_another_thread_never_leaves_a_read_on_a_reused_descriptor():
    # receive() with no timeout blocks in the fast path's read of the
    # socket's descriptor (in C in the compiled build).  close() from
    # another thread, with no answer from the server, ends TCP under it;
    # the OS then gives the descriptor's number to the next socket made.
    # The woken receiver must report the close and never read again: a
    # read on the reused number would take another connection's bytes.
    import socket

    def script(peer):
        peer.accept()
        peer.recv_until_eof()  # never answers the close frame

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        number = ws._sock.fileno()
        got: list = []
        thread = blocked_receiver(ws, got, timeout=None)
        time.sleep(0.1)  # in the blocking read
        ws.close(timeout=0.2)
        pairs = [socket.socketpair() for _ in range(4)]
        try:
            reused = [(a, b) for a, b in pairs if number in (a.fileno(), b.fileno())]
            for a, b in pairs:
                a.sendall(b"not yours")
                b.sendall(b"not yours")
            thread.join(T)
            assert not thread.is_alive()
            (outcome,) = got
            assert isinstance(outcome, ConnectionClosed)
            assert reused, f"descriptor {number} was not reused: the test proves nothing"
            for a, b in pairs:
                for end in (a, b):
                    end.setblocking(False)
                    assert end.recv(100) == b"not yours"
        finally:
            for a, b in pairs:
                a.close()
                b.close()


class FrameChecker:
    """The server side of the thread stress: reads every frame the client
    sends and fails on anything RFC 6455 forbids a client (§5.1-5.5): an
    unmasked frame, reserved bits or opcodes, a control frame fragmented
    or over 125 bytes, a data frame inside another message (interleaved
    senders), anything after the close frame, a second close frame.  It
    echoes each message, answers pings, and checks each message's content:
    sender k's i-th message is ``bytes([k]) + i.to_bytes(4, "big") * n``."""

    def __init__(self) -> None:
        self.messages: dict[int, list[bytes]] = {}
        self.close_codes: list[int] = []
        self.frames = 0

    def __call__(self, peer: RawPeer) -> None:
        peer.accept()
        kind, parts = None, []
        while (frame := peer.recv_frame()) != {}:
            self.frames += 1
            opcode = frame["opcode"]
            assert frame["masked"], frame
            assert not (frame["rsv1"] or frame["rsv2"] or frame["rsv3"]), frame
            assert not self.close_codes, f"a frame after the close frame: {frame}"
            if opcode >= 8:
                assert opcode in (8, 9, 10) and frame["fin"] and frame["length"] <= 125, frame
                if opcode == 9:
                    peer.send(server_frame(10, frame["payload"]))
                elif opcode == 8:
                    self.close_codes.append(parse_close_frame(frame["payload"])["code"])
                    with contextlib.suppress(OSError):
                        peer.send(server_frame(8, frame["payload"][:2]))
                continue
            assert opcode in (0, 1, 2), frame
            assert (opcode == 0) == (kind is not None), f"interleaved frames: {opcode} in {kind}"
            kind = kind or opcode
            parts.append(frame["payload"])
            if frame["fin"]:
                message = b"".join(parts)
                k, i = message[0], int.from_bytes(message[1:5], "big")
                assert message == bytes([k]) + i.to_bytes(4, "big") * ((len(message) - 1) // 4), k
                mine = self.messages.setdefault(k, [])
                assert i == len(mine), f"sender {k}: message {i} after {len(mine)}: lost or reordered"
                mine.append(message)
                with contextlib.suppress(OSError):
                    peer.send(server_frame(2, message))
                kind, parts = None, []


@pytest.mark.parametrize("tls", [None, "1.3"])
@pytest.mark.parametrize("run", range(10))
def test_every_frame_checked_under_senders_pingers_receiver_and_closer(ca, tls, run):
    # Three senders (single frames, fragmented messages from an iterable,
    # send_many batches) and a pinger, one receiver, one closer, against a
    # server that checks every frame: no interleaving, nothing lost or
    # reordered, exactly one close frame (ours, 1000), nothing after it.
    server_ctx, client_ctx = contexts(ca, tls)
    checker = FrameChecker()
    with RawPeer(checker, ssl_context=server_ctx) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=T, ssl_context=client_ctx)
        sent: dict[int, list[bytes]] = {k: [] for k in range(3)}
        got: list[bytes] = []
        ended: list[ConnectionClosed] = []
        started = time.monotonic()

        def message(k: int, i: int) -> bytes:
            return bytes([k]) + i.to_bytes(4, "big") * (1 + (i * 37 + k * 11) % 3000)

        def sender(k):
            def run_sender():
                i = 0
                with contextlib.suppress(ConnectionClosed):
                    while i < 400:
                        msg = message(k, i)
                        if k == 0:
                            ws.send(msg)
                            sent[k].append(msg)
                        elif k == 1:  # one message, several frames
                            ws.send(iter([msg[:7], msg[7:500], msg[500:]]))
                            sent[k].append(msg)
                        else:
                            batch = [message(k, i + j) for j in range(5)]
                            ws.send_many(batch)
                            sent[k].extend(batch)
                            i += 4
                        i += 1

            return run_sender

        def pinger():
            with contextlib.suppress(ConnectionClosed):
                for n in range(200):
                    ws.ping(b"%d" % n)
                    time.sleep(0.0005)

        receiver, closer = receiver_and_closer(ws, got, ended, 0.03 + 0.015 * (run % 5))
        errors = run_threads(sender(0), sender(1), sender(2), pinger, receiver, closer)
        assert errors == []
        assert time.monotonic() - started < 3 * T
    assert ws.ready_state() == "closed"
    assert checker.close_codes == [1000]
    assert ended and ended[0].sent_code == 1000 and ended[0].code == 1000
    for k in range(3):
        # The server got exactly what each sender sent: a send that
        # returned had written its frames, one that raised ConnectionClosed
        # after the close wrote nothing.
        assert checker.messages.get(k, []) == sent[k]
        mine = [m for m in got if m[0] == k]
        assert mine == sent[k][: len(mine)]
    assert checker.frames > 50
