"""The sans-I/O ClientProtocol (websocket/_protocol.py): bytes in, bytes out.

Every test runs on both implementations (the ``codec`` fixture).
"""

from __future__ import annotations

import re
import struct

import pytest

from websocket import ConnectionClosed, HandshakeError, MessageTooBig, ProtocolError, State

from .servers import request_key, server_frame, switching_protocols


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
    """Every frame of the bytes the protocol gives the engine to write."""
    data = bytes(p.data_to_send())
    frames = []
    while data:
        frame = codec.decode_frame(data)
        frames.append(frame)
        data = data[frame["size"] :]
    assert p.data_to_send() == b""  # taken once
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
    p.data_received(11.25)  # the read that brings the pong, at 11.25
    p.receive_data(server_frame(10, b"b"))
    assert p.next_message() == {"type": "pong", "data": b"b"}
    assert (first.done, second.done, third.done) == (True, True, False)
    assert p.latency == 0.25


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
        p.ping_sent(i.to_bytes(2, "big"), waiter, 1.0)
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


@pytest.mark.parametrize("room", ["_frames", "_deflate", "_compression", "_limits", "_buffer", "_reader", "_parser", "_writer", "_protocol"])
def test_the_protocol_rooms_import_no_io(room):
    # The sans-I/O core is given bytes and ``now`` and returns messages and
    # bytes: no socket, lock module, clock or environment in its rooms (the
    # engine, _engine.py, moves the bytes).
    import ast
    import pathlib

    import websocket

    source = pathlib.Path(websocket.__file__).with_name(f"{room}.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    forbidden = {"socket", "ssl", "select", "selectors", "threading", "_thread", "time", "os", "signal"}
    assert not imported & forbidden, f"{room}.py imports {sorted(imported & forbidden)}"
    # Nor the primitives' descriptor, signal, lock and clock functions,
    # which the star import of the twins would let it call, or cimport.
    io_primitives = {"recv_into", "send_all", "hold_signals", "release_signals", "new_lock", "FastLock", "seconds_of"}
    used = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    assert not used & io_primitives, f"{room}.py uses {sorted(used & io_primitives)}"
    pxd = pathlib.Path(websocket.__file__).with_name(f"{room}.pxd")
    if pxd.exists():
        cimported = set(re.findall(r"\b\w+\b", " ".join(re.findall(r"^from .* cimport (.*)$", pxd.read_text(), re.M))))
        assert not cimported & io_primitives, f"{room}.pxd cimports {sorted(cimported & io_primitives)}"


def test_the_protocol_takes_the_mutex_its_owner_gives(codec):
    class Mutex:
        held = entered = 0

        def __enter__(self):
            assert not self.held  # not re-entered
            self.held += 1
            self.entered += 1

        def __exit__(self, *exc):
            self.held -= 1

    mutex = Mutex()
    p = opened(codec, mutex=mutex)
    p.receive_data(server_frame(9, b"a") + server_frame(8, struct.pack("!H", 1000)))
    assert p.next_message() == {"type": "ping", "data": b"a"}
    assert p.next_message()["code"] == 1000
    # The pong queued, the close taken and answered: each under the mutex.
    assert mutex.entered >= 2 and mutex.held == 0
    assert [f["opcode"] for f in sent(codec, p)] == [10, 8]
    entered = mutex.entered
    p.fail(1011, "x")
    assert mutex.entered == entered + 1
    # Without one, one thread owns it: the same answers.
    q = opened(codec)
    q.receive_data(server_frame(9, b"a"))
    assert q.next_message()["type"] == "ping"
    assert [f["opcode"] for f in sent(codec, q)] == [10]
