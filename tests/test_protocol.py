"""The sans-I/O ClientProtocol (websocket/_protocol.py): bytes in, bytes out."""

from __future__ import annotations

import struct

import pytest

from websocket import ConnectionClosed, MessageTooBig, ProtocolError, decode_frame
from websocket._protocol import CLOSED, CLOSING, OPEN, ClientProtocol

from .servers import server_frame


def sent(proto):
    return [decode_frame(bytes(data)) for data in proto.data_to_send()]


def test_messages_and_auto_pong():
    p = ClientProtocol()
    p.receive_data(server_frame(1, "hi") + server_frame(9, b"x") + server_frame(10, b"y"))
    assert p.next_message() == {"type": "text", "data": "hi"}
    assert sent(p) == []
    assert p.next_message() == {"type": "ping", "data": b"x"}
    (pong,) = sent(p)
    assert (pong["opcode"], pong["payload"], pong["masked"]) == (10, b"x", True)
    assert p.next_message() == {"type": "pong", "data": b"y"}
    assert p.next_message() is None


def test_no_auto_pong():
    p = ClientProtocol(auto_pong=False)
    p.receive_data(server_frame(9, b"x"))
    assert p.next_message()["type"] == "ping"
    assert sent(p) == []


def test_server_close_is_echoed_once():
    p = ClientProtocol()
    p.receive_data(server_frame(8, struct.pack("!H", 1001) + b"bye"))
    assert p.next_message() == {"type": "close", "code": 1001, "reason": "bye", "data": b"\x03\xe9bye"}
    (reply,) = sent(p)
    assert reply["opcode"] == 8 and reply["payload"] == b"\x03\xe9"
    assert p.state is CLOSED
    p.send_close(1000)  # nothing more: one close frame only
    assert sent(p) == []
    exc = p.closed_exception()
    assert isinstance(exc, ConnectionClosed) and (exc.code, exc.reason, exc.sent_code) == (1001, "bye", 1001)


def test_client_close_then_server_reply():
    p = ClientProtocol()
    p.send_close(4000, "done")
    (frame,) = sent(p)
    assert frame["payload"] == b"\x0f\xa0done"
    assert p.state is CLOSING
    with pytest.raises(ConnectionClosed):
        p.check_open()
    p.receive_data(server_frame(1, "late") + server_frame(9, b"no pong now") + server_frame(8, b"\x0f\xa0"))
    assert p.next_message()["data"] == "late"  # data still arrives while closing
    assert p.next_message()["type"] == "ping"
    assert sent(p) == []  # no pong after our close frame
    assert p.next_message()["code"] == 4000
    assert p.state is CLOSED and sent(p) == []


def test_protocol_error_queues_close_and_raises():
    p = ClientProtocol()
    p.receive_data(server_frame(2, b"ok") + b"\x83\x00")
    assert p.next_message()["data"] == b"ok"
    with pytest.raises(ProtocolError, match="reserved opcode 0x3"):
        p.next_message()
    (close,) = sent(p)
    assert struct.unpack("!H", close["payload"][:2])[0] == 1002
    assert close["payload"][2:].decode() == "reserved opcode 0x3"
    assert p.state is CLOSED


def test_parser_driven_path_matches_next_message():
    # The shell's hot path calls parser.next_message itself and hands the
    # rest to control_message / parse_failed: same messages, same replies.
    stream = server_frame(2, b"ok") + server_frame(9, b"p") + server_frame(8, struct.pack("!H", 1001)) + b"\x83\x00"
    outputs = []
    for driven in (False, True):
        p = ClientProtocol()
        p.receive_data(stream)
        got = []
        while True:
            try:
                if driven:
                    item = p.parser.next_message()
                    msg = item if item is None or isinstance(item, dict) else p.control_message(item)
                else:
                    msg = p.next_message()
            except ProtocolError as exc:
                if driven:
                    p.parse_failed(exc)
                got.append(("error", exc.code))
                break
            if msg is None:
                break
            got.append(msg)
        outputs.append((got, [(f["opcode"], f["payload"]) for f in sent(p)], p.state))
    assert outputs[0] == outputs[1]
    got, replies, state = outputs[0]
    assert got[0] == {"type": "binary", "data": b"ok"}
    assert got[1] == {"type": "ping", "data": b"p"}
    assert got[2]["type"] == "close" and got[2]["code"] == 1001
    assert replies == [(10, b"p"), (8, struct.pack("!H", 1001))]
    assert state is CLOSED


def test_parse_failed_queues_the_errors_close_code():
    p = ClientProtocol()
    p.receive_data(server_frame(1, b"\xff"))
    with pytest.raises(ProtocolError) as info:
        p.parser.next_message()
    p.parse_failed(info.value)
    (close,) = sent(p)
    assert struct.unpack("!H", close["payload"][:2])[0] == 1007
    assert p.state is CLOSED and p.failure is info.value


def test_message_too_big_closes_1009():
    p = ClientProtocol(max_size=10)
    p.receive_data(server_frame(2, b"x" * 11))
    with pytest.raises(MessageTooBig):
        p.next_message()
    (close,) = sent(p)
    assert close["payload"][:2] == b"\x03\xf1"


def test_eof_without_close_is_1006():
    p = ClientProtocol()
    assert p.state is OPEN
    p.eof_received()
    exc = p.closed_exception()
    assert (exc.code, exc.sent_code) == (1006, None)


def test_send_frame_encodes_masked_client_frames():
    p = ClientProtocol()
    text = decode_frame(bytes(p.send_frame(1, "hé")))
    assert (text["opcode"], text["masked"], text["payload"]) == (1, True, "hé".encode())
    part = decode_frame(bytes(p.send_frame(2, b"\x00" * 70000, fin=False)))
    assert (part["fin"], part["masked"], len(part["payload"])) == (False, True, 70000)
