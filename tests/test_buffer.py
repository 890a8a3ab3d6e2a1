"""The receive buffer (``_buffer.py``): where reads go and how much each
is offered.  Every test runs on both builds through the ``codec``
fixture."""

from __future__ import annotations

import pytest


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
