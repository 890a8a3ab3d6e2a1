"""The sans-I/O ClientProtocol (websocket/_protocol.py): bytes in, bytes out.

Every test runs on both implementations (the ``codec`` fixture).
"""

from __future__ import annotations

import struct

import pytest

from websocket import ConnectionClosed, HandshakeError, MessageTooBig, ProtocolError, State

from .servers import T, request_key, server_frame, switching_protocols


def opened(codec, **options):
    """A protocol that completed its handshake."""
    p = codec.ClientProtocol("example.com", 80, "/", **options)
    response = switching_protocols(request_key(p.connect_request()))
    assert p.state is State.CONNECTING
    assert p.receive_handshake(response[:10]) is False
    assert p.receive_handshake(response[10:]) is True
    assert p.state is State.OPEN
    return p


def sent(codec, p):
    """Every frame the protocol queued, encoded as the shell writes them."""
    frames = []
    while (item := p.pop_pending()) is not None:
        frames.append(codec.decode_frame(bytes(p.encoder.encode(item[0], item[1]))))
    return frames


def test_messages_and_auto_pong(codec):
    p = opened(codec)
    p.receive_data(server_frame(1, "hi") + server_frame(9, b"x") + server_frame(10, b"y"))
    assert p.next_message() == {"type": "text", "data": "hi"}
    assert sent(codec, p) == []
    assert p.next_message() == {"type": "ping", "data": b"x"}
    (pong,) = sent(codec, p)
    assert (pong["opcode"], pong["payload"], pong["masked"]) == (10, b"x", True)
    assert p.next_message() == {"type": "pong", "data": b"y"}
    assert p.next_message() is None


def test_no_auto_pong(codec):
    p = opened(codec, auto_pong=False)
    p.receive_data(server_frame(9, b"x"))
    assert p.next_message()["type"] == "ping"
    assert not p.pending


def test_server_close_is_echoed_once(codec):
    p = opened(codec)
    p.receive_data(server_frame(8, struct.pack("!H", 1001) + b"bye"))
    assert p.next_message() == {"type": "close", "code": 1001, "reason": "bye", "data": b"\x03\xe9bye"}
    (reply,) = sent(codec, p)
    assert reply["opcode"] == 8 and reply["payload"] == b"\x03\xe9"
    assert p.state is State.CLOSED
    assert p.send_close(1000) is False  # nothing more: one close frame only
    assert sent(codec, p) == []
    exc = p.closed_exception()
    assert isinstance(exc, ConnectionClosed) and (exc.code, exc.reason, exc.sent_code) == (1001, "bye", 1001)


def test_a_second_close_frame_changes_nothing(codec):
    p = opened(codec)
    p.receive_data(server_frame(8, struct.pack("!H", 1001) + b"bye"))
    p.receive_data(server_frame(8, struct.pack("!H", 4000) + b"again"))
    assert p.next_message()["code"] == 1001
    p.next_message()  # whatever the parser makes of it, the close stays the first
    assert (p.closed_exception().code, p.closed_exception().reason) == (1001, "bye")
    assert len(sent(codec, p)) == 1


def test_client_close_then_server_reply(codec):
    p = opened(codec)
    assert p.send_close(4000, "done") is True
    (frame,) = sent(codec, p)
    assert frame["payload"] == b"\x0f\xa0done"
    assert p.state is State.CLOSING
    with pytest.raises(ConnectionClosed):
        p.check_open()
    p.receive_data(server_frame(1, "late") + server_frame(9, b"no pong now") + server_frame(8, b"\x0f\xa0"))
    assert p.next_message()["data"] == "late"  # data still arrives while closing
    assert p.next_message()["type"] == "ping"
    assert sent(codec, p) == []  # no pong after our close frame
    assert p.next_message()["code"] == 4000
    assert p.state is State.CLOSED and sent(codec, p) == []


def test_pong_queued_before_close_stays_before_it(codec):
    p = opened(codec)
    p.receive_data(server_frame(9, b"p"))
    p.next_message()
    p.send_close(1000)
    assert [f["opcode"] for f in sent(codec, p)] == [10, 8]


def test_protocol_error_queues_close_and_raises(codec):
    p = opened(codec)
    p.receive_data(server_frame(2, b"ok") + b"\x83\x00")
    assert p.next_message()["data"] == b"ok"
    with pytest.raises(ProtocolError, match="reserved opcode 0x3"):
        p.next_message()
    (close,) = sent(codec, p)
    assert struct.unpack("!H", close["payload"][:2])[0] == 1002
    assert close["payload"][2:].decode() == "reserved opcode 0x3"
    assert p.state is State.CLOSED
    with pytest.raises(ProtocolError):  # the parser stays failed
        p.next_message()


def test_invalid_utf8_closes_1007(codec):
    p = opened(codec)
    p.receive_data(server_frame(1, b"\xff"))
    with pytest.raises(ProtocolError) as info:
        p.next_message()
    (close,) = sent(codec, p)
    assert struct.unpack("!H", close["payload"][:2])[0] == 1007
    assert p.state is State.CLOSED and p.failure is info.value


def test_message_too_big_closes_1009_and_reports_it(codec):
    p = opened(codec, max_size=10)
    p.receive_data(server_frame(2, b"x" * 11))
    with pytest.raises(MessageTooBig):
        p.next_message()
    (close,) = sent(codec, p)
    assert close["payload"][:2] == b"\x03\xf1"
    # Later calls report the close we made, not "abnormal closure".
    exc = p.closed_exception()
    assert (exc.code, exc.sent_code) == (1009, 1009)
    assert "exceeds max_size 10" in exc.reason


def test_eof_without_close_is_1006(codec):
    p = opened(codec)
    p.receive_eof()
    assert p.state is State.CLOSED
    exc = p.closed_exception()
    assert (exc.code, exc.sent_code) == (1006, None)


def test_transport_failure_drops_queued_replies(codec):
    p = opened(codec)
    p.send_close(1000)
    p.transport_failed(OSError("reset"))
    assert p.state is State.CLOSED and not p.pending
    assert p.closed_exception().code == 1006


# -- the opening handshake ------------------------------------------------------


def test_request_is_built_before_connecting(codec):
    p = codec.ClientProtocol("example.com", 8080, "/chat?x=1", subprotocols=["a", "b"], origin="https://o")
    request = p.connect_request().decode()
    assert request.startswith("GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n")
    assert "Sec-WebSocket-Protocol: a, b\r\n" in request and "Origin: https://o\r\n" in request
    with pytest.raises(ValueError, match="header 'X-A'"):
        codec.ClientProtocol("example.com", 80, "/", headers={"X-A": "caf\u00e9"})
    with pytest.raises(TypeError, match="max_size"):
        codec.ClientProtocol("example.com", 80, "/", max_size="big")


def handshake_response(p, extra: str = "", status: str = "HTTP/1.1 101 Switching Protocols") -> bytes:
    return switching_protocols(request_key(p.connect_request()), extra, status)


@pytest.mark.parametrize(
    "extra, status, message",
    [
        ("", "HTTP/1.0 101 Switching Protocols", "HTTP/1.0"),
        ("Sec-WebSocket-Extensions: permessage-deflate\r\n", None, "extension 'permessage-deflate'"),
        ("Sec-WebSocket-Protocol: chat\r\n", None, "subprotocol 'chat'"),
    ],
)
def test_response_refused_like_validate_handshake_response(codec, extra, status, message):
    from websocket import validate_handshake_response

    p = codec.ClientProtocol("example.com", 80, "/")
    response = handshake_response(p, extra, status or "HTTP/1.1 101 Switching Protocols")
    with pytest.raises(HandshakeError, match=message):
        p.receive_handshake(response)
    assert p.state is State.CLOSED
    assert validate_handshake_response(response, request_key(p.connect_request())) is False  # the same check


def test_offered_subprotocol_is_chosen(codec):
    p = codec.ClientProtocol("example.com", 80, "/", subprotocols=["chat"])
    assert p.receive_handshake(handshake_response(p, "Sec-WebSocket-Protocol: chat\r\n"))
    assert p.subprotocol == "chat"


def test_refusal_waits_for_its_body_head(codec):
    p = codec.ClientProtocol("example.com", 80, "/")
    head = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 8\r\n\r\nnot"
    assert p.receive_handshake(head) is False  # the body is not all there
    with pytest.raises(HandshakeError) as info:
        p.receive_handshake(b" here")
    assert info.value.status == 403 and info.value.body == b"not here"


def test_frames_right_after_the_response_are_kept(codec):
    p = codec.ClientProtocol("example.com", 80, "/")
    assert p.receive_handshake(handshake_response(p) + server_frame(1, "early"))
    assert p.next_message() == {"type": "text", "data": "early"}


def test_eof_during_handshake(codec):
    p = codec.ClientProtocol("example.com", 80, "/")
    p.receive_handshake(b"HTTP/1.1 101")
    with pytest.raises(HandshakeError, match="connection closed during the handshake after 12 bytes"):
        p.receive_handshake_eof()


# -- text as bytes (decode_text=False) ---------------------------------------


def test_text_as_bytes_on_every_path(codec):
    """decode_text=False returns text as its UTF-8 bytes, checked all the
    same: the one-frame fast path, the general path, fragments, big frames."""
    parser = codec.FrameParser(None, decode_text=False)
    big = "é" * 100_000  # 200 KB: received through the big-frame path
    wire = (
        server_frame(1, "caf\u00e9")
        + server_frame(1, "x" * 70_000)  # 16-bit length ... 64-bit
        + server_frame(1, "fr", fin=False)
        + server_frame(9, b"p")
        + server_frame(0, "ag\u00e9")
        + server_frame(1, big)
        + server_frame(2, b"\xff")
    )
    got = []
    for i in range(0, len(wire), 5000):
        parser.feed(wire[i : i + 5000])
        while (msg := parser.next_message()) is not None:
            got.append(msg)
    assert got == [
        {"type": "text", "data": "café".encode()},
        {"type": "text", "data": b"x" * 70_000},
        {"type": "ping", "data": b"p"},
        {"type": "text", "data": "fragé".encode()},
        {"type": "text", "data": big.encode()},
        {"type": "binary", "data": b"\xff"},
    ]
    assert all(type(m["data"]) is bytes for m in got)


@pytest.mark.parametrize("wire", [b"\x81\x02\xc3\x28", b"\x01\x01\xc3\x80\x01\x28"])
def test_text_as_bytes_is_still_validated(codec, wire):
    parser = codec.FrameParser(None, decode_text=False)
    parser.feed(wire)
    with pytest.raises(ProtocolError, match="invalid UTF-8") as info:
        parser.next_message()
    assert info.value.code == 1007


def test_decode_text_must_be_a_bool(codec):
    with pytest.raises(TypeError, match="decode_text must be a bool, not int"):
        codec.ClientProtocol(decode_text=1)


# -- pings, pongs and keepalive (RFC 6455 §5.5.2, §5.5.3) --------------------


class Waiter:
    def __init__(self) -> None:
        self.done = False

    def set(self) -> None:
        self.done = True


def test_pong_acknowledges_its_ping_and_every_earlier_one(codec):
    p = opened(codec)
    first, second, third = Waiter(), Waiter(), Waiter()
    p.ping_sent(b"a", first, 10.0)
    p.ping_sent(b"b", second, 11.0)
    p.ping_sent(b"c", third, 12.0)
    p.receive_data(server_frame(10, b"zzz"))  # unsolicited: matches nothing
    assert p.next_message() == {"type": "pong", "data": b"zzz"}
    assert p.latency is None and not first.done
    p.receive_data(server_frame(10, b"b"))
    assert p.next_message() == {"type": "pong", "data": b"b"}
    assert (first.done, second.done, third.done) == (True, True, False)
    assert p.latency is not None and p.latency > 0  # monotonic now minus 11.0


def test_keepalive_pings_after_silence_and_fails_without_pong(codec):
    p = opened(codec, ping_interval=5.0, ping_timeout=2.0)
    assert p.keepalive(100.0) == 5.0  # the first call starts the clock
    p.data_received(103.0)
    assert p.keepalive(104.0) == 4.0  # silence is counted from the last bytes
    assert not p.pending
    assert p.keepalive(108.0) == 2.0  # silent for 5 s: a ping goes out
    (ping,) = sent(codec, p)
    assert ping["opcode"] == 9 and len(ping["payload"]) == 4
    assert p.keepalive(109.5) == pytest.approx(0.5)
    assert p.keepalive(110.0) == 0.0  # no pong within 2 s
    assert p.state is State.CLOSED
    (close,) = sent(codec, p)
    assert close["opcode"] == 8 and close["payload"][:2] == struct.pack("!H", 1011)
    with pytest.raises(ConnectionClosed) as info:
        p.check_open()
    assert info.value.code == 1011 and "keepalive ping timeout" in info.value.reason
    assert p.keepalive(111.0) is None


def test_keepalive_pong_resets_and_measures_latency(codec):
    p = opened(codec, ping_interval=1.0)  # ping_timeout None here: no limit
    p.keepalive(0.0)
    p.keepalive(1.0)
    (ping,) = sent(codec, p)
    assert p.keepalive(50.0) is None  # waiting for the pong without limit
    assert p.state is State.OPEN
    p.receive_data(server_frame(10, ping["payload"]) + server_frame(1, "after"))
    # The keepalive's pong is consumed: the caller sent no ping.
    assert p.next_message() == {"type": "text", "data": "after"}
    assert p.latency is not None
    p.data_received(60.0)
    assert p.keepalive(60.5) == 0.5


def test_no_keepalive_unless_asked(codec):
    p = opened(codec)
    assert p.keepalive(1e9) is None and not p.pending


@pytest.mark.parametrize("name", ["ping_interval", "ping_timeout"])
@pytest.mark.parametrize("value", [0, -1, "5", True, float("nan")])
def test_keepalive_options_are_checked(codec, name, value):
    with pytest.raises(ValueError, match=name):
        codec.ClientProtocol("example.com", **{name: value})


def test_unanswered_pings_are_bounded(codec):
    p = opened(codec)
    waiters = [Waiter() for _ in range(codec.MAX_PINGS + 10)]
    for i, waiter in enumerate(waiters):
        p.ping_sent(i.to_bytes(2, "big"), waiter)
    p.receive_data(server_frame(10, (5).to_bytes(2, "big")))  # forgotten: no match
    p.next_message()
    assert not any(w.done for w in waiters)
    p.receive_data(server_frame(10, (20).to_bytes(2, "big")))
    p.next_message()
    assert [w.done for w in waiters[10:22]] == [True] * 11 + [False]
    p.ping_cancelled(waiters[-1])
    p.receive_data(server_frame(10, (len(waiters) - 1).to_bytes(2, "big")))
    p.next_message()
    assert not waiters[-1].done


# -- receive_ready(): WsClient.receive()'s fast path --------------------------


class Reader:
    """A recv_into stand-in: hands out ``chunks`` in turn (b"" is EOF, an
    exception is raised), and records each call."""

    def __init__(self, *chunks):
        self.chunks = list(chunks)
        self.calls = 0

    def __call__(self, view):
        self.calls += 1
        chunk = self.chunks.pop(0)
        if isinstance(chunk, BaseException):
            raise chunk
        view[: len(chunk)] = chunk
        return len(chunk)


def ready(p, lock, reader=None, fd=-1):
    """receive_ready(), checking its lock contract: a message comes with the
    lock released, None with the lock still held (handed to the caller's
    full receive; released here), False with the lock untouched."""
    was_locked = lock.locked()
    msg = p.receive_ready(lock, fd, reader)
    if msg is False:
        assert was_locked and lock.locked()
    elif msg is None:
        assert lock.locked()
        lock.release()
    else:
        assert not lock.locked()
    return msg


def test_receive_ready_takes_whole_data_frames_only(codec):
    p = opened(codec)
    lock = codec.FastLock()
    p.receive_data(server_frame(2, b"a" * 300) + server_frame(1, "hé") + server_frame(9, b"p") + server_frame(2, b"z"))
    assert ready(p, lock) == {"type": "binary", "data": b"a" * 300}
    assert ready(p, lock) == {"type": "text", "data": "hé"}
    # A control frame is the full receive's (it queues the pong): untouched.
    assert ready(p, lock) is None
    assert p.next_message() == {"type": "ping", "data": b"p"}
    assert ready(p, lock) == {"type": "binary", "data": b"z"}


def test_receive_ready_leaves_fragments_and_partial_frames(codec):
    p = opened(codec)
    lock = codec.FastLock()
    frame = server_frame(2, b"x" * 200)
    p.receive_data(frame[:50])
    assert ready(p, lock) is None
    p.receive_data(frame[50:] + server_frame(2, b"ab", fin=False) + server_frame(0, b"cd"))
    assert ready(p, lock) == {"type": "binary", "data": b"x" * 200}
    assert ready(p, lock) is None  # a fragment: next_message() joins them
    assert p.next_message() == {"type": "binary", "data": b"abcd"}


def test_receive_ready_takes_nothing_while_the_lock_is_held_or_closing(codec):
    p = opened(codec)
    lock = codec.FastLock()
    p.receive_data(server_frame(2, b"one") + server_frame(2, b"two"))
    lock.acquire()
    assert ready(p, lock) is False  # another thread receives
    lock.release()
    assert ready(p, lock) == {"type": "binary", "data": b"one"}
    p.send_close(1000)
    assert p.state is State.CLOSING
    assert ready(p, lock) is None  # the full receive handles closing
    assert p.next_message() == {"type": "binary", "data": b"two"}


def test_receive_ready_hands_a_control_frame_it_read_over_with_the_lock(codec):
    # The fast path read a close frame: the caller's full receive must take
    # it under the same hold of the lock.  Released in between, a close()
    # waiting in another thread could take it first, and the receiving
    # thread would get ConnectionClosed instead of the close message.
    p = opened(codec)
    lock = codec.FastLock()
    reader = Reader(server_frame(8, b"\x03\xe8"))
    assert p.receive_ready(lock, -1, reader) is None
    assert lock.locked() and reader.calls == 1
    assert p.next_message()["type"] == "close"


def test_receive_ready_invalid_utf8_fails_once_for_all(codec):
    p = opened(codec)
    lock = codec.FastLock()
    p.receive_data(server_frame(1, b"\xff\xfe"))
    with pytest.raises(ProtocolError) as first:
        p.receive_ready(lock)
    assert first.value.code == 1007
    # The lock stays held: the shell's full receive gets the same error
    # under it and ends the connection.
    assert lock.locked()
    with pytest.raises(ProtocolError) as again:
        p.next_message()
    assert again.value is first.value
    assert p.state is not State.OPEN and p.close_sent[0] == 1007


def test_receive_ready_reads_only_when_nothing_is_buffered(codec):
    p = opened(codec)
    lock = codec.FastLock()
    frame = server_frame(2, b"x" * 100)
    reader = Reader(frame + frame[:10], frame[10:])
    assert ready(p, lock, reader) == {"type": "binary", "data": b"x" * 100}
    # Part of a frame is buffered: no read here (it could block with a
    # whole control frame waiting), the full receive reads.
    assert ready(p, lock, reader) is None
    assert reader.calls == 1
    p.receive_data(frame[10:])
    assert ready(p, lock, reader) == {"type": "binary", "data": b"x" * 100}
    p.receive_data(server_frame(10, b"pong"))
    assert ready(p, lock, reader) is None and reader.calls == 1


def test_receive_ready_read_failures_lose_nothing(codec):
    p = opened(codec)
    lock = codec.FastLock()
    frame = server_frame(2, b"payload")
    reader = Reader(ConnectionResetError(), b"", KeyboardInterrupt(), frame[:3], frame[3:])
    assert ready(p, lock, reader) is None  # the full receive reads again
    assert ready(p, lock, reader) is None  # EOF: likewise
    with pytest.raises(KeyboardInterrupt):  # a signal handler's exception
        p.receive_ready(lock, -1, reader)
    assert not lock.locked()  # released: the exception leaves receive()
    assert p.state is State.OPEN
    assert ready(p, lock, reader) is None  # 3 bytes: not a whole frame
    p.receive_data(frame[3:])
    assert ready(p, lock, reader) == {"type": "binary", "data": b"payload"}
    assert reader.calls == 4


def full_receive(p, sock):
    """What the shell's full receive does after receive_ready returned None
    (the lock then held): parse, reading from ``sock`` until a message."""
    while (msg := p.next_message()) is None:
        n = sock.recv_into(p.parser.get_buffer())
        p.parser.buffer_updated(n)
        assert n, "EOF before a whole message"
    return msg


@pytest.mark.parametrize("sizes", [[0, 1, 125, 126, 65535, 65536, 70_000, 1 << 20, 5, 300_000, 9], [200_000, 10] * 4])
def test_receive_ready_reads_the_descriptor(codec, sizes):
    # Plain TCP: receive_ready reads the socket's descriptor itself, into
    # the parser's buffer or (after a big frame's header) into the big
    # frame's own memory.  Every message arrives whole and in order,
    # whatever mix of reads the fast path and the full receive make.
    import socket
    import threading

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    lock = codec.FastLock()
    payloads = [bytes([i % 251]) * size for i, size in enumerate(sizes)]
    a, b = socket.socketpair()
    with a, b:
        sender = threading.Thread(target=a.sendall, args=(b"".join(server_frame(2, x) for x in payloads),))
        sender.start()
        got, fast = [], 0
        while len(got) < len(payloads):
            msg = ready(p, lock, fd=b.fileno()) if not lock.locked() else None
            if msg is None:
                lock.acquire()
                msg = full_receive(p, b)
                lock.release()
            else:
                fast += 1
            got.append(msg["data"])
        sender.join(10)
    assert [len(x) for x in got] == sizes and got == payloads
    assert fast > 0


def test_receive_ready_reads_a_big_frame_into_its_own_memory(codec):
    # Once a big frame's header is parsed and none of its payload is here,
    # the fast path's read goes straight into the frame's own memory.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    lock = codec.FastLock()
    frame = server_frame(2, bytes(range(256)) * 400)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(frame[:10])  # the header only
        assert ready(p, lock, fd=b.fileno()) is None
        assert p.next_message() is None and p.parser.buffered == 0
        a.sendall(frame[10:5000])
        assert ready(p, lock, fd=b.fileno()) is None
        assert p.parser.buffered == 4990
        a.sendall(frame[5000:])
        lock.acquire()
        assert full_receive(p, b) == {"type": "binary", "data": bytes(range(256)) * 400}
        lock.release()
        a.sendall(server_frame(2, b"next"))
        assert ready(p, lock, fd=b.fileno()) == {"type": "binary", "data": b"next"}


def test_receive_ready_with_keepalive_reads_until_the_keepalive_decision(codec):
    # With keepalive the fast path's read waits only until the next
    # keepalive decision, then leaves it (and the ping) to the full
    # receive; bytes it reads restart the silence clock.
    import socket
    import threading
    import time

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec, ping_interval=0.2, ping_timeout=5.0)
    lock = codec.FastLock()
    a, b = socket.socketpair()
    with a, b:
        p.data_received(time.monotonic())
        started = time.monotonic()
        assert ready(p, lock, fd=b.fileno()) is None  # silence: it gave up at the decision
        assert 0.18 <= time.monotonic() - started < T
        assert p.keepalive(time.monotonic()) == 5.0  # due: the full receive queues the ping
        (ping,) = sent(codec, p)
        assert ping["opcode"] == 9
        a.sendall(server_frame(2, b"data"))
        # While the ping waits for its pong, the read is the full receive's.
        assert ready(p, lock, fd=b.fileno()) is None and p.parser.buffered == 0
        p.receive_data(b.recv(100) + server_frame(10, ping["payload"]))
        p.data_received(time.monotonic())  # as the full receive does
        assert p.next_message() == {"type": "binary", "data": b"data"}
        assert p.next_message() is None  # the keepalive pong, consumed
        # The pong came: the fast path reads again, and what it reads
        # restarts the silence clock.
        timer = threading.Timer(0.1, a.sendall, (server_frame(2, b"more"),))
        timer.start()
        assert ready(p, lock, fd=b.fileno()) == {"type": "binary", "data": b"more"}
        assert p.keepalive(time.monotonic()) == pytest.approx(0.2, abs=0.05)
        timer.join()


def test_receive_ready_descriptor_eof_and_errors_leave_it_to_the_full_receive(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    lock = codec.FastLock()
    a, b = socket.socketpair()
    with a, b:
        a.sendall(server_frame(2, b"last"))
        a.close()
        assert ready(p, lock, fd=b.fileno()) == {"type": "binary", "data": b"last"}
        assert ready(p, lock, fd=b.fileno()) is None  # EOF: nothing buffered
        assert p.state is State.OPEN and p.parser.buffered == 0
    # A closed descriptor (EBADF): the same, nothing raised or lost.
    assert ready(p, lock, fd=b.fileno()) is None
    assert p.state is State.OPEN and p.parser.buffered == 0


def test_receive_ready_descriptor_read_obeys_signal_handlers(codec, alarm):
    # A blocking read interrupted by a signal runs the handler: its
    # exception leaves receive_ready with the lock released and nothing
    # lost; a handler that returns lets the read go on (PEP 475).
    import socket
    import threading

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    lock = codec.FastLock()
    arm, calls = alarm
    a, b = socket.socketpair()
    with a, b:
        arm(0.05)
        with pytest.raises(KeyboardInterrupt):
            p.receive_ready(lock, b.fileno(), None)
        assert not lock.locked() and p.state is State.OPEN
        # The handler returns this time: the read waits on, until the
        # frame comes.
        timer = threading.Timer(0.3, a.sendall, (server_frame(2, b"after"),))
        timer.start()
        arm(0.05)
        assert ready(p, lock, fd=b.fileno()) == {"type": "binary", "data": b"after"}
        timer.join()
    assert len(calls) == 2


# -- send_ready(): WsClient.send()'s fast path ------------------------------


def test_send_ready_writes_one_masked_frame_under_the_lock(codec):
    import socket

    p = opened(codec)
    lock = codec.FastLock()
    a, b = socket.socketpair()
    with a, b:
        assert p.send_ready(lock, a.fileno(), None, 2, b"abc") is True
        assert p.send_ready(lock, a.fileno(), None, 1, "hé") is True
        assert not lock.locked()
        got = b.recv(100)
        first = codec.decode_frame(got)
        assert (first["opcode"], first["payload"], first["masked"]) == (2, b"abc", True)
        second = codec.decode_frame(got[first["size"] :])
        assert (second["opcode"], second["payload"]) == (1, "hé".encode())
        # Nothing done, lock released: the shell's full send decides.
        assert p.send_ready(lock, -1, None, 2, b"x") is False  # no descriptor, no writer
        lock.acquire()
        assert p.send_ready(lock, a.fileno(), None, 2, b"x") is False  # another sender
        lock.release()
        p.send_close(1000)
        assert p.send_ready(lock, a.fileno(), None, 2, b"x") is False  # closing
        assert not lock.locked()
        b.setblocking(False)
        with pytest.raises(BlockingIOError):
            b.recv(100)  # nothing was written by the refused calls


def test_send_ready_hands_the_encoded_frame_to_a_writer_without_a_descriptor(codec):
    """Over TLS the shell passes a writer (TLSLayer.write_ready) instead of a
    descriptor: it gets the whole masked frame, under the lock."""
    p = opened(codec)
    lock = codec.FastLock()
    written = []

    def writer(frame):
        assert lock.locked()
        written.append(frame)

    assert p.send_ready(lock, -1, writer, 2, b"abc") is True
    assert p.send_ready(lock, -1, writer, 1, "hé") is True
    assert not lock.locked()
    assert [(f["opcode"], f["payload"], f["masked"]) for f in map(codec.decode_frame, written)] == [
        (2, b"abc", True),
        (1, "hé".encode(), True),
    ]
    lock.acquire()
    assert p.send_ready(lock, -1, writer, 2, b"x") is False  # another sender
    lock.release()

    def failing(frame):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        p.send_ready(lock, -1, failing, 2, b"x")
    assert lock.locked()  # the shell decides under it
    lock.release()
    p.send_close(1000)
    assert p.send_ready(lock, -1, writer, 2, b"x") is False  # closing
    assert len(written) == 2 and not lock.locked()


def test_send_ready_failure_keeps_the_lock_for_the_shell(codec):
    import socket

    p = opened(codec)
    lock = codec.FastLock()
    a, b = socket.socketpair()
    with a, b:
        a.shutdown(socket.SHUT_WR)
        with pytest.raises(OSError):
            p.send_ready(lock, a.fileno(), None, 2, b"abc")
        # The shell decides under the lock whether the stream can go on.
        assert lock.locked()
        lock.release()
