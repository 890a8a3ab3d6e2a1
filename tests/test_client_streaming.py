"""receive_into(), receive_streaming() and fragmented send() against real
peers: the websockets server, and scripted raw-socket peers where the test
must see or shape every frame."""

from __future__ import annotations

import array
import os
import threading
import time
import tracemalloc

import pytest

from websocket import (
    BufferTooSmall,
    ConnectionClosed,
    MessageStream,
    MessageTooBig,
    ProtocolError,
    WebSocketError,
    WebSocketTimeout,
    WsClient,
    parse_close_frame,
)

from .servers import RawPeer, T, frames_until_eof, server_frame, ws_server


@pytest.fixture(scope="module")
def base():
    with ws_server() as url:
        yield url


# -- receive_into -------------------------------------------------------------


def test_receive_into_bytearray_memoryview_and_typed_arrays(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        buf = bytearray(1 << 20)
        for size in (0, 1, 125, 126, 65536, 300_000):
            payload = os.urandom(size)
            ws.send(payload)
            assert ws.receive_into(buf, timeout=T) == (size, "binary")
            assert buf[:size] == payload
        ws.send("héllo")
        assert ws.receive_into(memoryview(buf)[10:], timeout=T) == (6, "text")
        assert buf[10:16] == "héllo".encode()
        # Any writable contiguous buffer: its bytes are written.
        doubles = array.array("d", [0.0] * 4)
        ws.send(array.array("d", [1.5, -2.0]).tobytes())
        assert ws.receive_into(doubles, timeout=T) == (16, "binary")
        assert doubles.tolist() == [1.5, -2.0, 0.0, 0.0]


def test_receive_into_bad_buffers_name_the_problem(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        with pytest.raises(TypeError, match="read-only"):
            ws.receive_into(b"immutable")
        with pytest.raises(TypeError, match="writable bytes-like object.*not str"):
            ws.receive_into("text")
        with pytest.raises(ValueError, match="contiguous"):
            ws.receive_into(memoryview(bytearray(10))[::2])
        ws.send(b"still usable")
        assert ws.receive(timeout=T)["data"] == b"still usable"


def test_a_message_too_big_for_the_buffer_stays_readable(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        ws.send(b"x" * 1000)
        ws.send(b"after")
        with pytest.raises(BufferTooSmall, match="1000 bytes does not fit the buffer's 100") as info:
            ws.receive_into(bytearray(100), timeout=T)
        assert not info.value.discarded
        assert ws.receive(timeout=T) == {"type": "binary", "data": b"x" * 1000}
        buf = bytearray(100)
        assert ws.receive_into(buf, timeout=T) == (5, "binary") and buf[:5] == b"after"


def test_receive_into_answers_pings_between_fragments(base):
    # /fragments: "hel" ping "lo w" ping "örld", then 70000 + ping + 70000.
    with WsClient(f"{base}/fragments", timeout=T) as ws:
        buf = bytearray(200_000)
        assert ws.receive_into(buf, timeout=T) == (12, "text")
        assert buf[:12].decode() == "hello wörld"
        assert ws.receive_into(buf, timeout=T) == (140_000, "binary")
        assert buf[:140_000] == b"\x00" * 70000 + b"\x01" * 70000
        ws.send(b"e")
        assert ws.receive_into(buf, timeout=T) == (1, "binary")


def test_receive_into_timeout_then_goes_on(base):
    def script(peer):
        peer.accept()
        frame = server_frame(2, bytes(range(256)) * 40)
        peer.send(frame[:5000])
        time.sleep(0.5)
        peer.send(frame[5000:])
        frames_until_eof(peer)

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T) as ws:
        buf = bytearray(20_000)
        with pytest.raises(WebSocketTimeout, match="receive_into\\(\\) timed out after 0.2 s"):
            ws.receive_into(buf, timeout=0.2)
        assert ws.receive_into(buf, timeout=T) == (10240, "binary")
        assert buf[:10240] == bytes(range(256)) * 40


def test_a_big_message_goes_on_in_another_buffer_after_a_timeout():
    payload = os.urandom(300_000)

    def script(peer):
        peer.accept()
        frame = server_frame(2, payload)
        peer.send(frame[:150_000])
        time.sleep(0.5)
        peer.send(frame[150_000:])
        frames_until_eof(peer)

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T) as ws:
        first = bytearray(400_000)
        with pytest.raises(WebSocketTimeout):
            ws.receive_into(first, timeout=0.2)
        second = bytearray(300_000)
        assert ws.receive_into(second, timeout=T) == (300_000, "binary")
        assert second == payload


def test_receive_into_raises_at_the_close(base):
    with WsClient(f"{base}/close?code=4001&reason=bye", timeout=T) as ws:
        with pytest.raises(ConnectionClosed) as info:
            ws.receive_into(bytearray(10), timeout=T)
        assert (info.value.code, info.value.reason) == (4001, "bye")
        with pytest.raises(ConnectionClosed):
            ws.receive_into(bytearray(10), timeout=T)
        assert ws.ready_state() == "closed"


def test_receive_into_fails_the_connection_on_bad_utf8():
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(1, b"ok\xff"))
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T) as ws:
        with pytest.raises(ProtocolError) as info:
            ws.receive_into(bytearray(10), timeout=T)
        assert info.value.code == 1007
    closes = [parse_close_frame(f["payload"])["code"] for f in result["frames"] if f["opcode"] == 8]
    assert closes == [1007]


# -- receive_streaming --------------------------------------------------------


def test_streaming_a_big_message_holds_pieces_only():
    size = 48 << 20
    chunk = b"\x07" * (256 << 10)

    def script(peer):
        # One 48 MiB frame, written from one 256 KiB chunk (the server holds
        # no copy of it either: tracemalloc sees every thread).
        peer.accept()
        peer.send(bytes([0x82, 127]) + size.to_bytes(8, "big"))
        for _ in range(size // len(chunk)):
            peer.send(chunk)
        peer.send(server_frame(2, b"next"))
        frames_until_eof(peer)

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T, max_size=None) as ws:
        tracemalloc.start()
        try:
            stream = ws.receive_streaming(timeout=T)
            assert isinstance(stream, MessageStream) and stream.type == "binary"
            total = 0
            count = 0
            for piece in stream:
                assert piece.count(7) == len(piece)
                total += len(piece)
                count += 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total == size and count > 10
        assert peak < 8 << 20, f"peak {peak} bytes for a {size}-byte message"
        assert ws.receive(timeout=T)["data"] == b"next"


def test_streaming_text_and_fragments_with_pings(base):
    with WsClient(f"{base}/fragments", timeout=T) as ws:
        stream = ws.receive_streaming(timeout=T)
        assert stream.type == "text"
        parts = list(stream)
        assert "".join(parts) == "hello wörld" and all(isinstance(p, str) for p in parts)
        assert len(parts) >= 2  # the fragments as they came
        stream = ws.receive_streaming(timeout=T)
        assert stream.type == "binary"
        assert b"".join(stream) == b"\x00" * 70000 + b"\x01" * 70000
        assert list(stream) == []  # ended


def test_streaming_text_as_bytes(base):
    with WsClient(f"{base}/echo", timeout=T, decode_text=False) as ws:
        ws.send("é" * 100_000)
        stream = ws.receive_streaming(timeout=T)
        assert stream.type == "text"
        assert b"".join(stream) == ("é" * 100_000).encode()


def test_streaming_with_compression(base):
    text = "streamed and compressed " * 40_000
    with WsClient(f"{base}/echo", timeout=T, compression="deflate") as ws:
        assert ws.compression == "deflate"
        ws.send(text)
        assert "".join(ws.receive_streaming(timeout=T)) == text
        ws.send(text.encode())
        assert b"".join(ws.receive_streaming(timeout=T)) == text.encode()
    with WsClient(f"{base}/echo", timeout=T, compression="deflate", max_size=100_000) as ws:
        ws.send("x" * 200_000)  # compresses to little, inflates past max_size
        with pytest.raises(MessageTooBig, match="decompressed") as info:
            b"".join(ws.receive_streaming(timeout=T))
        assert info.value.code == 1009


def test_leaving_a_stream_early_discards_the_rest(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        ws.send(os.urandom(3 << 20))
        ws.send(b"second")
        with ws.receive_streaming(timeout=T) as stream:
            next(stream)
        assert ws.receive(timeout=T)["data"] == b"second"
        # Another receive call cuts a live stream short: it says so.
        ws.send(os.urandom(3 << 20))
        ws.send(b"third")
        stream = ws.receive_streaming(timeout=T)
        next(stream)
        assert ws.receive(timeout=T)["data"] == b"third"
        with pytest.raises(WebSocketError, match="cut short"):
            list(stream)


def test_stream_timeouts_leave_it_usable():
    def script(peer):
        peer.accept()
        peer.send(server_frame(2, b"first", fin=False))
        time.sleep(0.6)
        peer.send(server_frame(0, b"second"))
        frames_until_eof(peer)

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T) as ws:
        stream = ws.receive_streaming(timeout=0.3)
        assert next(stream) == b"first"
        with pytest.raises(WebSocketTimeout, match="receive_streaming"):
            next(stream)
        stream._timeout = T
        assert list(stream) == [b"second"]


def test_receive_streaming_raises_at_the_close(base):
    with WsClient(f"{base}/close?code=1001", timeout=T) as ws:
        with pytest.raises(ConnectionClosed) as info:
            ws.receive_streaming(timeout=T)
        assert info.value.code == 1001


def test_close_from_another_thread_ends_a_stream_with_connection_closed():
    """close() in another thread while a stream is iterated: the next piece
    raises ConnectionClosed, as receive() and receive_into() do, not the
    error for a stream another receive call cut short."""
    stop = threading.Event()

    def script(peer):
        peer.accept()
        peer.send(server_frame(2, b"first", fin=False))
        stop.wait(4 * T)  # the rest never comes before close()
        stop.clear()
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=0.5)
        stream = ws.receive_streaming(timeout=T)
        assert next(stream) == b"first"
        try:
            # While the consumer is between pieces, and while it waits.
            closer = threading.Thread(target=ws.close)
            closer.start()
            closer.join(T)
            with pytest.raises(ConnectionClosed):
                next(stream)
        finally:
            stop.set()
    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=0.5)
        stream = ws.receive_streaming(timeout=T)
        assert next(stream) == b"first"
        closer = threading.Timer(0.2, ws.close)
        closer.start()
        try:
            with pytest.raises(ConnectionClosed):
                next(stream)
        finally:
            closer.join(T)
            stop.set()


# -- fragmented send ----------------------------------------------------------


def test_send_an_iterable_as_one_message(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        # (websockets takes at most 4096 frames in a message.)
        ws.send(b"%d," % i for i in range(4000))
        assert ws.receive(timeout=T)["data"] == b"".join(b"%d," % i for i in range(4000))
        ws.send(["hé", "llo ", "wörld"])
        assert ws.receive(timeout=T) == {"type": "text", "data": "héllo wörld"}
        ws.send(iter([bytearray(b"one"), memoryview(b"two")]))
        assert ws.receive(timeout=T)["data"] == b"onetwo"
        ws.send([])  # nothing to send
        ws.send(b"after")
        assert ws.receive(timeout=T)["data"] == b"after"


def test_send_iterable_compressed(base):
    pieces = [f"piece {i} " * 100 for i in range(200)]
    with WsClient(f"{base}/echo", timeout=T, compression="deflate") as ws:
        ws.send(iter(pieces))
        assert ws.receive(timeout=T)["data"] == "".join(pieces)
        ws.send(p.encode() for p in pieces)
        assert ws.receive(timeout=T)["data"] == "".join(pieces).encode()
        ws.send("whole")  # the compressor's window goes on
        assert ws.receive(timeout=T)["data"] == "whole"


def test_fragments_on_the_wire_are_never_split():
    result = {}
    started = threading.Event()

    def script(peer):
        peer.accept()
        result["frames"] = frames_until_eof(peer)

    def pieces(ws):
        for i in range(20):
            if i == 1:
                started.set()
                time.sleep(0.2)  # another thread tries to send meanwhile
            yield bytes([i]) * 1000

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T) as ws:
        pinger = threading.Thread(target=lambda: (started.wait(T), ws.ping(b"p"), ws.send(b"other")))
        pinger.start()
        ws.send(pieces(ws))
        pinger.join(T)
    frames = [(f["opcode"], f["fin"], bytes(f["payload"])) for f in result["frames"]]
    assert frames[0] == (2, False, b"\x00" * 1000)
    assert frames[1:20] == [(0, False, bytes([i]) * 1000) for i in range(1, 20)]
    assert frames[20] == (0, True, b"")
    assert frames[21:23] == [(9, True, b"p"), (2, True, b"other")]


def test_a_failing_iterable_fails_the_connection_with_1011():
    result = {}

    def script(peer):
        peer.accept()
        result["frames"] = frames_until_eof(peer)

    def pieces():
        yield b"half"
        raise RuntimeError("producer broke")

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T) as ws:
        with pytest.raises(RuntimeError, match="producer broke"):
            ws.send(pieces())
        with pytest.raises(ConnectionClosed):
            ws.send(b"x")
    frames = result["frames"]
    assert [(f["opcode"], f["fin"]) for f in frames][:2] == [(2, False), (8, True)]
    assert parse_close_frame(frames[1]["payload"])["code"] == 1011


def test_a_send_from_the_iterable_itself_is_an_error_not_a_deadlock():
    result = {}

    def script(peer):
        peer.accept()
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T) as ws:

        def pieces():
            yield b"one"
            ws.ping(b"inside")  # the send lock is held by this very thread
            yield b"two"

        with pytest.raises(RuntimeError, match="iterable of a fragmented send"):
            ws.send(pieces())
        with pytest.raises(ConnectionClosed):  # half a message was out: 1011
            ws.send(b"x")
    frames = result["frames"]
    assert [(f["opcode"], f["fin"]) for f in frames][:2] == [(2, False), (8, True)]
    assert parse_close_frame(frames[1]["payload"])["code"] == 1011


def test_mixed_pieces_and_bad_items(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        with pytest.raises(TypeError, match="send\\(\\) \\(piece 0\\) takes a str or a bytes-like object, not int"):
            ws.send([1, 2])
        with pytest.raises(TypeError, match="json.dumps"):
            ws.send({"a": 1})
        ws.send(b"usable")  # nothing went out: still open
        assert ws.receive(timeout=T)["data"] == b"usable"
        with pytest.raises(TypeError, match="piece 1 is bytes but the message is text"):
            ws.send(["text", b"bytes"])
        with pytest.raises(ConnectionClosed):  # half a message went out: failed (1011)
            ws.send(b"x")


def test_all_three_over_tls():
    import trustme

    from .servers import client_context, server_context

    ca = trustme.CA()
    with ws_server(ssl_context=server_context(ca, "127.0.0.1")) as url, WsClient(
        f"{url}/echo", timeout=T, ssl_context=client_context(ca), max_size=None
    ) as ws:
        payload = os.urandom(3 << 20)
        ws.send(payload[i : i + 100_000] for i in range(0, len(payload), 100_000))
        stream = ws.receive_streaming(timeout=T)
        pieces = list(stream)
        assert b"".join(pieces) == payload and len(pieces) > 1
        buf = bytearray(4 << 20)
        ws.send(payload)
        assert ws.receive_into(buf, timeout=T) == (len(payload), "binary")
        assert buf[: len(payload)] == payload
