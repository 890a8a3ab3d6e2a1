"""Codec tests: every test runs on both twins through the ``codec`` fixture."""

from __future__ import annotations

import array
import errno
import os
import signal
import struct
import threading
import time
import zlib

import pytest

from websocket import IncompleteFrame, MessageTooBig, ProtocolError, _speedups_py
from websocket._codec import ROOMS

from .vectors import FRAMES

VECTOR_IDS = [v[0] for v in FRAMES]


def reference_mask(data: bytes, key: bytes, phase: int = 0) -> bytes:
    return bytes(b ^ key[(i + phase) % 4] for i, b in enumerate(data))


def buffer_kinds(data: bytes):
    """The same bytes as bytes, bytearray, memoryview and a strided view."""
    doubled = bytearray(len(data) * 2)
    doubled[::2] = data
    strided = memoryview(doubled)[::2]
    assert not strided.c_contiguous or len(data) <= 1
    return [data, bytearray(data), memoryview(data), strided]


# -- masking ------------------------------------------------------------------


@pytest.mark.parametrize("phase", range(4))
def test_mask_matches_reference_all_lengths_and_offsets(codec, phase):
    key = b"\x01\x80\xfe\x7f"
    base = os.urandom(64 + 8)
    for length in range(65):
        for offset in range(8):  # misaligned source slices
            data = memoryview(base)[offset : offset + length]
            expected = reference_mask(bytes(data), key, phase)
            assert codec.mask(data, key, phase) == expected
            dst = bytearray(length + 3)
            assert codec.mask_into(memoryview(dst)[3:], data, key, phase) == (phase + length) % 4
            assert bytes(dst[3:]) == expected


@pytest.mark.parametrize("length", [127, 128, 255, 256, 257, 4096 + 3, 1 << 20])
def test_mask_long_buffers_and_chunked_continuation(codec, length):
    key = os.urandom(4)
    data = os.urandom(length)
    whole = codec.mask(data, key)
    # The pure twin's big-integer XOR is an independent reference for sizes
    # where the byte-by-byte one is too slow.
    reference = reference_mask(data, key) if length < 5000 else _speedups_py.mask(data, key)
    assert whole == reference
    assert codec.mask(whole, key) == data  # masking twice unmasks
    # Masking in chunks of odd sizes with the returned phase gives the same.
    out = bytearray(length)
    pos, phase = 0, 0
    for size in (1, 3, 7, 300, 5, 1 << 16):
        chunk = data[pos : pos + size]
        phase = codec.mask_into(memoryview(out)[pos : pos + len(chunk)], chunk, key, phase)
        pos += len(chunk)
    phase = codec.mask_into(memoryview(out)[pos:], data[pos:], key, phase)
    assert bytes(out) == whole


def test_mask_in_place_and_buffer_kinds(codec):
    key = b"abcd"
    data = bytes(range(50))
    for kind in buffer_kinds(data):
        assert codec.mask(kind, key) == reference_mask(data, key)
    buf = bytearray(data)
    codec.mask_into(buf, buf, key)
    assert bytes(buf) == reference_mask(data, key)
    assert codec.mask(array.array("i", [1, 2]), key) == reference_mask(
        array.array("i", [1, 2]).tobytes(), key
    )


def test_mask_bad_arguments(codec):
    with pytest.raises(ValueError, match="4 bytes, got 3"):
        codec.mask(b"x", b"abc")
    with pytest.raises(TypeError):
        codec.mask("text", b"abcd")
    with pytest.raises(TypeError):
        codec.mask_into(b"readonly", b"x", b"abcd")
    with pytest.raises(ValueError, match="shorter"):
        codec.mask_into(bytearray(1), b"xy", b"abcd")
    with pytest.raises(ValueError):
        codec.mask(b"x", b"abcd", -1)


# -- decode_frame -------------------------------------------------------------


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


# -- encode_frame -------------------------------------------------------------


def test_encode_str_is_utf8_and_random_masks(codec):
    a = codec.encode_frame(1, "é")
    b = codec.encode_frame(1, "é")
    assert codec.decode_frame(a)["payload"] == "é".encode()
    assert a[2:6] != b[2:6] or a[2:6] != codec.encode_frame(1, "é")[2:6]
    assert codec.encode_frame(9, "", False) == b"\x89\x00"


@pytest.mark.parametrize(
    "args, kwargs, exc, message",
    [
        ((3, b""), {}, ValueError, "reserved opcode 0x3"),
        ((0xB, b""), {}, ValueError, "reserved opcode 0xb"),
        ((16, b""), {}, ValueError, "invalid opcode 16"),
        ((-1, b""), {}, ValueError, "invalid opcode -1"),
        (("1", b""), {}, TypeError, "opcode must be an int"),
        ((9, b"x" * 126), {}, ValueError, "126 bytes exceeds 125"),
        ((8, b""), {"fin": False}, ValueError, "must not be fragmented"),
        ((2, 12), {}, TypeError, "bytes-like"),
        ((2, b""), {"mask_key": b"abc"}, ValueError, "4 bytes, got 3"),
        ((2, b"", False), {"mask_key": b"abcd"}, ValueError, "masked=False"),
    ],
)
def test_encode_bad_arguments(codec, args, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        codec.encode_frame(*args, **kwargs)


def test_encode_lengths_use_minimal_form(codec):
    for n, header in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)]:
        wire = codec.encode_frame(2, bytes(n), False)
        assert len(wire) == header + n
        assert codec.decode_frame(wire)["length"] == n


# -- FrameEncoder -------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 1 << 20, (1 << 20) + 3])
def test_frame_encoder_masked_round_trip(codec, size):
    encoder = codec.FrameEncoder()
    payload = os.urandom(size)
    frames = [bytes(encoder.encode(2, payload)) for _ in range(3)]
    keys = {f[len(f) - size - 4 : len(f) - size] for f in frames}
    assert len(keys) == 3  # a fresh key per frame
    for wire in frames:
        frame = codec.decode_frame(wire)
        assert (frame["opcode"], frame["masked"], frame["payload"]) == (2, True, payload)


def test_large_frames_share_a_buffer_valid_until_the_next_call(codec):
    """Frames over REUSE_FROM are built in one reused buffer (both twins):
    sizes that shrink, grow past it and straddle REUSE_FROM each decode to
    their payload, and a view still held from an earlier frame never stops
    a larger one from being built (a new buffer, not a resize)."""
    encoder = codec.FrameEncoder()
    reuse_from = codec.primitives.REUSE_FROM
    sizes = [70_000, 65_000, (1 << 20) + 1, 200_003, reuse_from - 14, reuse_from - 13, 3 << 20]
    held = []
    for size in sizes:
        payload = os.urandom(size)
        frame = encoder.encode(2, payload)
        held.append(memoryview(frame))  # the caller's view, kept
        assert codec.decode_frame(bytes(frame))["payload"] == payload, size
    assert len(bytes(held[-1])) == (3 << 20) + 14
    for view in held:
        view.release()


@pytest.mark.parametrize("text", ["", "a", "x" * 125, "abc" * 30_000, "é" * 40_000, "x" * 70_000 + "é"],
                         ids=["empty", "one", "125", "ascii-90k", "latin-80k", "mixed-70k"])
def test_encoder_sends_str_as_utf8_read_in_place_when_ascii(codec, text):
    """A str payload is its UTF-8 (an ASCII one read in place by the
    compiled twin, without encoding it): through encode() and send_to(),
    masked or not, and the str is unchanged."""
    import socket

    want = text.encode()
    for mask in (True, False):
        encoder = codec.FrameEncoder(mask=mask)
        frame = codec.decode_frame(bytes(encoder.encode(1, text)))
        assert (frame["masked"], frame["payload"]) == (mask, want)
        if codec.HAVE_FD_IO:
            a, b = socket.socketpair()
            with a, b:
                b.settimeout(10)
                encoder.send_to(a.fileno(), 1, text)
                a.shutdown(socket.SHUT_WR)
                received = bytearray()
                while chunk := b.recv(1 << 20):
                    received += chunk
            assert codec.decode_frame(received)["payload"] == want
    assert text.encode() == want
    with pytest.raises(UnicodeEncodeError):
        codec.FrameEncoder().encode(1, text + "\ud800")


def test_ascii_slice_is_the_ascii_of_a_slice(codec):
    """ascii_slice(text, start, stop) == text[start:stop].encode("ascii"),
    clamped as a slice is; the compiled twin's is a read-only view of the
    str that keeps it alive.  Not ASCII, or a negative index: ValueError
    naming it."""
    ascii_slice = codec.primitives.ascii_slice
    text = "".join(chr(32 + i % 95) for i in range(300_001))
    for start, stop in [(0, 0), (0, 1), (5, 17), (0, 262_144), (262_144, 524_288), (299_999, 400_000),
                        (400_000, 500_000), (10, 3), (0, 300_001)]:
        piece = ascii_slice(text, start, stop)
        assert bytes(piece) == text[start:stop].encode("ascii"), (start, stop)
    view = memoryview(ascii_slice("k" * 1000 + "end", 1000, 2000))
    assert view.readonly and bytes(view) == b"end"
    del view
    kept = memoryview(ascii_slice("".join(["q"] * 5000), 4990, 5000))
    import gc

    gc.collect()  # the str's only reference is the slice's
    assert bytes(kept) == b"q" * 10
    with pytest.raises(ValueError, match="ASCII str, got one of 4 characters"):
        ascii_slice("abcé", 0, 2)
    with pytest.raises(ValueError, match="slice -1:3 has a negative index"):
        ascii_slice("abc", -1, 3)
    with pytest.raises(TypeError):
        ascii_slice(b"abc", 0, 3)


def test_frame_encoder_unmasked_flags_and_text(codec):
    encoder = codec.FrameEncoder(mask=False)
    wire = bytes(encoder.encode(1, "hé", fin=False, rsv1=True))
    assert wire == b"\x41\x03h\xc3\xa9"


# -- Utf8Validator ------------------------------------------------------------


def test_validator_basic(codec):
    v = codec.Utf8Validator()
    assert v.feed(b"h\xc3") and v.valid and not v.complete
    assert v.feed(b"\xa9") and v.complete
    assert not v.feed(b"\xed\xa0")  # a surrogate fails on its second byte
    assert not v.valid and not v.feed(b"ok")
    v.reset()
    assert v.complete and v.feed(b"ok")
    assert codec.validate_utf8(b"\xf0\x9f\x98\x80") and not codec.validate_utf8(b"\xc0\x80")


# -- FrameParser --------------------------------------------------------------


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


# -- FrameEncoder.send_to ------------------------------------------------------


@pytest.mark.parametrize("mask", [True, False])
@pytest.mark.parametrize("size", [0, 125, 70_000, (1 << 20) - 14, 1 << 20, (2 << 20) + 3, (3 << 20) + 5])
def test_send_to_writes_whole_frames(codec, mask, size):
    import socket
    import threading

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        payload = os.urandom(size)
        encoder = codec.FrameEncoder(mask=mask)
        received = bytearray()

        def reader():
            while chunk := b.recv(1 << 20):
                received.extend(chunk)

        thread = threading.Thread(target=reader)
        thread.start()
        encoder.send_to(a.fileno(), 2, payload)
        encoder.send_to(a.fileno(), 1, "é", fin=False, rsv1=True)
        a.shutdown(socket.SHUT_WR)
        thread.join(10)
        first = codec.decode_frame(received)
        assert (first["opcode"], first["masked"], first["payload"]) == (2, mask, payload)
        second = codec.decode_frame(memoryview(received)[first["size"] :])
        assert (second["fin"], second["rsv1"], second["payload"]) == (False, True, "é".encode())
        assert first["size"] + second["size"] == len(received)


def test_send_to_reports_errors(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    b.close()
    with a:
        with pytest.raises(OSError):
            codec.FrameEncoder().send_to(a.fileno(), 2, b"x" * 100)


# -- hold_signals: what keeps a TLS read whole ----------------------------------


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask (POSIX)")
def test_hold_signals_defers_handlers_until_release(codec):
    seen: list[int] = []
    old = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    try:
        held = codec.hold_signals()
        try:
            os.kill(os.getpid(), signal.SIGUSR1)
            sum(range(1000))  # Python code, where a handler would run
            during = list(seen)
        finally:
            if held:
                codec.release_signals()
        sum(range(1000))
        # The compiled twin holds them (main thread); the pure one says it
        # cannot, and the handler ran at once.
        assert held == (codec.name == "cython")
        assert during == ([] if held else [signal.SIGUSR1])
        assert seen == [signal.SIGUSR1]
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == set(), "the mask was not restored"
    finally:
        signal.signal(signal.SIGUSR1, old)


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask (POSIX)")
def test_hold_signals_holds_nothing_outside_the_main_thread(codec):
    # CPython runs handlers only in the main thread: elsewhere nothing to hold.
    elsewhere: list[bool] = []
    thread = threading.Thread(target=lambda: elsewhere.append(codec.hold_signals()))
    thread.start()
    thread.join()
    assert elsewhere == [False]


# -- recv_into: the receive fast path's read ---------------------------------


def test_recv_into_fills_the_region_only(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        buf = bytearray(b"." * 16)
        a.sendall(b"hello world")
        assert codec.recv_into(b.fileno(), buf, 3, 5) == 5  # at most size
        assert buf == b"...hello........"
        assert codec.recv_into(b.fileno(), memoryview(buf), 10, 6) == 6
        assert buf == b"...hello.. world"
        a.close()
        assert codec.recv_into(b.fileno(), buf, 0, 16) == 0  # EOF


def test_recv_into_refuses_bad_arguments(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        fd = b.fileno()
        for start, size in [(-1, 4), (0, 0), (0, 17), (13, 4), (16, 1)]:
            with pytest.raises(ValueError, match=rf"region {start}\+{size} is outside the buffer's 16 bytes"):
                codec.recv_into(fd, bytearray(16), start, size)
        for buffer in (b"x" * 16, "text", None):
            with pytest.raises(TypeError, match="buffer must be a writable buffer"):
                codec.recv_into(fd, buffer, 0, 1)
    with pytest.raises(OSError) as closed:
        codec.recv_into(fd, bytearray(16), 0, 16)
    assert closed.value.errno == errno.EBADF


def test_recv_into_counts_bytes_of_wider_items(codec):
    # A buffer of 4-byte items: start and size count bytes, as recv does.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        items = array.array("i", [0, 0, 0])
        a.sendall(b"\x01\x00\x00\x00")
        assert codec.recv_into(b.fileno(), items, 4, 8) == 4
        assert items.tolist() == [0, 1, 0]


def test_recv_into_waits_at_most_timeout(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        buf = bytearray(8)
        started = time.monotonic()
        assert codec.recv_into(b.fileno(), buf, 0, 8, 0.1) == -1  # nothing came
        assert time.monotonic() - started >= 0.099  # never cut short
        assert codec.recv_into(b.fileno(), buf, 0, 8, 0.0) == -1
        a.sendall(b"here")
        assert codec.recv_into(b.fileno(), buf, 0, 8, 0.0) == 4
        timer = threading.Timer(0.1, a.sendall, (b"later",))
        timer.start()
        assert codec.recv_into(b.fileno(), buf, 0, 8, 10.0) == 5  # as soon as it comes
        timer.join()
        assert buf[:5] == b"later"
        a.close()
        assert codec.recv_into(b.fileno(), buf, 0, 8, 10.0) == 0  # EOF


@pytest.mark.parametrize("timeout", [-1.0, 10.0])
def test_recv_into_runs_signal_handlers(codec, alarm, timeout):
    # PEP 475: a handler's exception propagates with nothing read; a
    # handler that returns lets the wait go on (with a timeout too).
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    arm, calls = alarm
    a, b = socket.socketpair()
    with a, b:
        buf = bytearray(8)
        arm(0.05)
        with pytest.raises(KeyboardInterrupt):
            codec.recv_into(b.fileno(), buf, 0, 8, timeout)
        timer = threading.Timer(0.3, a.sendall, (b"late",))
        timer.start()
        arm(0.05)
        assert codec.recv_into(b.fileno(), buf, 0, 8, timeout) == 4
        timer.join()
        assert buf[:4] == b"late"
    assert len(calls) == 2


# -- send_all: the TLS send fast path's write ---------------------------------


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "array", "empty"])
def test_send_all_writes_everything(codec, kind):
    # 4 MiB is many times the socket buffer: the write is made in parts,
    # with a reader draining the other end meanwhile.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    payload = bytes(range(256)) * (4 * 4096) if kind != "empty" else b""
    data = {
        "bytes": payload,
        "bytearray": bytearray(payload),
        "memoryview": memoryview(bytearray(payload)),
        "array": array.array("i", payload),  # 4-byte items: every byte counts
        "empty": payload,
    }[kind]
    a, b = socket.socketpair()
    got = bytearray()

    def drain():
        while chunk := b.recv(65536):
            got.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    with a, b:
        codec.send_all(a.fileno(), data)
        a.shutdown(socket.SHUT_WR)
        reader.join(10)
    assert not reader.is_alive()
    assert got == payload


def test_send_all_refuses_bad_arguments(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        for data in ("text", None, 5):
            with pytest.raises(TypeError, match=f"data must be a bytes-like object, not {type(data).__name__}"):
                codec.send_all(a.fileno(), data)
        b.close()  # the peer is gone: EPIPE (Python ignores SIGPIPE)
        with pytest.raises(OSError) as gone:
            codec.send_all(a.fileno(), b"x" * 100_000)
        assert gone.value.errno in (errno.EPIPE, errno.ECONNRESET)
    with pytest.raises(OSError) as closed:
        codec.send_all(a.fileno(), b"x")
    assert closed.value.errno == errno.EBADF


def test_send_all_runs_signal_handlers(codec, alarm):
    # PEP 475: a write blocked on a full socket buffer runs the handler;
    # its exception propagates (part of the data written), and a handler
    # that returns lets the write go on until everything is written.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    arm, calls = alarm
    a, b = socket.socketpair()
    with a, b:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        arm(0.05)
        with pytest.raises(KeyboardInterrupt):
            codec.send_all(a.fileno(), b"x" * 4_000_000)  # nobody reads
        b.setblocking(False)
        try:
            while b.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
        b.setblocking(True)
        got = bytearray()

        def drain_later():
            time.sleep(0.3)
            while len(got) < 1_000_000:
                got.extend(b.recv(65536))

        reader = threading.Thread(target=drain_later)
        reader.start()
        arm(0.05)
        codec.send_all(a.fileno(), b"y" * 1_000_000)
        reader.join(10)
        assert got == b"y" * 1_000_000
    assert len(calls) == 2


@pytest.mark.parametrize("opcode", [-1, 16, 300])
def test_encoder_refuses_opcodes_outside_4_bits(codec, opcode):
    # The compiled encoder used to put 300 on the wire as 0xC with RSV bits.
    with pytest.raises(ValueError, match=f"invalid opcode {opcode}: must be 0-15"):
        codec.FrameEncoder().encode(opcode, b"x")


def test_send_to_says_when_a_frame_was_partly_written(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        encoder = codec.FrameEncoder()
        encoder.send_to(a.fileno(), 2, b"small")
        assert encoder.partial is False
        got = b.recv(100)
        assert codec.decode_frame(got)["payload"] == b"small"
        a.setblocking(False)  # the big frame fills the buffer, then EAGAIN
        with pytest.raises(OSError):
            encoder.send_to(a.fileno(), 2, b"x" * (4 << 20))
        assert encoder.partial is True


def test_frame_header_primitive(codec):
    assert codec.frame_header(0x82, 5, False) == b"\x82\x05"
    assert codec.frame_header(0x81, 300, True) == b"\x81\xfe\x01\x2c"
    assert codec.frame_header(0x02, 1 << 16, False) == b"\x02\x7f" + (1 << 16).to_bytes(8, "big")
    with pytest.raises(ValueError, match="first header byte 256"):
        codec.frame_header(256, 0, False)


def test_after_a_big_frame_the_next_read_is_one_header(codec):
    p = codec.FrameParser()
    assert len(p.get_buffer()) > 1000
    wire = codec.encode_frame(2, bytes(200_000), False)
    p.feed(wire[:1000])
    assert p.next_message() is None  # a big frame: its payload gets its own buffer
    p.feed(wire[1000:])
    assert p.next_message()["data"] == bytes(200_000)
    assert len(p.get_buffer()) == 14
    p.feed(codec.encode_frame(2, b"small", False))
    assert p.next_message()["data"] == b"small"
    assert len(p.get_buffer()) > 1000  # small frames: back to big reads


def test_reads_that_come_back_full_grow_up_to_a_cap_and_keep_every_byte(codec):
    """A feed of small frames faster than they are parsed: each full read
    doubles the next one (fewer system calls), up to 512 KiB, while the
    frames split across reads and buffer moves all come out intact."""
    p = codec.FrameParser(None)
    assert p.buffer_size == 4 * 1024  # an idle connection keeps little
    frames = [codec.encode_frame(2, bytes([i % 251]) * (4000 + i % 97), False) for i in range(1200)]
    wire = b"".join(frames)
    offers, got, at = [], [], 0
    while at < len(wire):
        buf = p.get_buffer()
        offers.append(len(buf))
        n = min(len(buf), len(wire) - at)
        buf[:n] = wire[at : at + n]
        p.buffer_updated(n)
        at += n
        while (msg := p.next_message()) is not None:
            got.append(msg["data"])
    assert got == [bytes([i % 251]) * (4000 + i % 97) for i in range(1200)]
    assert p.buffered == 0
    assert offers[:9] == [2 << k << 10 for k in range(9)]  # 2 KiB, 4 KiB ... 512 KiB
    assert max(offers) == 512 * 1024
    # (Then up to the buffer's end, and from its front again.)
    assert len(offers) <= len(wire) // (256 * 1024) + 10
    assert p.buffer_size == 1024 * 1024  # twice the largest read, no more


def test_short_reads_do_not_grow_the_read(codec):
    p = codec.FrameParser(None)
    for _ in range(50):
        buf = p.get_buffer()
        assert len(buf) == 2 * 1024
        wire = codec.encode_frame(2, b"x" * 1000, False)
        buf[: len(wire)] = wire
        p.buffer_updated(len(wire))
        assert p.next_message()["data"] == b"x" * 1000
    assert p.buffer_size == 4 * 1024
    # buffer_size is the first size; reads start at half of it.
    big = codec.FrameParser(None, buffer_size=128 * 1024)
    assert len(big.get_buffer()) == 64 * 1024
    with pytest.raises(ValueError, match="buffer_size must be an int >= 4096, got 4095"):
        codec.FrameParser(None, buffer_size=4095)


def test_the_buffer_shrinks_back_when_reads_get_short(codec):
    """After a burst grew the reads and the buffer to their cap, short
    reads halve the read again and an empty buffer is replaced by a
    smaller one, down to where it started: memory follows the work."""
    p = codec.FrameParser(None)
    frame = codec.encode_frame(2, b"y" * 1000, False)
    burst = frame * 2000  # 2 MB of whole frames
    at = 0
    while at < len(burst):
        buf = p.get_buffer()
        n = min(len(buf), len(burst) - at)
        buf[:n] = burst[at : at + n]
        p.buffer_updated(n)
        at += n
        while p.next_message() is not None:
            pass
    assert p.buffer_size == 1024 * 1024
    sizes = []
    for _ in range(20):  # then one small message per read
        buf = p.get_buffer()
        buf[: len(frame)] = frame
        p.buffer_updated(len(frame))
        assert p.next_message()["data"] == b"y" * 1000
        sizes.append(p.buffer_size)
    # Eight short reads halve the read down to 2 KiB; the buffer goes back
    # then, at once (not at each step: a flow whose reads swing would pay).
    assert sizes[:7] == [1024 * 1024] * 7
    assert sizes[-1] == 4 * 1024 and len(p.get_buffer()) == 2 * 1024


# -- FastLock ---------------------------------------------------------------


def test_fast_lock_is_a_non_reentrant_lock(codec):
    lock = codec.FastLock()
    assert not lock.locked()
    assert lock.acquire() is True and lock.locked()
    assert lock.acquire(False) is False  # not reentrant
    start = time.monotonic()
    assert lock.acquire(timeout=0.05) is False
    assert time.monotonic() - start >= 0.04
    lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
    with lock:
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(ValueError):
        lock.acquire(False, 1.0)
    with pytest.raises(ValueError):
        lock.acquire(timeout=-2)


def test_fast_lock_wakes_a_blocked_thread_and_excludes(codec):
    lock = codec.FastLock()
    counter = [0]

    def work():
        for _ in range(2000):
            with lock:
                value = counter[0]
                if value % 500 == 0:
                    time.sleep(0)  # let the GIL move inside
                counter[0] = value + 1

    lock.acquire()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert counter[0] == 0  # all blocked while it is held
    lock.release()
    for t in threads:
        t.join(10)
    assert counter[0] == 8000


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")
def test_fast_lock_blocked_acquire_runs_signal_handlers(codec):
    lock = codec.FastLock()
    lock.acquire()

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            lock.acquire(timeout=5)
        assert time.monotonic() - start < 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_fast_lock_goes_to_a_waiter_while_its_holder_loops(codec):
    """A thread that releases and takes the lock again in a loop does not
    starve a waiter.  The holder keeps the GIL between its release and its
    next acquire; a lock whose free state is a flag under the GIL would
    be taken back every time unless release() hands it over."""
    lock = codec.FastLock()
    stop = threading.Event()
    rounds = [0]

    def holder():
        while not stop.is_set():
            with lock:
                rounds[0] += 1
                deadline = time.perf_counter() + 0.0002
                while time.perf_counter() < deadline:  # holds the GIL too
                    pass

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        while rounds[0] < 3:
            time.sleep(0.001)
        got = []
        for _ in range(20):
            got.append(lock.acquire(timeout=10))
            if got[-1]:
                lock.release()
    finally:
        stop.set()
        thread.join(10)
    assert got == [True] * 20
    assert not thread.is_alive()
    assert lock.acquire(False) is True


def test_fast_lock_waiters_that_time_out_leave_it_whole(codec):
    """Waiters with short timeouts leave, some just as the lock is handed
    to them: every acquire that returned True excluded the others, and
    the lock ends free (a hand-over to waiters that all left is taken
    back)."""
    lock = codec.FastLock()
    inside = [0]
    taken = [0]
    errors = []

    def work(seed):
        for i in range(300):
            if lock.acquire(timeout=((seed + i) % 4) * 0.0001):
                try:
                    inside[0] += 1
                    if inside[0] != 1:
                        errors.append(inside[0])
                    if i % 7 == 0:
                        time.sleep(0.0001)  # hold it across a GIL switch
                    taken[0] += 1
                    inside[0] -= 1
                finally:
                    lock.release()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and taken[0] > 0
    assert not lock.locked()
    assert lock.acquire(False) is True
    lock.release()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")
@pytest.mark.parametrize("other_waiter", [False, True])
def test_fast_lock_released_to_a_waiter_its_handler_interrupts(codec, other_waiter):
    """The lock is released while the main thread waits for it (by the
    signal handler itself, so that the release lands in the wait), and the
    handler's exception leaves the wait: the lock goes to the other waiter,
    or with none it ends free; it is never lost."""
    lock = codec.FastLock()
    lock.acquire()
    got = []

    def wait():
        got.append(lock.acquire(timeout=10))
        if got[-1]:
            lock.release()

    waiter = threading.Thread(target=wait)
    if other_waiter:
        waiter.start()
        time.sleep(0.05)  # blocked in acquire()

    def handler(signum, frame):
        lock.release()  # allowed from any thread, as for threading.Lock
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(KeyboardInterrupt):
            lock.acquire(timeout=10)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if other_waiter:
        waiter.join(10)
        assert got == [True]
    assert lock.acquire(timeout=5) is True
    lock.release()
    assert not lock.locked()


@pytest.mark.parametrize("step", [1, 3, 5000, 65_536, 70_004, 10**6])
def test_feed_across_the_end_of_a_big_frame(codec, step):
    """feed() given the end of a big frame (received straight into its
    message) and what follows it: the rest goes to the buffer after it.
    (get_buffer() offered an empty buffer there, and feed() looped forever.)"""
    from .servers import server_frame

    parser = codec.FrameParser(None)
    wire = server_frame(1, "x" * 70_000) + server_frame(2, b"\x01" * 100_000) + server_frame(1, "end")
    got = []
    for i in range(0, len(wire), step):
        parser.feed(wire[i : i + step])
        while (msg := parser.next_message()) is not None:
            got.append((msg["type"], len(msg["data"])))
    assert got == [("text", 70_000), ("binary", 100_000), ("text", 3)]
    assert parser.buffered == 0


@pytest.mark.parametrize("room", ROOMS)
def test_a_compiled_room_calls_the_c_primitive_of_each_twin_it_names(room):
    # A room's .py star-imports the primitives' twins (_speedups_py) and its
    # .pxd cimports the C ones under the same names, which the compiled
    # build then calls.  A twin named in the .py but not cimported would
    # run as plain Python inside the compiled build, slowly and silently.
    import ast
    import pathlib
    import re

    here = pathlib.Path(_speedups_py.__file__).parent
    source = (here / f"{room}.py").read_text()
    named = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    used = named & set(_speedups_py.__all__)
    cimported = set()
    pxd = (here / f"{room}.pxd").read_text()
    for match in re.finditer(r"from websocket\._speedups cimport (?:\(([^)]*)\)|([^\n]*))", pxd):
        for part in (match.group(1) or match.group(2)).split(","):
            words = part.split()
            if len(words) == 1:  # (an aliased type is cimported for typing only)
                cimported.add(words[0])
    assert used, f"{room}.py names no primitive"
    assert used <= cimported, f"{room}.pxd does not cimport {sorted(used - cimported)}"
