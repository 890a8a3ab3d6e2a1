"""permessage-deflate's compression and bounded decompression (RFC 7692
§7.2; ``_compression.py``'s Inflater and Deflater, through the parser and
the protocol), on both builds (the ``codec`` fixture) and both zlib
backends."""

from __future__ import annotations

import os
import tracemalloc
import zlib

import pytest

from websocket import MessageTooBig, ProtocolError

from .conftest import TWINS, load_twin
from .servers import server_frame

TAIL = b"\x00\x00\xff\xff"


def deflate(data: bytes, wbits: int = 15, z=None) -> bytes:
    """A message payload as a peer compresses it (§7.2.1)."""
    z = z or zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


# -- compression and decompression (both builds, both zlib backends) -------------

BACKENDS = ["zlib", "zlib-ng"]


@pytest.fixture(params=BACKENDS, autouse=True)
def zlib_backend(request, monkeypatch):
    """Each test below runs with the standard library's zlib and with
    zlib-ng (the [zlib-ng] extra, a test dependency: missing is an error)."""
    if request.param == "zlib":
        module = zlib
    else:
        from zlib_ng import zlib_ng as module
    for twin in TWINS:
        monkeypatch.setattr(load_twin(twin).compression, "zlib", module)
    return request.param


def compressed_parser(codec, max_size=None, wbits=15, no_context_takeover=False):
    parser = codec.FrameParser(max_size)
    parser.set_inflater(codec.compression.Inflater(wbits, no_context_takeover))
    return parser


def messages(parser, data: bytes) -> list:
    parser.feed(data)
    out = []
    while (msg := parser.next_message()) is not None:
        out.append(msg)
    return out


def test_compressed_messages_with_context_takeover(codec):
    parser = compressed_parser(codec)
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    text = "".join(f'{{"price": {i * 7.25}, "size": {i % 13}}}' for i in range(40))
    first = deflate(text.encode(), z=z)
    second = deflate(text.encode(), z=z)  # refers back to the first message
    assert len(second) < len(first) / 4
    wire = server_frame(1, first, rsv1=True) + server_frame(1, second, rsv1=True)
    wire += server_frame(2, b"plain") + server_frame(2, deflate(b""), rsv1=True)
    assert messages(parser, wire) == [
        {"type": "text", "data": text},
        {"type": "text", "data": text},
        {"type": "binary", "data": b"plain"},
        {"type": "binary", "data": b""},
    ]


def test_fragmented_compressed_message_with_a_ping_between(codec):
    parser = compressed_parser(codec)
    data = os.urandom(50_000) + b"a" * 200_000
    payload = deflate(data)
    third = len(payload) // 3
    wire = (
        server_frame(2, payload[:third], fin=False, rsv1=True)
        + server_frame(9, b"p")
        + server_frame(0, payload[third : 2 * third], fin=False)
        + server_frame(0, payload[2 * third :])
    )
    assert messages(parser, wire) == [{"type": "ping", "data": b"p"}, {"type": "binary", "data": data}]


def test_big_compressed_frame_arriving_in_pieces(codec):
    parser = compressed_parser(codec)
    data = os.urandom(300_000)  # incompressible: a frame bigger than the buffer's share
    wire = server_frame(2, deflate(data), rsv1=True)
    got = []
    for i in range(0, len(wire), 7000):
        got += messages(parser, wire[i : i + 7000])
    assert got == [{"type": "binary", "data": data}]


def test_server_no_context_takeover_keeps_no_decompressor(codec):
    inflater = codec.compression.Inflater(15, True)
    parser = codec.FrameParser(None)
    parser.set_inflater(inflater)
    wire = server_frame(1, deflate(b"hello"), rsv1=True) * 3
    assert [m["data"] for m in messages(parser, wire)] == ["hello"] * 3


def inflate_in_window(data: bytes, wbits: int) -> bytes:
    """Inflate a byte at a time: zlib then resolves every distance from its
    2**wbits window alone (within one call it may also reach back into that
    call's output), so a stream needing a bigger window fails."""
    d = zlib.decompressobj(-wbits)
    return b"".join(d.decompress(data[i : i + 1]) for i in range(len(data)))


def test_deflater_honours_window_bits_and_context(codec):
    # Repeats 1000 bytes apart: a 9-bit (512-byte) window cannot refer to
    # them, a 15-bit one does, and inflating that with 9 bits fails.
    block = os.urandom(1000)
    data = block * 8
    nine = codec.compression.Deflater(6, 9, 8, False)
    out = bytes(nine.compress(data))
    assert inflate_in_window(out + TAIL, 9) == data
    fifteen = bytes(codec.compression.Deflater(6, 15, 8, False).compress(data))
    assert len(fifteen) < len(out) / 4
    with pytest.raises(zlib.error, match="distance too far back"):
        inflate_in_window(fifteen + TAIL, 9)
    # Context takeover: the second copy refers to the first message.
    keep = codec.compression.Deflater(6, 15, 8, False)
    reset = codec.compression.Deflater(6, 15, 8, True)
    d = zlib.decompressobj(-15)
    assert d.decompress(bytes(keep.compress(block)) + TAIL) == block
    again = bytes(keep.compress(block))
    assert len(again) < 100 and d.decompress(again + TAIL) == block
    for _ in range(2):  # no context takeover: each message inflates on its own
        alone = bytes(reset.compress(block))
        assert len(alone) > 1000
        assert zlib.decompressobj(-15).decompress(alone + TAIL) == block
    assert bytes(codec.compression.Deflater(6, 15, 8, False).compress("é")) == deflate("é".encode())


@pytest.mark.parametrize(
    "wire, error, code, message",
    [
        (server_frame(2, b"x", fin=False, rsv1=True) + server_frame(0, b"y", rsv1=True),
         ProtocolError, 1002, "RSV1 set on a continuation frame"),
        (server_frame(9, b"", rsv1=True), ProtocolError, 1002, "RSV1 set on a control frame"),
        (server_frame(2, b"x", rsv2=True), ProtocolError, 1002, "RSV2"),
        (server_frame(2, b"\xff\xff\xff", rsv1=True), ProtocolError, 1002, "invalid compressed data"),
        # A stream ended by a final block, then more data: it would be lost.
        (server_frame(2, zlib.compress(b"abc")[2:-4] + b"junk", rsv1=True), ProtocolError, 1002,
         "after the deflate stream ended"),
        (server_frame(1, deflate(b"caf\xc3"), rsv1=True), ProtocolError, 1007, "invalid UTF-8"),
    ],
)
def test_compressed_protocol_errors(codec, wire, error, code, message):
    parser = compressed_parser(codec)
    with pytest.raises(error, match=message) as info:
        messages(parser, wire)
    assert info.value.code == code


@pytest.mark.parametrize("size", [3, 20_000], ids=["joined with the tail", "apart"])
def test_a_message_ended_by_a_final_block(codec, size):
    """§7.2.3.4: a message may end its deflate stream with a final block.
    Small messages are inflated joined with the tail (Inflater.inflate):
    that tail is ours, while bytes the server put after the final block
    are counted exactly, even when they are the tail itself."""
    data = bytes(range(256)) * (size // 256) + b"abc"[: size % 256 or 3]
    final = zlib.compress(data)[2:-4]  # raw deflate, ending with BFINAL
    assert messages(compressed_parser(codec), server_frame(2, final, rsv1=True)) == [
        {"type": "binary", "data": data}
    ]
    for extra in (b"junk", TAIL):
        with pytest.raises(ProtocolError, match="^4 bytes of compressed data after"):
            messages(compressed_parser(codec), server_frame(2, final + extra, rsv1=True))


def test_invalid_utf8_fails_as_it_is_decompressed(codec):
    parser = compressed_parser(codec)
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = z.compress(b"ok \xff") + z.flush(zlib.Z_SYNC_FLUSH)
    with pytest.raises(ProtocolError, match="invalid UTF-8") as info:
        messages(parser, server_frame(1, first, fin=False, rsv1=True))  # no final fragment yet
    assert info.value.code == 1007


def test_rsv1_without_negotiation_is_refused(codec):
    parser = codec.FrameParser(None)
    with pytest.raises(ProtocolError, match="RSV1 set with no extension negotiated"):
        messages(parser, server_frame(2, deflate(b"x"), rsv1=True))


def test_decompression_bomb_stops_at_max_size(codec):
    """256 MiB of zeros in a 254 KiB frame, max_size 1 MiB: it fails with
    1009 after inflating 1 MiB + 1 byte, and peak memory stays near that."""
    bomb = deflate(bytes(256 << 20))
    assert len(bomb) < 300_000
    wire = server_frame(2, bomb, rsv1=True)
    parser = compressed_parser(codec, max_size=1 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(MessageTooBig, match="exceeds max_size 1048576") as info:
            messages(parser, wire)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == 1009
    assert info.value.size == (1 << 20) + 1
    # The frame (copied in by feed), 1 MiB of output twice (zlib joins its
    # output blocks) and zlib's state: far from the 256 MiB it would be.
    assert peak < 4 << 20, peak


def test_fragmented_bomb_counts_the_whole_message(codec):
    parser = compressed_parser(codec, max_size=100_000)
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    part = z.compress(bytes(60_000)) + z.flush(zlib.Z_SYNC_FLUSH)
    wire = server_frame(2, part, fin=False, rsv1=True) + server_frame(0, part, fin=False)
    with pytest.raises(MessageTooBig) as info:
        messages(parser, wire)
    assert info.value.size == 100_001


def test_compressed_bytes_are_bounded_too(codec):
    """Compressed data that inflates to nothing (empty stored blocks) is
    bounded by the wire limit: max_size plus 1/1024 plus 1 KiB."""
    parser = compressed_parser(codec, max_size=10_000)
    empty_blocks = b"\x00\x00\x00\xff\xff" * 2300  # 11,500 bytes, no output
    assert zlib.decompressobj(-15).decompress(empty_blocks) == b""
    with pytest.raises(MessageTooBig, match="compressed bytes, at most 11033 allowed"):
        messages(parser, server_frame(2, empty_blocks, rsv1=True))
    parser = compressed_parser(codec, max_size=10_000)
    fragments = server_frame(2, b"", fin=False, rsv1=True) + server_frame(0, b"", fin=False) * 1000
    with pytest.raises(MessageTooBig, match="compressed bytes"):
        messages(parser, fragments)


def test_a_message_of_exactly_max_size_inflates(codec):
    data = os.urandom(5000) * 4
    parser = compressed_parser(codec, max_size=len(data))
    assert messages(parser, server_frame(2, deflate(data), rsv1=True)) == [
        {"type": "binary", "data": data}
    ]


def test_deflater_pieces_and_buffers(codec):
    """Big messages go through zlib in pieces into a reused buffer: the
    output is one deflate stream whatever the payload's type; a view still
    held from an earlier call is left intact when the buffer must grow."""
    import array

    d = zlib.decompressobj(-15)
    deflater = codec.compression.Deflater(6, 15, 8, False)
    text = ("é" + "x" * 1000) * 700  # ~700 KB of UTF-8 in several pieces
    assert d.decompress(bytes(deflater.compress(text)) + TAIL) == text.encode()
    ints = array.array("i", range(100_000))  # itemsize 4: compressed as its bytes
    assert d.decompress(bytes(deflater.compress(memoryview(ints))) + TAIL) == ints.tobytes()
    held = deflater.compress(b"small")
    kept = bytes(held)
    assert d.decompress(kept + TAIL) == b"small"
    big = os.urandom(600_000)  # the buffer must grow while `held` is alive
    assert d.decompress(bytes(deflater.compress(big)) + TAIL) == big
    assert bytes(held) == kept


@pytest.mark.parametrize("size", [10, 300_000], ids=["small", "pieces"])
def test_deflater_refuses_a_str_with_no_utf8_before_taking_any(codec, size):
    """A lone surrogate fails before the compressor has seen any of the str,
    however far in it stands: the stream goes on as if the call had not
    been made (the server's inflater would otherwise be behind ours)."""
    d = zlib.decompressobj(-15)
    deflater = codec.compression.Deflater(6, 15, 8, False)
    assert d.decompress(bytes(deflater.compress("before")) + TAIL) == b"before"
    bad = "x" * size + "\ud800"
    with pytest.raises(UnicodeEncodeError):
        deflater.compress(bad)
    with pytest.raises(UnicodeEncodeError):
        deflater.compress(bad, False)  # a piece of a fragmented message
    assert d.decompress(bytes(deflater.compress("after")) + TAIL) == b"after"


def test_deflater_reads_a_big_ascii_str_in_pieces_as_its_bytes(codec):
    """A big ASCII str is compressed from its own characters in pieces
    (ascii_slice) instead of encoded whole: the output is the same bytes as
    for its UTF-8 given as bytes, as a fragmented message's piece and as
    its last, for sizes around the piece size."""
    chunk = 256 * 1024  # _compression.INFLATE_CHUNK
    with_str = codec.compression.Deflater(6, 15, 8, False)
    with_bytes = codec.compression.Deflater(6, 15, 8, False)
    d = zlib.decompressobj(-15)
    for size in [16 * 1024 + 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 7]:
        text = "".join(f'{{"i":{i},"p":"{i * 7919 % 100_003}"}},' for i in range(size // 8))[:size]
        assert len(text) == size and text.isascii()
        wire = b""
        for final in (False, True):  # a message of two pieces: the text twice
            out = bytes(with_str.compress(text, final))
            assert out == bytes(with_bytes.compress(text.encode(), final)), (size, final)
            wire += out
        assert d.decompress(wire + TAIL) == text.encode() * 2


def test_deflater_small_and_large_messages_make_one_stream(codec):
    """Small bytes and bytearray messages (up to JOIN_MAX) are compressed
    without the reused buffer; every size and type around that bound, in
    any order, is one stream with context takeover, and with
    no_context_takeover each message inflates alone."""
    join_max = 16 * 1024  # _compression.JOIN_MAX, a C constant once compiled
    assert getattr(codec.protocol, "JOIN_MAX", join_max) == join_max
    sizes = [0, 1, 1000, join_max - 1, join_max, join_max + 1, 3 * join_max, 5]
    kinds = [bytes, bytearray, memoryview, lambda b: b.decode("latin-1")]
    messages = [kinds[i % 4](os.urandom(size // 2) * 2) for i, size in enumerate(sizes * 2)]
    for no_context_takeover in (False, True):
        deflater = codec.compression.Deflater(6, 15, 8, no_context_takeover)
        d = zlib.decompressobj(-15)
        for message in messages:
            want = message.encode() if isinstance(message, str) else bytes(message)
            wire = bytes(deflater.compress(message)) + TAIL
            assert not wire.endswith(TAIL * 2)  # the flush's own tail was taken off
            if no_context_takeover:
                d = zlib.decompressobj(-15)
            assert d.decompress(wire) == want, (len(want), type(message).__name__)


def test_whole_frame_tail_written_in_the_buffer_leaves_the_next_frame_intact(codec):
    """A small compressed message in one frame is inflated with the §7.2.2
    tail written over the 4 bytes after its payload in the parser's
    buffer, which are put back: the next frame's header and payload there
    (of every kind, whole or cut at each byte) and free space."""
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    frames = [
        server_frame(1, deflate(b'{"a": 1}', z=z), rsv1=True),
        server_frame(2, b"\x00\x00\xff\xffplain"),  # a tail's bytes, uncompressed
        server_frame(2, deflate(b"second", z=z), rsv1=True),
        server_frame(9, b"ping"),
        server_frame(2, deflate(b"x" * 3000, z=z), rsv1=True),
        server_frame(1, "é".encode()),
        server_frame(2, deflate(b"", z=z), rsv1=True),
    ]
    want = ['{"a": 1}', b"\x00\x00\xff\xffplain", b"second", b"ping", b"x" * 3000, "é", b""]
    wire = b"".join(frames)
    for cut in range(len(wire) + 1):
        parser = compressed_parser(codec)
        got = messages(parser, wire[:cut]) + messages(parser, wire[cut:])
        assert [m["data"] for m in got] == want, cut
    # A payload that does not inflate fails as before.
    parser = compressed_parser(codec)
    with pytest.raises(ProtocolError, match="invalid compressed data"):
        messages(parser, server_frame(2, b"\xff\xff\xff", rsv1=True) + frames[1])


def test_small_messages_inflated_in_one_call_and_the_ones_after_them(codec):
    """A small message in one frame that one zlib call inflates is returned
    without the message buffer (Inflater.whole); one whose output is
    larger than a call gives (a 16 KiB frame of 2 MiB), a fragmented one,
    or one over max_size, takes the buffer.  Each is right, and so is the
    message after it (nothing is left from the one before)."""
    zeros = bytes(2 << 20)
    cases = [
        (2, os.urandom(900)),
        (1, "é1k " * 250),
        (2, zeros),  # 2 MiB from about 2 KiB of deflate: more than one call's output
        (1, "x" * 70_000),
        (2, b""),
        (2, b"after"),
    ]
    for max_size in (None, 3 << 20):
        parser = compressed_parser(codec, max_size=max_size)
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        wire = b""
        for opcode, data in cases:
            raw = data.encode() if isinstance(data, str) else data
            wire += server_frame(opcode, deflate(raw, z=z), rsv1=True)
        half = deflate(b"fragment-" * 50, z=z)
        wire += server_frame(2, half[:5], fin=False, rsv1=True) + server_frame(0, half[5:])
        got = messages(parser, wire)
        assert [m["data"] for m in got] == [d for _, d in cases] + [b"fragment-" * 50]
        assert all(type(m["data"]) is (str if m["type"] == "text" else bytes) for m in got)
    parser = compressed_parser(codec, max_size=1000)
    with pytest.raises(MessageTooBig):
        messages(parser, server_frame(2, deflate(bytes(5000)), rsv1=True))
    # Invalid UTF-8 in a small whole text message fails as it is decoded.
    for data in (b"ok \xff", b"\xed\xa0\x80", "é".encode()[:1]):
        with pytest.raises(ProtocolError, match="invalid UTF-8") as info:
            messages(compressed_parser(codec), server_frame(1, deflate(data), rsv1=True))
        assert info.value.code == 1007


def _between_blocks(d) -> bool:
    """Whether decompressor ``d`` stands between blocks (a copy ends there)."""
    probe = d.copy()
    try:
        return probe.decompress(b"\x03\x00") == b"" and probe.eof and not probe.unused_data
    except zlib.error:
        return False


@pytest.mark.parametrize("takeover", [True, False], ids=["context takeover", "no context takeover"])
@pytest.mark.parametrize("kind", ["stored", "huffman"])
def test_a_message_cut_inside_a_deflate_block_is_refused(codec, takeover, kind):
    """RFC 7692 §7.2.2: the tail completes an empty stored block.  A payload
    the server cut short inside a block (then set FIN) has the tail read as
    the block's data: delivered, it would be truncated or carry bytes the
    server never sent.  It fails the connection instead (1002: the
    extension's framing is broken, the bytes are not just invalid text)."""
    data = os.urandom(3000) if kind == "stored" else b"price=101.25 size=7 side=buy " * 80
    payload = deflate(data)
    cut = payload[:-10]
    for wire in (
        server_frame(2, cut, rsv1=True),  # inflated with its tail in one call
        server_frame(2, cut[:-200], rsv1=True, fin=False) + server_frame(0, cut[-200:]),  # apart
    ):
        parser = compressed_parser(codec, no_context_takeover=not takeover)
        with pytest.raises(ProtocolError, match="ends inside a deflate block") as info:
            messages(parser, wire)
        assert info.value.code == 1002
    if kind == "stored":
        # Cut 4 bytes short of the stored block's end: the tail completes
        # the block with bytes the server never sent.  Inflated apart from
        # the payload, the tail gives output, and that is refused too.
        assert payload[0] & 0b110 == 0 and payload[-1] == 0  # one stored block, then the flush's header
        short = payload[:-5]  # its last data byte is payload[-2]
        parser = compressed_parser(codec, no_context_takeover=not takeover)
        with pytest.raises(ProtocolError, match="ends inside a deflate block"):
            messages(parser, server_frame(2, short[:100], rsv1=True, fin=False) + server_frame(0, short[100:]))
    # The same message whole still inflates, after a good one and alone.
    parser = compressed_parser(codec, no_context_takeover=not takeover)
    assert messages(parser, server_frame(2, deflate(b"x"), rsv1=True) + server_frame(2, payload, rsv1=True)) == [
        {"type": "binary", "data": b"x"},
        {"type": "binary", "data": data},
    ]


@pytest.mark.parametrize("frames", [1, 2], ids=["one frame", "two frames"])
@pytest.mark.parametrize("size", [40, 3000])
def test_without_context_takeover_every_cut_is_caught(codec, size, frames):
    """Without context takeover the check is exact: a payload cut at any
    byte is refused unless the cut falls between two blocks (nothing is
    then spliced in), and what is delivered is exactly what the bytes say.
    In one frame a small message is inflated with its tail in one call; in
    two, the tail goes apart (with the probe)."""
    samples = [os.urandom(size), (b"bid 17 ask 18 " * size)[:size], bytes(i % 3 for i in range(size))]
    for data in samples:
        payload = deflate(data)
        for end in range(len(payload)):
            reference = zlib.decompressobj(-15)
            try:
                expected = reference.decompress(payload[:end])
                before_tail = len(expected)
                expected += reference.decompress(TAIL)
                exact = not reference.eof and _between_blocks(reference)
            except zlib.error:
                exact = False
            # A cut 4 bytes short of a stored block's end: the tail completes
            # it, so it ends between blocks with the tail as its last bytes.
            # Inflated apart, the tail's output shows it and it is refused;
            # in one call with the payload nothing tells it apart.
            spliced = exact and len(expected) != before_tail
            parser = compressed_parser(codec, no_context_takeover=True)
            half = end // 2 if frames == 2 else end
            wire = server_frame(2, payload[:half], rsv1=True, fin=half == end)
            if half != end:
                wire += server_frame(0, payload[half:end])
            try:
                got = messages(parser, wire)
            except ProtocolError as exc:
                assert not exact or spliced, (end, exc)
                assert exc.code == 1002
            else:
                assert exact, f"cut at {end} of {len(payload)} delivered {got!r:.80}"
                assert got == [{"type": "binary", "data": expected}]
