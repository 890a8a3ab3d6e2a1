"""Close payloads and wire constants (websocket/_frames.py)."""

from __future__ import annotations

import pytest

from websocket import CloseCode, Opcode, ProtocolError, encode_close_frame, parse_close_frame


def test_enums_match_rfc():
    assert [int(o) for o in Opcode] == [0, 1, 2, 8, 9, 10]
    assert CloseCode.NORMAL_CLOSURE == 1000 and CloseCode.MESSAGE_TOO_BIG == 1009


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1014, 3000, 4999])
def test_round_trip_valid_codes(code):
    payload = encode_close_frame(code, "bye é")
    assert payload[:2] == code.to_bytes(2, "big")
    assert parse_close_frame(payload) == {"code": code, "reason": "bye é"}


def test_empty_payload_is_1005():
    assert parse_close_frame(b"") == {"code": 1005, "reason": ""}
    assert parse_close_frame(bytearray(b"\x03\xe8")) == {"code": 1000, "reason": ""}


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_invalid_codes(code):
    with pytest.raises(ValueError, match=f"invalid close code {code}"):
        encode_close_frame(code)
    with pytest.raises(ProtocolError, match=f"invalid close code {code}") as info:
        parse_close_frame(code.to_bytes(2, "big"))
    assert info.value.code == 1002


def test_reason_limits_and_types():
    assert len(encode_close_frame(1000, "x" * 123)) == 125
    with pytest.raises(ValueError, match="124 bytes exceeds 123"):
        encode_close_frame(1000, "x" * 124)
    with pytest.raises(ValueError, match="124 bytes"):
        encode_close_frame(1000, "é" * 62)
    with pytest.raises(TypeError):
        encode_close_frame("1000")
    with pytest.raises(TypeError):
        encode_close_frame(True)
    with pytest.raises(TypeError):
        encode_close_frame(1000, b"bytes")


def test_parse_errors():
    with pytest.raises(ProtocolError, match="1 byte") as info:
        parse_close_frame(b"\x03")
    assert info.value.code == 1002
    with pytest.raises(ProtocolError, match="not valid UTF-8") as info:
        parse_close_frame(b"\x03\xe8\xff")
    assert info.value.code == 1007


@pytest.mark.parametrize("payload", [1000, "\x03\xe8", None])
def test_parse_close_frame_takes_bytes_only(payload):
    # An int used to be taken as a length: bytes(1000) is 1000 zero bytes.
    with pytest.raises(TypeError, match="close payload must be bytes-like"):
        parse_close_frame(payload)
