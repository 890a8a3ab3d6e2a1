"""The frames this client writes (_writer.py), on both builds: every frame
the connection sends is made here, so the bytes are decoded back and
checked bit by bit."""

import zlib

import pytest

from websocket import WsClient

from .servers import T, ws_server

TAIL = b"\x00\x00\xff\xff"  # RFC 7692 §7.2.1: removed by the sender


def frames(codec, data):
    data = bytes(data)
    out = []
    while data:
        frame = codec.decode_frame(data)
        out.append(frame)
        data = data[frame["size"] :]
    return out


def deflating(codec, writer, no_context_takeover=False):
    writer.deflater = codec.compression.Deflater(6, 15, 8, no_context_takeover)
    return zlib.decompressobj(-15)


def test_a_message_is_one_masked_final_frame(codec):
    writer = codec.writer.FrameWriter()
    (text,) = frames(codec, writer.message(1, "héllo", False))
    assert (text["opcode"], text["fin"], text["rsv1"], text["masked"]) == (1, True, False, True)
    assert text["payload"] == "héllo".encode()
    (binary,) = frames(codec, writer.message(2, bytearray(b"\x00\xff"), True))  # no deflate agreed
    assert (binary["opcode"], binary["rsv1"], binary["payload"]) == (2, False, b"\x00\xff")
    assert text["mask_key"] != binary["mask_key"]  # a fresh key per frame


def test_a_compressed_message_has_rsv1_and_inflates_to_the_message(codec):
    writer = codec.writer.FrameWriter()
    inflater = deflating(codec, writer)
    payload = b"market data " * 100
    (frame,) = frames(codec, writer.message(2, payload, True))
    assert (frame["opcode"], frame["fin"], frame["rsv1"]) == (2, True, True)
    assert len(frame["payload"]) < len(payload)
    assert inflater.decompress(frame["payload"] + TAIL) == payload
    # compress=False: the same connection sends this one as it is (RFC 7692 §6).
    (plain,) = frames(codec, writer.message(1, "as is", False))
    assert (plain["rsv1"], plain["payload"]) == (False, b"as is")


def test_a_str_with_no_utf8_fails_before_the_compressor_takes_it(codec):
    writer = codec.writer.FrameWriter()
    inflater = deflating(codec, writer)
    with pytest.raises(UnicodeEncodeError):
        writer.message(1, "bad \ud800", True)
    (frame,) = frames(codec, writer.message(1, "next", True))
    assert inflater.decompress(frame["payload"] + TAIL) == b"next"  # the history is whole


@pytest.mark.parametrize("compress", [False, True])
def test_a_message_in_pieces_is_a_first_frame_then_continuations(codec, compress):
    writer = codec.writer.FrameWriter()
    inflater = deflating(codec, writer)
    writer.begin(1, compress)
    made = [bytes(writer.fragment(piece, final)) for piece, final in (("ab", False), ("cd", False), (b"", True))]
    got = [frames(codec, data)[0] for data in made]
    assert [f["opcode"] for f in got] == [1, 0, 0]
    assert [f["fin"] for f in got] == [False, False, True]
    assert [f["rsv1"] for f in got] == [compress, False, False]  # RSV1 on the first frame only
    payload = b"".join(f["payload"] for f in got)
    assert (inflater.decompress(payload + TAIL) if compress else payload) == b"abcd"
    # The message is over: the next one starts with its own opcode.
    writer.begin(2, False)
    assert frames(codec, writer.fragment(b"x", True))[0]["opcode"] == 2


def test_a_piece_needs_a_message_begun(codec):
    writer = codec.writer.FrameWriter()
    with pytest.raises(RuntimeError, match="without begin"):
        writer.fragment(b"x", True)
    writer.begin(2, False)
    writer.fragment(b"x", False)
    writer.end_fragments()  # abandoned (the connection fails)
    with pytest.raises(RuntimeError, match="without begin"):
        writer.fragment(b"y", True)


def test_control_frames_and_their_payloads(codec):
    writer = codec.writer.FrameWriter()
    (ping,) = frames(codec, writer.control(9, codec.writer.control_payload("ping", "hé")))
    assert (ping["opcode"], ping["fin"], ping["payload"]) == (9, True, "hé".encode())
    assert codec.writer.control_payload("pong", memoryview(b"x" * 125)) == b"x" * 125
    with pytest.raises(ValueError, match="ping payload of 126 bytes exceeds 125"):
        codec.writer.control_payload("ping", b"x" * 126)
    with pytest.raises(TypeError, match="pong data must be bytes-like or str, not int"):
        codec.writer.control_payload("pong", 5)


def test_on_frame_sees_every_frame_made_and_a_batch_writer_shares_it(codec):
    writer = codec.writer.FrameWriter()
    deflating(codec, writer)
    seen = []
    writer.on_frame = lambda *frame: seen.append((frame[0], bytes(frame[1]) if frame[0] != 1 else frame[1], *frame[2:]))
    writer.message(1, "hi", False)
    writer.control(10, b"p")
    batch = writer.batch()
    assert batch.encoder is not writer.encoder  # its own mask keys, outside the send lock
    (frame,) = frames(codec, batch.message(2, b"big" * 50, True))
    assert frame["rsv1"] is False  # a batch writer never compresses
    assert seen == [(1, "hi", True, False), (10, b"p", True, False), (2, b"big" * 50, True, False)]


def test_a_traced_connection_makes_every_frame_in_the_writer(caplog):
    """With the frame trace on, send()'s fast path declines (it writes
    without making the frame) and the writer's hook logs every frame."""
    import logging

    with ws_server() as url, caplog.at_level(logging.DEBUG, logger="websocket.frames"):
        with WsClient(url + "/echo", timeout=T) as ws:
            assert ws._proto.writer.on_frame is not None
            ws.send("one")
            ws.send_binary(b"two")
            ws.ping(b"p")
            got = sorted(ws.receive()["type"] for _ in range(3))  # (the pong may come first)
            assert got == ["binary", "pong", "text"]
    sent = [r.getMessage() for r in caplog.records if " > " in r.getMessage()]
    assert [line.split(" > ")[1].split(" ")[0] for line in sent] == ["TEXT", "BINARY", "PING", "CLOSE"]
