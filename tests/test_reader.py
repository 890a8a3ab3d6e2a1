"""The frame reader (``_reader.py``): the header parser, ``decode_frame``,
frames and whole messages.  Every test runs on both builds through the
``codec`` fixture."""

from __future__ import annotations

import os
import struct
import zlib

import pytest

from websocket import IncompleteFrame, MessageTooBig, ProtocolError

from .vectors import FRAMES, buffer_kinds

VECTOR_IDS = [v[0] for v in FRAMES]


@pytest.mark.parametrize("vector", FRAMES, ids=VECTOR_IDS)
def test_decode_vectors_all_buffer_kinds(codec, vector):
    name, wire, fin, opcode, masked, key, payload = vector
    for data in buffer_kinds(wire + b"trailing"):
        frame = codec.decode_frame(data)
        assert frame == {
            "fin": fin,
            "rsv1": False,
            "rsv2": False,
            "rsv3": False,
            "opcode": opcode,
            "masked": masked,
            "mask_key": key,
            "length": len(payload),
            "payload": payload,
            "size": len(wire),
        }


@pytest.mark.parametrize("vector", FRAMES, ids=VECTOR_IDS)
def test_encode_vectors_round_trip(codec, vector):
    name, wire, fin, opcode, masked, key, payload = vector
    assert codec.encode_frame(opcode, payload, masked, fin=fin, mask_key=key) == wire


@pytest.mark.parametrize("vector", FRAMES, ids=VECTOR_IDS)
def test_every_proper_prefix_is_incomplete(codec, vector):
    wire = vector[1]
    cuts = range(len(wire)) if len(wire) < 300 else list(range(20)) + [len(wire) - 1]
    for cut in cuts:
        with pytest.raises(IncompleteFrame) as info:
            codec.decode_frame(wire[:cut])
        assert info.value.available == cut
        assert cut < info.value.needed <= len(wire)


def test_incomplete_frame_reports_total_when_header_known(codec):
    with pytest.raises(IncompleteFrame) as info:
        codec.decode_frame(b"\x82\x7e\x01\x00" + b"x" * 10)
    assert (info.value.needed, info.value.available) == (260, 14)
    assert "need 260 bytes, got 14" in str(info.value)


def test_decode_rsv_bits(codec):
    frame = codec.decode_frame(b"\xf2\x00")
    assert (frame["rsv1"], frame["rsv2"], frame["rsv3"]) == (True, True, True)
    assert codec.encode_frame(2, b"", False, rsv1=True, rsv2=True, rsv3=True) == b"\xf2\x00"


@pytest.mark.parametrize(
    "wire, message",
    [
        (b"\x83\x00", "reserved opcode 0x3"),
        (b"\x87\x00", "reserved opcode 0x7"),
        (b"\x8b\x00", "reserved opcode 0xb"),
        (b"\x8f\x00", "reserved opcode 0xf"),
        (b"\x09\x00", "fragmented control frame"),
        (b"\x89\x7e\x00\x7e" + b"x" * 126, "over 125 bytes"),
        (b"\x88\x7f" + struct.pack("!Q", 200), "over 125 bytes"),
        (b"\x82\x7e\x00\x7d" + b"x" * 125, "payload length 125 in 16 bits"),
        (b"\x82\x7f" + struct.pack("!Q", 65535), "payload length 65535 in 64 bits"),
        (b"\x82\x7f" + struct.pack("!Q", 1 << 63), "most significant bit"),
        (b"\x82\x7f\xff\xff\xff\xff\xff\xff\xff\xff", "most significant bit"),
    ],
)
def test_decode_malformed_headers(codec, wire, message):
    with pytest.raises(ProtocolError, match=message) as info:
        codec.decode_frame(wire)
    assert info.value.code == 1002


def test_caller_buffer_can_grow_after_incomplete_frame(codec):
    buf = bytearray(b"\x82\x05he")
    try:
        codec.decode_frame(buf)
    except IncompleteFrame:
        buf += b"llo"  # no export of buf may outlive the call
    assert codec.decode_frame(buf)["payload"] == b"hello"


def test_decode_bad_type(codec):
    with pytest.raises(TypeError):
        codec.decode_frame("text")
    with pytest.raises(TypeError):
        codec.decode_frame(None)


def parse_all(parser):
    out = []
    while (msg := parser.next_message()) is not None:
        out.append(msg)
    return out


def server_frames(codec, *specs):
    return b"".join(codec.encode_frame(*s[:2], False, **(s[2] if len(s) > 2 else {})) for s in specs)


def test_parser_messages_in_order(codec):
    p = codec.FrameParser()
    p.feed(
        server_frames(
            codec,
            (1, "héllo"),
            (2, b"\x00\x01"),
            (9, b"ping"),
            (1, "frag", {"fin": False}),
            (9, b"mid"),
            (0, "ment", {"fin": False}),
            (0, "ed"),
            (8, b"\x03\xe8bye"),
        )
    )
    assert parse_all(p) == [
        {"type": "text", "data": "héllo"},
        {"type": "binary", "data": b"\x00\x01"},
        {"type": "ping", "data": b"ping"},
        {"type": "ping", "data": b"mid"},
        {"type": "text", "data": "fragmented"},
        {"type": "close", "data": b"\x03\xe8bye"},
    ]
    assert p.buffered == 0


def test_parser_message_dicts_are_the_callers_own(codec):
    # The compiled parser copies template dicts: changing one message must
    # not show in the next.
    p = codec.FrameParser()
    p.feed(server_frames(codec, (2, b"a"), (1, "b"), (2, b"c"), (1, "d")))
    first, second = p.next_message(), p.next_message()
    first["data"], first["extra"] = None, 1
    second.clear()
    assert [p.next_message(), p.next_message()] == [{"type": "binary", "data": b"c"}, {"type": "text", "data": "d"}]


@pytest.mark.parametrize("size", [0, 1000, 65535, 65536, 300_000, 3 << 20])
def test_parser_byte_by_byte_and_recv_path(codec, size):
    payload = os.urandom(size)
    wire = server_frames(codec, (2, payload), (1, "after"))
    # Through get_buffer/buffer_updated in chunks that never line up.
    p = codec.FrameParser()
    out, pos, step = [], 0, 1
    while pos < len(wire):
        buf = p.get_buffer()
        assert len(buf) > 0
        n = min(len(buf), step, len(wire) - pos)
        buf[:n] = wire[pos : pos + n]
        p.buffer_updated(n)
        pos += n
        step = step * 3 + 1 if step < 100_000 else 7
        out += parse_all(p)
    assert out == [{"type": "binary", "data": payload}, {"type": "text", "data": "after"}]


def test_parser_masked_frames_only_when_allowed(codec):
    wire = codec.encode_frame(1, "hi", True)
    p = codec.FrameParser()
    p.feed(wire)
    with pytest.raises(ProtocolError, match="masked frame") as info:
        p.next_message()
    assert info.value.code == 1002
    with pytest.raises(ProtocolError):  # and again: the parser is dead
        p.next_message()
    p = codec.FrameParser(mask_allowed=True)
    big = os.urandom(200_000)
    p.feed(wire + codec.encode_frame(2, big, True))
    assert parse_all(p) == [{"type": "text", "data": "hi"}, {"type": "binary", "data": big}]


@pytest.mark.parametrize(
    "frames, message",
    [
        ([(0, b"x")], "continuation frame without a message"),
        ([(1, b"a", {"fin": False}), (1, b"b")], "new data frame \\(opcode 0x1\\)"),
        ([(1, b"a", {"fin": False}), (2, b"b")], "new data frame \\(opcode 0x2\\)"),
        ([(2, b"a", {"rsv1": True})], "RSV1 set with no extension"),
        ([(2, b"a", {"rsv2": True})], "RSV2"),
        ([(2, b"a", {"rsv3": True})], "RSV3"),
    ],
)
def test_parser_protocol_errors_after_good_messages(codec, frames, message):
    p = codec.FrameParser()
    p.feed(server_frames(codec, (2, b"first"), *frames))
    assert p.next_message() == {"type": "binary", "data": b"first"}  # delivered before the error
    with pytest.raises(ProtocolError, match=message) as info:
        parse_all(p)
    assert info.value.code == 1002


def test_parser_refuses_rsv1_without_an_extension(codec):
    for wire in (
        server_frames(codec, (1, b"a", {"rsv1": True})),
        server_frames(codec, (1, b"a", {"fin": False}), (0, b"b", {"rsv1": True})),
        server_frames(codec, (9, b"", {"rsv1": True})),
    ):
        p = codec.FrameParser()
        p.feed(wire)
        with pytest.raises(ProtocolError, match="RSV1 set with no extension negotiated"):
            parse_all(p)


def test_parser_max_size_before_payload_arrives(codec):
    p = codec.FrameParser(max_size=1000)
    p.feed(server_frames(codec, (2, bytes(1000))))
    assert parse_all(p) == [{"type": "binary", "data": bytes(1000)}]
    p.feed(server_frames(codec, (2, b"x" * 600, {"fin": False})))
    p.feed(codec.encode_frame(0, bytes(500), False)[:4])  # the header alone
    with pytest.raises(MessageTooBig) as info:
        parse_all(p)
    # 1100 bytes of payload, and 16 charged for the continuation frame.
    assert (info.value.size, info.value.max_size, info.value.code) == (1116, 1000, 1009)
    assert "1116 bytes exceeds max_size 1000 (1100 bytes of payload in 2 frames" in str(info.value)
    p = codec.FrameParser(max_size=10)
    p.feed(b"\x82\x7f" + struct.pack("!Q", 1 << 40))  # 1 TiB announced
    with pytest.raises(MessageTooBig):
        p.next_message()


#: The largest length RFC 6455 §5.2 allows (the top bit must be 0).
LONGEST = (1 << 63) - 1


@pytest.mark.parametrize("piecewise", [False, True], ids=["whole", "pieces"])
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "deflate"])
def test_a_continuation_announcing_2_63_bytes_is_too_big(codec, piecewise, compressed):
    # The compiled build summed the message's cost so far and the announced
    # length in 64 bits: 100 + 2**63 - 1 + 16 wrapped to a negative number,
    # passed max_size, and the parser then took bytes without end.
    p = codec.FrameParser(max_size=1000)
    first = b"a" * 100
    if compressed:
        p.set_inflater(codec.compression.Inflater(15, False))
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        first = z.compress(first) + z.flush(zlib.Z_SYNC_FLUSH)
    p.feed(server_frames(codec, (2, first, {"fin": False, "rsv1": compressed})))
    p.feed(b"\x80\x7f" + struct.pack("!Q", LONGEST))
    p.feed(b"z" * 5000)
    with pytest.raises(MessageTooBig) as info:
        for _ in range(3):
            p.next_piece() if piecewise else p.next_message()
    assert info.value.code == 1009 and info.value.size == len(first) + LONGEST + 16
    if not (compressed or piecewise):
        assert f"{100 + LONGEST} bytes of payload in 2 frames" in str(info.value)


def test_decode_frame_of_a_2_63_byte_frame_is_incomplete(codec):
    # fuzz_helpers found this: the compiled decode_frame's header size plus
    # length wrapped, and it returned an empty frame of size -2**63 + 13.
    wire = b"\x12\xff" + struct.pack("!Q", LONGEST) + b"\xff" * 38  # masked
    with pytest.raises(IncompleteFrame) as info:
        codec.decode_frame(wire)
    assert (info.value.needed, info.value.available) == (14 + LONGEST, len(wire))


def test_parser_utf8_fails_as_bytes_arrive(codec):
    # A 100 kB text frame whose 11th byte is invalid: the error comes before
    # the rest of the frame, and the rest is never needed.
    p = codec.FrameParser()
    wire = server_frames(codec, (1, b"0123456789\xff" + b"a" * 100_000))
    p.feed(wire[:21])  # 10 header bytes + 11 payload bytes
    with pytest.raises(ProtocolError, match="invalid UTF-8") as info:
        p.next_message()
    assert info.value.code == 1007
    # Across fragments: the bad byte in the second fragment fails while the
    # final fragment has not arrived.
    p = codec.FrameParser()
    p.feed(server_frames(codec, (1, b"\xce\xba\xe1", {"fin": False}), (0, b"\xbd\xb9\xf4\x90", {"fin": False})))
    with pytest.raises(ProtocolError) as info:
        p.next_message()
    assert info.value.code == 1007


def test_parser_utf8_truncated_at_end_of_message(codec):
    p = codec.FrameParser()
    p.feed(server_frames(codec, (1, b"ok\xc3", {"fin": False}), (0, b"")))
    with pytest.raises(ProtocolError) as info:
        parse_all(p)
    assert info.value.code == 1007
    p = codec.FrameParser()
    p.feed(server_frames(codec, (1, b"\xc3")))
    with pytest.raises(ProtocolError):
        parse_all(p)


def test_parser_many_small_frames_fill_buffer(codec):
    p = codec.FrameParser()
    payloads = [os.urandom(i % 300) for i in range(3000)]
    p.feed(b"".join(codec.encode_frame(2, x, False) for x in payloads))
    assert [m["data"] for m in parse_all(p)] == payloads


def test_parser_bad_arguments(codec):
    with pytest.raises(ValueError):
        codec.FrameParser(max_size=-1)
    with pytest.raises(TypeError):
        codec.FrameParser(max_size="10")
    p = codec.FrameParser()
    with pytest.raises(ValueError, match="nbytes"):
        p.buffer_updated(len(p.get_buffer()) + 1)
