"""WsClient with permessage-deflate (RFC 7692) against real servers: the
``websockets`` server with each parameter combination, aiohttp's server,
and scripted raw peers for the wire and for hostile answers."""

from __future__ import annotations

import json
import os
import tracemalloc
import zlib

import pytest
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from websocket import ConnectionClosed, HandshakeError, MessageTooBig, ProtocolError, WsClient
from websocket._frames import parse_close_frame

from .servers import RawPeer, T, aiohttp_server, frames_until_eof, server_frame, ws_server
from .test_compression import TAIL, deflate, inflate_in_window


def sample_messages() -> list:
    ticks = [{"symbol": "ABC", "price": 100 + i / 8, "size": i % 17, "side": "buy"} for i in range(400)]
    return [
        json.dumps(ticks),  # ~25 KB of repetitive text
        "é" * 10,
        "",
        b"",
        os.urandom(3000),  # incompressible
        bytes(1 << 20),  # 1 MiB that compresses to 1 KiB
        json.dumps(ticks[:3]),
    ]


def echo_all(ws: WsClient, messages: list) -> None:
    for message in messages:
        ws.send(message)
        assert ws.receive(timeout=T)["data"] == message
    ws.send_many(messages)
    assert [ws.receive(timeout=T)["data"] for _ in messages] == messages


CLIENT_OPTIONS = [
    {},
    {"client_max_window_bits": 9},
    {"server_max_window_bits": 10},
    {"client_no_context_takeover": True},
    {"server_no_context_takeover": True},
    {"client_max_window_bits": 11, "server_max_window_bits": 9, "client_no_context_takeover": True,
     "server_no_context_takeover": True, "compression_level": 1, "memory_level": 4},
]
SERVERS = {
    "default": None,  # websockets' own default factory
    "strict": ServerPerMessageDeflateFactory(
        server_no_context_takeover=True, client_no_context_takeover=True,
        server_max_window_bits=11, client_max_window_bits=10,
    ),
    "wide": ServerPerMessageDeflateFactory(server_max_window_bits=15, client_max_window_bits=15),
}


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("options", CLIENT_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_websockets_server_each_combination(server, options):
    factory = SERVERS[server]
    extra = {} if factory is None else {"extensions": [factory], "compression": None}
    with ws_server(**extra) as base, WsClient(
        f"{base}/echo", compression="deflate", timeout=T, **options
    ) as ws:
        params = ws.compression_params
        assert ws.compression == "deflate" and params is not None
        # What the handshake settled honours what each side asked for.
        if "client_max_window_bits" in options:
            assert params["client_max_window_bits"] <= options["client_max_window_bits"]
        if "server_max_window_bits" in options:
            assert params["server_max_window_bits"] <= options["server_max_window_bits"]
        for side in ("client", "server"):
            if options.get(f"{side}_no_context_takeover"):
                assert params[f"{side}_no_context_takeover"]
        if server == "strict":
            assert params["client_max_window_bits"] <= 10 and params["client_no_context_takeover"]
            assert params["server_no_context_takeover"]
        echo_all(ws, sample_messages())
        ws.send("uncompressed", compress=False)
        assert ws.receive(timeout=T)["data"] == "uncompressed"


def test_websockets_server_without_compression_leaves_it_off():
    with ws_server(compression=None) as base, WsClient(
        f"{base}/echo", compression="deflate", timeout=T
    ) as ws:
        assert ws.compression is None and ws.compression_params is None
        echo_all(ws, sample_messages()[:3])


@pytest.mark.parametrize("compress", [False, True])
def test_aiohttp_server(compress):
    with aiohttp_server(compress=compress) as base, WsClient(
        f"{base}/echo", compression="deflate", timeout=T
    ) as ws:
        assert (ws.compression == "deflate") is compress
        echo_all(ws, sample_messages())


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"compression": "gzip"}, ValueError, "compression must be 'deflate' or None, not 'gzip'"),
        ({"client_max_window_bits": 10}, ValueError, "client_max_window_bits given without compression"),
        ({"compression": "deflate", "client_max_window_bits": 8}, ValueError, "must be 9-15, got 8"),
        ({"compression": "deflate", "memory_level": 10}, ValueError, "memory_level must be 1-9"),
    ],
)
def test_bad_options_fail_before_connecting(options, error, message):
    with pytest.raises(error, match=message):
        WsClient("ws://127.0.0.1:1/", **options)


def test_compress_argument_is_checked():
    with ws_server() as base, WsClient(f"{base}/echo", compression="deflate", timeout=T) as ws:
        with pytest.raises(TypeError, match="compress must be a bool or None, not int"):
            ws.send("x", compress=1)
        with pytest.raises(TypeError, match="compress must be a bool or None"):
            ws.send_many(["x"], compress="no")
        ws.send("still open")
        assert ws.receive(timeout=T)["data"] == "still open"


# -- the wire, seen by a scripted peer -----------------------------------------


def deflate_peer(answer: str, result: dict, send: bytes = b""):
    def script(peer):
        peer.accept(f"Sec-WebSocket-Extensions: {answer}\r\n")
        result["request"] = peer.request.decode()
        if send:
            peer.send(send)
        result["frames"] = frames_until_eof(peer)

    return script


def test_client_compresses_with_the_agreed_window_and_context():
    result: dict = {}
    block, small = os.urandom(1000), os.urandom(200)
    with RawPeer(deflate_peer("permessage-deflate; client_max_window_bits=9", result)) as peer:
        with WsClient(peer.url, compression="deflate", timeout=T) as ws:
            assert ws.compression_params["client_max_window_bits"] == 9
            ws.send(block * 4)
            ws.send(small)
            ws.send(small)
            ws.send(block, compress=False)
            ws.send_binary(block)
            ws.send_many([b"a" * 600, "b" * 600], compress=False)
            ws.send_many([b"a" * 600, "b" * 600])
    assert "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" in result["request"]
    frames = [f for f in result["frames"] if f["opcode"] != 8]
    assert [f["rsv1"] for f in frames] == [True, True, True, False, True, False, False, True, True]
    # One stream across messages (context takeover), inflated within 9 bits.
    stream = b"".join(f["payload"] + TAIL for f in frames if f["rsv1"])
    expected = block * 4 + small * 2 + block + b"a" * 600 + b"b" * 600
    assert inflate_in_window(stream, 9) == expected
    assert len(frames[2]["payload"]) < 20  # the second copy refers to the first message
    assert frames[3]["payload"] == block and frames[5]["payload"] == b"a" * 600


def test_client_no_context_takeover_compresses_each_message_alone():
    result: dict = {}
    text = "x" * 100 + "".join(str(i) for i in range(500))
    with RawPeer(deflate_peer("permessage-deflate; client_no_context_takeover", result)) as peer:
        with WsClient(peer.url, compression="deflate", timeout=T) as ws:
            for _ in range(3):
                ws.send(text)
    frames = [f for f in result["frames"] if f["opcode"] == 1]
    assert len(frames) == 3
    for frame in frames:
        assert zlib.decompressobj(-15).decompress(frame["payload"] + TAIL) == text.encode()


def test_a_window_of_8_bits_sends_uncompressed_and_still_receives():
    result: dict = {}
    wire = server_frame(1, deflate(b"from the server", wbits=8 + 1), rsv1=True)
    with RawPeer(deflate_peer("permessage-deflate; client_max_window_bits=8; server_max_window_bits=9",
                              result, wire)) as peer:
        with WsClient(peer.url, compression="deflate", timeout=T) as ws:
            assert ws.compression_params["client_max_window_bits"] == 8
            assert ws.receive(timeout=T)["data"] == "from the server"
            ws.send("to the server")
    (frame, close) = result["frames"]
    assert not frame["rsv1"] and frame["payload"] == b"to the server"


# -- hostile servers ------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, message",
    [
        ("permessage-deflate; server_max_window_bits=12", "server_max_window_bits=12 exceeds the 10 offered"),
        ("permessage-deflate; client_max_window_bits=9; client_max_window_bits=9",
         "parameter 'client_max_window_bits' twice"),
        ("permessage-deflate; server_max_window_bits=10; mode=fast", "unknown parameter 'mode'"),
        ("permessage-deflate; server_max_window_bits=10, permessage-deflate", "permessage-deflate 2 times"),
        ("x-webkit-deflate-frame", "extension 'x-webkit-deflate-frame'"),
    ],
)
def test_bad_extension_answers_fail_the_handshake(answer, message):
    def script(peer):
        peer.accept(f"Sec-WebSocket-Extensions: {answer}\r\n")
        peer.recv_until_eof()

    with RawPeer(script) as peer:
        with pytest.raises(HandshakeError, match=message) as info:
            WsClient(peer.url, compression="deflate", server_max_window_bits=10, timeout=T)
    assert info.value.status == 101


def test_extension_answer_without_an_offer_fails():
    def script(peer):
        peer.accept("Sec-WebSocket-Extensions: permessage-deflate\r\n")
        peer.recv_until_eof()

    with RawPeer(script) as peer:
        with pytest.raises(HandshakeError, match="did not offer"):
            WsClient(peer.url, timeout=T)


def close_codes(frames):
    return [parse_close_frame(f["payload"])["code"] for f in frames if f["opcode"] == 8]


@pytest.mark.parametrize(
    "wire, error, code, message",
    [
        (server_frame(1, b"ab", fin=False, rsv1=True) + server_frame(0, b"cd", rsv1=True),
         ProtocolError, 1002, "RSV1 set on a continuation frame"),
        (server_frame(2, b"\x07\x00", rsv1=True), ProtocolError, 1002, "invalid compressed data"),
        (server_frame(10, b"", rsv1=True), ProtocolError, 1002, "RSV1 set on a control frame"),
        (server_frame(1, deflate(b"\xc3("), rsv1=True), ProtocolError, 1007, "invalid UTF-8"),
    ],
)
def test_hostile_compressed_frames_fail_the_connection(wire, error, code, message):
    result: dict = {}
    intact = server_frame(1, deflate(b"intact"), rsv1=True)
    with RawPeer(deflate_peer("permessage-deflate", result, intact + wire)) as peer:
        ws = WsClient(peer.url, compression="deflate", timeout=T)
        assert ws.receive(timeout=T)["data"] == "intact"
        with pytest.raises(error, match=message) as info:
            ws.receive(timeout=T)
        assert info.value.code == code
        with pytest.raises(ConnectionClosed):
            ws.send("too late")
        ws.close()
    assert close_codes(result["frames"]) == [code]


def test_rsv1_is_refused_when_deflate_was_not_agreed():
    result: dict = {}

    def script(peer):
        peer.accept()  # the offer declined
        peer.send(server_frame(2, deflate(b"x"), rsv1=True))
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, compression="deflate", timeout=T)
        assert ws.compression is None
        with pytest.raises(ProtocolError, match="RSV1 set with no extension negotiated"):
            ws.receive(timeout=T)
        ws.close()
    assert close_codes(result["frames"]) == [1002]


def test_decompression_bomb_from_a_server():
    """1 GiB of zeros in a ~1 MiB frame against max_size 4 MiB: 1009 after
    4 MiB + 1 byte of output.  Peak memory of the receive (10.6 MB when
    measured): the frame, and the output twice while zlib joins its output
    blocks into one bytes object; never the gigabyte."""
    bomb = server_frame(2, deflate(bytes(1 << 30)), rsv1=True)
    assert len(bomb) < 1_100_000
    result: dict = {}
    with RawPeer(deflate_peer("permessage-deflate", result, bomb)) as peer:
        ws = WsClient(peer.url, compression="deflate", max_size=4 << 20, timeout=T)
        tracemalloc.start()
        try:
            with pytest.raises(MessageTooBig, match="exceeds max_size 4194304") as info:
                ws.receive(timeout=T)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        ws.close()
    assert info.value.size == (4 << 20) + 1
    assert peak < 12 << 20, f"peak {peak} bytes"
    assert close_codes(result["frames"]) == [1009]


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("path", ["full", "fast"])
def test_a_signal_during_compression_fails_the_connection(path):
    """A message the compressor took in but that never went out would leave
    the server unable to decompress the next one: the connection fails
    (nothing of it is written) and every later call raises ConnectionClosed.

    ``full``: send(timeout=...), compressed by the protocol's writer in the
    full send, where the handler runs as soon as zlib returns.  ``fast``: send() through
    send_ready, where the compiled build runs the handler only once the
    call has returned, with the message written whole: the exception
    then comes out of send(), the connection stays open and the stream
    stays whole.  Either way no server sees a broken deflate stream."""
    import signal

    result: dict = {}
    big = os.urandom(48 << 20)  # seconds of zlib work: the signal lands inside it

    def handler(signum, frame):
        raise Interrupted

    with RawPeer(deflate_peer("permessage-deflate", result)) as peer:
        ws = WsClient(peer.url, compression="deflate", compression_level=9, timeout=T)
        old = signal.signal(signal.SIGALRM, handler)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            with pytest.raises(Interrupted):
                if path == "full":
                    ws.send(big, compress=True, timeout=60)
                else:
                    ws.send(big)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        if ws.ready_state() == "open":
            assert path == "fast"
            ws.send(b"next")  # the stream goes on
            ws.close()
        else:
            assert ws.ready_state() == "closed"
            with pytest.raises(ConnectionClosed) as info:
                ws.send("next")
            assert info.value.code == 1006
            ws.close()
    data = [f for f in result["frames"] if f["opcode"] != 8]
    if path == "full" or not data:
        assert result["frames"] == []  # not a byte of the message, nor a close frame
    else:
        assert [f["rsv1"] for f in data] == [True, True]
        stream = b"".join(f["payload"] + TAIL for f in data)
        assert zlib.decompressobj(-15).decompress(stream) == big + b"next"
