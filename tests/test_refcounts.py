"""Reference counts of the compiled path (and, for parity, the pure one).

Hand-written reference counting is where a C or Cython extension leaks or
frees too early.  Each call below runs many times on the same input
objects: their reference counts must come back to where they were (no
reference kept or lost), and every result must be a fresh object nothing
else holds (``sys.getrefcount`` is 2: the local name and the call's own
argument), or a value shared by design (None, small ints).  Total
allocated blocks must not grow with the number of calls either.
"""

from __future__ import annotations

import gc
import sys
import zlib

import pytest

from websocket import MessageTooBig, ProtocolError

ROUNDS = 2000


def refs(*objects) -> list[int]:
    return [sys.getrefcount(o) for o in objects]


def assert_no_leak(call, *inputs, fresh: bool = True) -> None:
    """``call()`` leaves the inputs' counts as they were and makes a fresh
    result each time; memory does not grow over ROUNDS calls."""
    for _ in range(50):  # warm caches and free lists
        call()
    gc.collect()
    before = refs(*inputs)
    blocks = sys.getallocatedblocks()
    for _ in range(ROUNDS):
        result = call()
        if fresh and result is not None and not isinstance(result, (bool, int)):
            assert sys.getrefcount(result) == 2, (call, result)
        del result
    gc.collect()
    assert refs(*inputs) == before, call
    # A leak of one object per call would add ROUNDS blocks.
    assert sys.getallocatedblocks() - blocks < ROUNDS // 4, call


def server_frames(codec) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    compressed = (z.compress(b"squeeze " * 50) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]
    return (
        codec.encode_frame(1, "h\u00e9llo", False)
        + codec.encode_frame(2, b"\x00" * 300, False, fin=False)
        + codec.encode_frame(9, b"ping", False)
        + codec.encode_frame(0, b"\x01" * 70000, False)
        + codec.encode_frame(2, compressed, False, rsv1=True)
        + codec.encode_frame(8, b"\x03\xe8bye", False)
    )


def test_primitives(codec):
    data, key = bytes(range(256)) * 4, b"\x01\x02\x03\x04"
    dst = bytearray(len(data))
    text = "h\u00e9llo w\u00f6rld".encode() * 10
    assert_no_leak(lambda: codec.mask(data, key, 1), data, key)
    assert_no_leak(lambda: codec.mask_into(dst, data, key, 3), dst, data, key)
    assert_no_leak(lambda: codec.frame_header(0x82, 70000, True), fresh=False)
    assert_no_leak(lambda: codec.validate_utf8(text), text)
    validator = codec.Utf8Validator()
    assert_no_leak(lambda: validator.feed(text[:7]) and validator.reset(), validator, text)


def test_encoding(codec):
    payload, text = b"\x07" * 1000, "caf\u00e9" * 100
    encoder = codec.FrameEncoder(True)
    assert_no_leak(lambda: encoder.encode(2, payload), encoder, payload)
    assert_no_leak(lambda: encoder.encode(1, text, False, True), encoder, text)
    assert_no_leak(lambda: codec.encode_frame(2, payload, True, fin=False), payload)


def test_decoding(codec):
    frame = codec.encode_frame(2, b"\x05" * 500, True)
    bad = b"\x82\x7e\x00\x01x"  # a non-minimal length
    assert_no_leak(lambda: codec.decode_frame(frame), frame)

    def fails():
        with pytest.raises(ProtocolError):
            codec.decode_frame(bad)

    assert_no_leak(fails, bad, fresh=False)


def test_the_parser_whole_piecewise_and_into(codec):
    stream = server_frames(codec)
    buffer = bytearray(1 << 17)
    view = memoryview(buffer)

    def whole():
        parser = codec.FrameParser(None)
        parser.set_inflater(codec.compression.Inflater(15, False))
        parser.feed(stream)
        out = []
        while (msg := parser.next_message()) is not None:
            out.append(msg)
        assert len(out) == 5
        return None

    def pieces():
        parser = codec.FrameParser(None)
        parser.set_inflater(codec.compression.Inflater(15, False))
        for at in range(0, len(stream), 999):  # in reads of 999 bytes
            parser.feed(stream[at : at + 999])
            while parser.next_piece() is not None:
                pass

    def into():
        parser = codec.FrameParser(None, decode_text=False)
        parser.feed(stream[: stream.index(b"\x02\x7e")])  # the text frame
        assert parser.whole_into(view) == len("h\u00e9llo".encode())

    def too_big():
        parser = codec.FrameParser(100)
        parser.feed(stream)
        parser.next_message()
        with pytest.raises(MessageTooBig):
            parser.next_message()

    for call in (whole, pieces, into, too_big):
        assert_no_leak(call, stream, buffer, view, fresh=False)
