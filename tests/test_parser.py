"""FrameParser's piecewise reads: next_piece() (receive_streaming) and
next_piece_into() (receive_into), on both implementations.

What they promise: the pieces of a message joined are exactly what
next_message() returns for it, in any chunking; control frames between
fragments come out as they arrive; UTF-8 and max_size are enforced as the
bytes arrive; a big message never sits whole in memory; a buffer too small
is reported without losing the stream; switching between whole and
piecewise reads mid-message never corrupts what follows.
"""

from __future__ import annotations

import random
import tracemalloc
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from websocket import BufferTooSmall, MessageTooBig, ProtocolError

from .conftest import TWINS as TWIN_NAMES
from .conftest import load_twin


def frames(codec, *specs) -> bytes:
    """Server frames from (opcode, payload[, options]) triples."""
    return b"".join(codec.encode_frame(s[0], s[1], False, **(s[2] if len(s) > 2 else {})) for s in specs)


def pieces(parser, data: bytes, chunk: int):
    """Feed ``data`` in chunks and collect (opcode, fin, piece) events."""
    out = []
    for at in range(0, max(len(data), 1), chunk):
        parser.feed(data[at : at + chunk])
        while (piece := parser.next_piece()) is not None:
            if isinstance(piece, dict):
                out.append((parser.last_opcode, None, piece))
            else:
                out.append((parser.last_opcode, parser.piece_fin, piece))
    return out


def joined(events):
    """The messages the pieces make, and the control frames between."""
    messages, current = [], []
    for opcode, fin, piece in events:
        if fin is None:
            messages.append(piece)
            continue
        current.append(piece)
        if fin:
            data = "".join(current) if opcode == 1 and isinstance(piece, str) else b"".join(current)
            messages.append({"type": "text" if opcode == 1 else "binary", "data": data})
            current = []
    assert current == [], "a message without its last piece"
    return messages


WIRE = [
    (1, "héllo wörld"),
    (2, b"\x00\x01" * 40000),
    (9, b"ping"),
    (1, "frag", {"fin": False}),
    (9, b"mid"),
    (0, "m\u00e9nt", {"fin": False}),
    (0, b"", {"fin": False}),
    (0, "ed \U0001f600"),
    (2, b""),
    (2, b"a" * 300, {"fin": False}),
    (0, b"b" * 70000),
]


@pytest.mark.parametrize("chunk", [1, 7, 125, 4096, 1 << 20])
def test_pieces_join_to_the_messages(codec, chunk):
    data = frames(codec, *WIRE)
    whole = codec.FrameParser(None)
    whole.feed(data)
    expected = []
    while (msg := whole.next_message()) is not None:
        expected.append(msg)
    events = pieces(codec.FrameParser(None), data, chunk)
    assert joined(events) == expected
    # No empty piece, except a whole empty message.
    assert all(p != b"" and p != "" or fin for _, fin, p in events if fin is not None)
    # Pieces come as the bytes arrive: the 80 kB frame in many of them.
    if chunk < 4096:
        assert sum(1 for op, fin, p in events if op == 2 and fin is not None) > 10


def test_text_pieces_never_split_a_character(codec):
    text = "aé€\U0001f600" * 1000
    events = pieces(codec.FrameParser(None), frames(codec, (1, text)), 3)
    assert all(isinstance(p, str) for _, _, p in events)
    assert "".join(p for _, _, p in events) == text
    as_bytes = pieces(codec.FrameParser(None, decode_text=False), frames(codec, (1, text)), 3)
    assert b"".join(p for _, _, p in as_bytes) == text.encode()


@pytest.mark.parametrize("decode_text", [True, False])
def test_invalid_utf8_fails_as_the_bytes_arrive(codec, decode_text):
    parser = codec.FrameParser(None, decode_text=decode_text)
    # A surrogate (ED A0 80) in the first piece of a 1 MB message: the error
    # comes from the first call, long before the rest.
    parser.feed(frames(codec, (1, b"ok \xed\xa0\x80" + b"x" * (1 << 20)))[:20])
    with pytest.raises(ProtocolError, match="invalid UTF-8") as info:
        parser.next_piece()
    assert info.value.code == 1007
    with pytest.raises(ProtocolError):  # and again from every later call
        parser.next_piece()
    # Truncated at the end of a fragmented message.
    parser = codec.FrameParser(None, decode_text=decode_text)
    parser.feed(frames(codec, (1, b"ok", {"fin": False}), (0, b"\xc3")))
    with pytest.raises(ProtocolError, match="invalid UTF-8"):
        while parser.next_piece() is not None:
            pass


def test_max_size_bounds_the_whole_message(codec):
    parser = codec.FrameParser(1000)
    parser.feed(frames(codec, (2, b"a" * 600, {"fin": False})))
    assert parser.next_piece() == b"a" * 600
    parser.feed(frames(codec, (0, b"b" * 600)))
    with pytest.raises(MessageTooBig) as info:
        parser.next_piece()
    assert info.value.size > 1000 and info.value.max_size == 1000
    one = codec.FrameParser(1000)
    one.feed(frames(codec, (2, b"x" * 1001))[:10])  # refused on its header
    with pytest.raises(MessageTooBig):
        one.next_piece()


def test_a_big_message_never_sits_whole_in_memory(codec):
    size = 64 << 20
    parser = codec.FrameParser(None)
    header = frames(codec, (2, b"\x07" * 0))[:0] + bytes([0x82, 127]) + size.to_bytes(8, "big")
    chunk = b"\x07" * (256 << 10)
    total = 0
    tracemalloc.start()
    try:
        parser.feed(header)
        for _ in range(size // len(chunk)):
            parser.feed(chunk)
            while (piece := parser.next_piece()) is not None:
                assert piece.count(7) == len(piece)
                total += len(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size and parser.piece_fin
    assert peak < 4 << 20, f"peak {peak} bytes while streaming {size}"


def compressed(data: bytes) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def test_compressed_messages_in_pieces(codec):
    text = ("compressible " * 50000).encode()
    blob = compressed(text)
    parser = codec.FrameParser(None)
    parser.set_inflater(codec.compression.Inflater(15, True))
    half = len(blob) // 2
    wire = frames(codec, (1, blob[:half], {"fin": False, "rsv1": True}), (9, b"p"), (0, blob[half:]))
    events = pieces(parser, wire, 1000)
    assert [m for m in joined(events) if m["type"] != "text"] == [{"type": "ping", "data": b"p"}]
    assert "".join(p for op, fin, p in events if op == 1) == text.decode()
    # max_size bounds the decompressed size, piece by piece.
    small = codec.FrameParser(len(text) - 1)
    small.set_inflater(codec.compression.Inflater(15, True))
    with pytest.raises(MessageTooBig, match="decompressed"):
        pieces(small, frames(codec, (2, blob, {"rsv1": True})), 1000)


def test_deflater_pieces_make_one_stream(codec):
    deflater = codec.compression.Deflater(6, 15, 8, False)
    parts = [b"abc" * 1000, b"", b"xyz" * 5000]
    wire = b"".join(bytes(deflater.compress(p, False)) for p in parts) + bytes(deflater.compress(b"", True))
    assert zlib.decompressobj(-15).decompress(wire + b"\x00\x00\xff\xff") == b"".join(parts)
    # The next message goes on with the same window, as a whole one does.
    again = bytes(deflater.compress(b"abc" * 1000))
    inflater = zlib.decompressobj(-15)
    inflater.decompress(wire + b"\x00\x00\xff\xff")
    assert inflater.decompress(again + b"\x00\x00\xff\xff") == b"abc" * 1000


# -- next_piece_into ----------------------------------------------------------


def into_all(parser, view):
    out = []
    while True:
        got = parser.next_piece_into(view)
        if got is None:
            return out
        if isinstance(got, dict):
            out.append(got)
        else:
            out.append((parser.last_opcode, bytes(view[:got])))


def test_into_writes_each_message_and_returns_controls(codec):
    buf = memoryview(bytearray(100_000))
    parser = codec.FrameParser(None)
    parser.feed(frames(codec, (1, "héllo"), (9, b"ping"), (2, b"a" * 50, {"fin": False}), (9, b"mid"), (0, b"b" * 50)))
    assert into_all(parser, buf) == [
        (1, "héllo".encode()),
        {"type": "ping", "data": b"ping"},
        {"type": "ping", "data": b"mid"},
        (2, b"a" * 50 + b"b" * 50),
    ]


def test_into_goes_on_where_it_stopped(codec):
    buf = memoryview(bytearray(1 << 20))
    data = bytes(random.Random(1).randbytes(300_000))
    wire = frames(codec, (2, data[:100_000], {"fin": False}), (0, data[100_000:]))
    parser = codec.FrameParser(None)
    for at in range(0, len(wire), 4099):
        parser.feed(wire[at : at + 4099])
        got = parser.next_piece_into(buf)
        if at + 4099 < len(wire):
            assert got is None
    assert got == len(data) and bytes(buf[:got]) == data


def test_into_one_frame_too_big_is_left_unread(codec):
    parser = codec.FrameParser(None)
    parser.feed(frames(codec, (2, b"x" * 600), (1, "next")))
    with pytest.raises(BufferTooSmall) as info:
        parser.next_piece_into(memoryview(bytearray(100)))
    assert (info.value.size, info.value.buffer_size, info.value.discarded) == (600, 100, False)
    assert "600" in str(info.value) and "100" in str(info.value)
    assert isinstance(info.value, ValueError)
    big = memoryview(bytearray(600))
    assert parser.next_piece_into(big) == 600 and bytes(big) == b"x" * 600
    assert parser.next_message() == {"type": "text", "data": "next"}


def test_into_fragmented_overflow_discards_the_rest(codec):
    parser = codec.FrameParser(None)
    buf = memoryview(bytearray(100))
    parser.feed(frames(codec, (2, b"a" * 80, {"fin": False}), (0, b"b" * 80, {"fin": False})))
    with pytest.raises(BufferTooSmall) as info:
        parser.next_piece_into(buf)
    assert info.value.discarded and info.value.size == 160
    assert bytes(buf) == b"a" * 80 + b"b" * 20  # its first bytes
    # The rest arrives later and is dropped; the next message is whole.
    parser.feed(frames(codec, (0, b"c" * 80), (2, b"next")))
    assert parser.next_piece_into(buf) == 4 and bytes(buf[:4]) == b"next"


def test_into_checks_utf8(codec):
    parser = codec.FrameParser(None)
    parser.feed(frames(codec, (1, b"a\xff")))
    with pytest.raises(ProtocolError) as info:
        parser.next_piece_into(memoryview(bytearray(10)))
    assert info.value.code == 1007


# -- switching between whole and piecewise reads ---------------------------------


def test_a_stream_left_unfinished_is_discarded_by_next_message(codec):
    parser = codec.FrameParser(None)
    parser.feed(frames(codec, (2, b"abc", {"fin": False})))
    assert parser.next_piece() == b"abc" and not parser.piece_fin
    parser.feed(frames(codec, (9, b"p"), (0, b"def", {"fin": False})))
    assert parser.next_message() == {"type": "ping", "data": b"p"}
    assert parser.next_message() is None
    parser.feed(frames(codec, (0, b"ghi"), (2, b"next")))
    assert parser.next_message() == {"type": "binary", "data": b"next"}


def test_a_message_started_whole_is_finished_whole(codec):
    parser = codec.FrameParser(None)
    parser.feed(frames(codec, (2, b"abc", {"fin": False})))
    assert parser.next_message() is None
    parser.feed(frames(codec, (0, b"def")))
    assert parser.next_piece() == b"abcdef" and parser.piece_fin
    parser.feed(frames(codec, (1, "x" * 10, {"fin": False})))
    assert parser.next_message() is None
    parser.feed(frames(codec, (0, "y")))
    buf = memoryview(bytearray(5))
    with pytest.raises(BufferTooSmall) as info:
        parser.next_piece_into(buf)
    assert info.value.discarded and bytes(buf) == b"xxxxx"


def test_into_after_a_stream_discards_it_and_back(codec):
    parser = codec.FrameParser(None)
    buf = memoryview(bytearray(100))
    parser.feed(frames(codec, (2, b"abc", {"fin": False})))
    assert parser.next_piece() == b"abc"
    serial = parser.stream_serial
    parser.feed(frames(codec, (0, b"def"), (2, b"one"), (2, b"two", {"fin": False})))
    assert parser.next_piece_into(buf) == 3 and bytes(buf[:3]) == b"one"
    assert parser.next_piece_into(buf) is None  # "two" is started
    assert parser.next_piece() is None  # and now discarded
    parser.feed(frames(codec, (0, b"!"), (2, b"three")))
    assert parser.next_piece() == b"three" and parser.stream_serial > serial
    parser.discard_message()  # nothing in progress: nothing happens
    assert parser.next_piece() is None


TWINS = [load_twin(name) for name in TWIN_NAMES]
#: Frames this big are received into their own memory (a C constant in the
#: compiled build, so read from the pure one).
BIG_FRAME = load_twin("python").parser.BIG_FRAME


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    specs=st.lists(
        st.tuples(st.sampled_from([1, 2]), st.binary(max_size=3000), st.integers(1, 3)), min_size=1, max_size=6
    ),
    cuts=st.lists(st.integers(1, 5000), min_size=1, max_size=8),
    into=st.booleans(),
)
def test_random_chunkings_agree_with_whole_messages(specs, cuts, into):
    for codec in TWINS:
        wire_specs, expected = [], []
        for opcode, payload, parts in specs:
            if opcode == 1:
                payload = payload.decode("latin-1").encode()  # valid UTF-8
            step = max(1, len(payload) // parts)
            chunks = [payload[i : i + step] for i in range(0, len(payload), step)] or [b""]
            for i, chunk in enumerate(chunks):
                wire_specs.append((opcode if i == 0 else 0, chunk, {"fin": i == len(chunks) - 1}))
            expected.append((opcode, payload))
        wire = frames(codec, *wire_specs)
        parser = codec.FrameParser(None, decode_text=False)
        buf = memoryview(bytearray(20_000))
        got, current, at, i = [], b"", 0, 0
        while at < len(wire):
            step = cuts[i % len(cuts)]
            i += 1
            parser.feed(wire[at : at + step])
            at += step
            while True:
                result = parser.next_piece_into(buf) if into else parser.next_piece()
                if result is None:
                    break
                if into:
                    got.append((parser.last_opcode, bytes(buf[:result])))
                    continue
                current += result
                if parser.piece_fin:
                    got.append((parser.last_opcode, current))
                    current = b""
        assert got == expected, codec.name


def test_a_big_frame_is_received_straight_into_the_buffer(codec):
    payload = random.Random(2).randbytes(3 * BIG_FRAME)
    wire = frames(codec, (2, payload), (2, b"next"))
    parser = codec.FrameParser(None)
    mine = bytearray(len(payload) + 10)
    view = memoryview(mine)
    parser.feed(wire[:1000])
    assert parser.next_piece_into(view) is None
    # The parser now offers parts of the caller's buffer to receive into.
    offered = parser.get_buffer()
    offered[:5] = wire[1000:1005]
    parser.buffer_updated(5)
    assert mine[1000 - 10 : 1000 - 5] == wire[1000:1005]
    parser.feed(wire[1005:100_000])
    assert parser.next_piece_into(view) is None
    # Another buffer on the next call: the bytes so far move to it.
    other = bytearray(len(payload))
    parser.feed(wire[100_000:])
    assert parser.next_piece_into(memoryview(other)) == len(payload)
    assert other == payload
    assert parser.next_piece_into(memoryview(other)) == 4 and other[:4] == b"next"


def test_a_big_frame_into_a_buffer_can_be_discarded(codec):
    payload = b"\x05" * (2 * BIG_FRAME)
    wire = frames(codec, (2, payload), (1, "after"))
    parser = codec.FrameParser(None)
    view = memoryview(bytearray(len(payload)))
    parser.feed(wire[:500])
    assert parser.next_piece_into(view) is None
    assert parser.next_message() is None  # discards it as it arrives
    parser.feed(wire[500:])
    assert parser.next_message() == {"type": "text", "data": "after"}


def test_into_a_new_view_goes_on_with_a_fragmented_message(codec):
    parser = codec.FrameParser(None)
    parser.feed(frames(codec, (2, b"first ", {"fin": False})))
    assert parser.next_piece_into(memoryview(bytearray(100))) is None
    parser.feed(frames(codec, (0, b"second")))
    other = bytearray(100)
    assert parser.next_piece_into(memoryview(other)) == 12 and other[:12] == b"first second"
    # A new view too small for what already arrived: nothing is lost.
    parser.feed(frames(codec, (2, b"x" * 50, {"fin": False})))
    big = memoryview(bytearray(100))
    assert parser.next_piece_into(big) is None
    parser.feed(frames(codec, (0, b"y")))
    with pytest.raises(BufferTooSmall) as info:
        parser.next_piece_into(memoryview(bytearray(10)))
    assert not info.value.discarded and info.value.size == 50
    assert parser.next_piece_into(big) == 51 and bytes(big[:51]) == b"x" * 50 + b"y"
