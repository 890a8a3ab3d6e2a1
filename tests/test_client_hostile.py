"""WsClient against scripted raw-socket peers: what polite servers never do.

Each test scripts the server side byte by byte (tests/servers.py RawPeer) and
checks both ends: what the client raises, and what it put on the wire (the
close code, and that exactly one close frame was sent).
"""

from __future__ import annotations

import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc

import pytest

from websocket import (
    ConnectionClosed,
    HandshakeError,
    MessageTooBig,
    ProtocolError,
    WebSocketTimeout,
    WsClient,
    parse_close_frame,
)

from .servers import RawPeer, T, frames_until_eof, server_frame, switching_protocols


def close_codes(frames):
    return [parse_close_frame(f["payload"])["code"] for f in frames if f["opcode"] == 8]


def failing_peer(*wire: bytes, result: dict):
    """A peer that accepts, sends ``wire``, then records the client's frames."""

    def script(peer):
        peer.accept()
        for chunk in wire:
            peer.send(chunk)
        result["frames"] = frames_until_eof(peer)

    return script


@pytest.mark.parametrize(
    "bad, code, message",
    [
        (b"\x81\x82abcd" + bytes([ord("h") ^ 0x61, ord("i") ^ 0x62]), 1002, "masked frame"),
        (b"\x83\x00", 1002, "reserved opcode 0x3"),
        (b"\x8b\x00", 1002, "reserved opcode 0xb"),
        (server_frame(2, b"x", rsv2=True), 1002, "RSV2"),
        (server_frame(2, b"x", rsv1=True), 1002, "RSV1"),
        (server_frame(0, b"x"), 1002, "continuation frame without a message"),
        (b"\x09\x00", 1002, "fragmented control frame"),
        (b"\x89\x7e\x00\x80" + b"x" * 128, 1002, "over 125 bytes"),
        (b"\x82\x7e\x00\x05hello", 1002, "minimal encoding"),
        (server_frame(1, b"caf\xc3"), 1007, "invalid UTF-8"),
        (server_frame(8, b"\x03"), 1002, "1 byte"),
        (server_frame(8, struct.pack("!H", 999)), 1002, "invalid close code 999"),
        (server_frame(8, b"\x03\xe8\xff"), 1007, "not valid UTF-8"),
    ],
)
def test_protocol_violation_fails_after_intact_messages(bad, code, message):
    result = {}
    good = server_frame(1, "intact") + server_frame(2, b"\x00\x01")
    with RawPeer(failing_peer(good + bad, result=result)) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=T)
        # Messages that arrived intact before the bad frame come first.
        assert ws.receive(timeout=T) == {"type": "text", "data": "intact"}
        assert ws.receive(timeout=T) == {"type": "binary", "data": b"\x00\x01"}
        with pytest.raises(ProtocolError, match=message) as info:
            ws.receive(timeout=T)
        assert info.value.code == code
        assert ws.ready_state() == "closed"
        with pytest.raises(ConnectionClosed) as closed:
            ws.receive(timeout=T)
        assert closed.value.sent_code == code
        with pytest.raises(ConnectionClosed):
            ws.send("too late")
        ws.close()  # idempotent, sends nothing more
    assert close_codes(result["frames"]) == [code]  # exactly one close frame


def test_bad_utf8_across_fragments_fails_before_the_final_fragment():
    result = {}
    released = threading.Event()

    def script(peer):
        peer.accept()
        peer.send(server_frame(1, b"\xce\xba\xe1", fin=False))
        peer.send(server_frame(0, b"\xbd\xb9\xf4\x90", fin=False))  # U+110000+: invalid
        # The final fragment is never sent: the client must not wait for it.
        result["frames"] = frames_until_eof(peer)
        released.set()

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        start = time.monotonic()
        with pytest.raises(ProtocolError, match="invalid UTF-8") as info:
            ws.receive(timeout=T)
        assert time.monotonic() - start < T / 2
        assert info.value.code == 1007
    assert close_codes(result["frames"]) == [1007]


def test_bad_utf8_early_in_a_huge_frame_fails_before_the_rest_arrives():
    result = {}

    def script(peer):
        peer.accept()
        # A 1 MB text frame of which only the first 200 bytes are sent.
        peer.send(b"\x81\x7f" + struct.pack("!Q", 1_000_000) + b"a" * 100 + b"\xff" + b"a" * 99)
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        with pytest.raises(ProtocolError) as info:
            ws.receive(timeout=T)
        assert info.value.code == 1007
    assert close_codes(result["frames"]) == [1007]


def test_oversize_message_is_refused_from_its_header():
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(2, b"x" * 1000))
        peer.send(b"\x82\x7f" + struct.pack("!Q", 1 << 30))  # 1 GiB announced, never sent
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, max_size=1000)
        assert ws.receive(timeout=T)["data"] == b"x" * 1000  # exactly max_size is fine
        with pytest.raises(MessageTooBig) as info:
            ws.receive(timeout=T)
        assert (info.value.size, info.value.max_size, info.value.code) == (1 << 30, 1000, 1009)
        assert ws.ready_state() == "closed"
    assert close_codes(result["frames"]) == [1009]


def test_a_continuation_announcing_2_63_bytes_fails_with_1009():
    # After 600 bytes of a message, a continuation frame announcing
    # 2**63 - 1 bytes, then bytes without end: the compiled build's cost
    # sum wrapped and took them all past max_size.
    result = {}
    head = server_frame(2, b"a" * 600, fin=False) + b"\x80\x7f" + struct.pack("!Q", (1 << 63) - 1)

    def script(peer):
        peer.accept()
        try:
            peer.send(head)
            for _ in range(200):  # up to 200 MiB
                peer.send(b"z" * (1 << 20))
        except OSError:
            pass  # the client gave up
        result["frames"] = frames_until_eof(peer, answer_close=False)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=1, max_size=1000)
        tracemalloc.start()
        try:
            with pytest.raises(MessageTooBig) as info:
                ws.receive(timeout=T)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert info.value.size == 600 + (1 << 63) - 1 + 16
        assert peak < 4 << 20  # refused from the header, nothing kept
    assert close_codes(result["frames"]) == [1009]


def test_oversize_fragmented_message():
    result = {}
    frames = [server_frame(2, b"a" * 600, fin=False), server_frame(0, b"b" * 600)]
    with RawPeer(failing_peer(*frames, result=result)) as peer:
        ws = WsClient(peer.url, timeout=T, max_size=1000)
        with pytest.raises(MessageTooBig, match=r"1216 bytes exceeds max_size 1000 \(1200 bytes of payload in 2 frames"):
            ws.receive(timeout=T)
    assert close_codes(result["frames"]) == [1009]


@pytest.mark.parametrize(
    "response, status, body",
    [
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-Why: gone\r\n\r\nnot found", 404, b"not found"),
        (b"HTTP/1.1 301 Moved Permanently\r\nLocation: ws://elsewhere/\r\nContent-Length: 0\r\n\r\n", 301, b""),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000, 200, b"x" * 1024),
    ],
)
def test_refused_handshake_reports_status_headers_and_body(response, status, body):
    def script(peer):
        peer.send(response)
        peer.recv_until_eof()

    with RawPeer(script) as peer:
        with pytest.raises(HandshakeError) as info:
            # max_redirects=0: the 301 itself is the error (test_client_redirect
            # follows them).
            WsClient(peer.url, timeout=T, max_redirects=0)
    err = info.value
    assert err.status == status
    assert err.body == body
    assert f"HTTP {status}" in str(err)
    if status == 301:
        assert err.headers["location"] == "ws://elsewhere/"
    if status == 404:
        assert err.headers["x-why"] == "gone"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"accept": "dGhlIHNhbXBsZSBub25jZQ=="}, "wrong Sec-WebSocket-Accept"),
        ({"extra": "Sec-WebSocket-Extensions: permessage-deflate\r\n"}, "extension 'permessage-deflate'"),
        ({"extra": "Sec-WebSocket-Protocol: chat\r\n"}, "subprotocol 'chat'"),
    ],
)
def test_bad_101_responses(kwargs, message):
    def script(peer):
        peer.accept(**kwargs)
        peer.recv_until_eof()

    with RawPeer(script) as peer:
        with pytest.raises(HandshakeError, match=message) as info:
            WsClient(peer.url, timeout=T)
        assert info.value.status == 101


def test_response_head_that_never_ends_is_bounded():
    def script(peer):
        peer.send("HTTP/1.1 101 Switching Protocols\r\n")
        try:
            for _ in range(10_000):
                peer.send("X-Padding: " + "a" * 100 + "\r\n")
        except OSError:
            pass  # the client gave up

    with RawPeer(script) as peer:
        with pytest.raises(HandshakeError, match="exceeds 65536 bytes"):
            WsClient(peer.url, timeout=T)


def test_stalled_handshake_times_out():
    def script(peer):
        peer.send("HTTP/1.1 101 Switching Protocols\r\n")
        peer.recv_until_eof()

    with RawPeer(script) as peer:
        start = time.monotonic()
        with pytest.raises(WebSocketTimeout, match="handshake timed out after 0.3 s"):
            WsClient(peer.url, timeout=0.3)
        assert time.monotonic() - start < T


def test_drop_in_the_middle_of_a_frame_is_1006():
    def script(peer):
        peer.accept()
        peer.send(server_frame(2, b"complete"))
        peer.send(server_frame(2, b"x" * 100)[:50])

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        assert ws.receive(timeout=T)["data"] == b"complete"
        with pytest.raises(ConnectionClosed) as info:
            ws.receive(timeout=T)
        assert info.value.code == 1006
        assert ws.ready_state() == "closed"
        with pytest.raises(ConnectionClosed):
            ws.send("x")


def test_drop_without_close_during_iteration_raises():
    def script(peer):
        peer.accept()
        peer.send(server_frame(1, "one"))

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        got = []
        with pytest.raises(ConnectionClosed):
            for msg in ws:
                got.append(msg["data"])
        assert got == ["one"]


def test_server_that_never_answers_the_close():
    result = {}

    def script(peer):
        peer.accept()
        result["frames"] = frames_until_eof(peer, answer_close=False)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=0.3)
        start = time.monotonic()
        ws.close(1001, "going")
        elapsed = time.monotonic() - start
        assert 0.25 < elapsed < T
        assert ws.ready_state() == "closed"
        with pytest.raises(ConnectionClosed) as info:
            ws.receive(timeout=T)
        assert (info.value.code, info.value.sent_code) == (1006, 1001)
    assert close_codes(result["frames"]) == [1001]


def test_server_close_without_code_is_1005_and_answered_empty():
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(8, b""))
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        assert ws.receive(timeout=T) == {"type": "close", "code": 1005, "reason": "", "data": b""}
    assert [f["payload"] for f in result["frames"]] == [b""]


def test_close_reply_echoes_code_and_client_sends_one_close():
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(8, struct.pack("!H", 4321) + b"why"))
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        msg = ws.receive(timeout=T)
        assert (msg["code"], msg["reason"]) == (4321, "why")
        ws.close()  # already closed: no second close frame
    assert close_codes(result["frames"]) == [4321]


def test_frames_in_the_same_packet_as_the_101():
    def script(peer):
        peer.send(
            switching_protocols(peer.key)
            + server_frame(1, "early")
            + server_frame(8, struct.pack("!H", 1000))
        )
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        assert ws.receive(timeout=T) == {"type": "text", "data": "early"}
        assert ws.receive(timeout=T)["type"] == "close"


def test_receive_timeout_keeps_a_partly_read_frame():
    go_on = threading.Event()
    wire = server_frame(2, bytes(range(256)) * 1000)

    def script(peer):
        peer.accept()
        peer.send(wire[:1000])
        assert go_on.wait(T)
        peer.send(wire[1000:])
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T)
        with pytest.raises(WebSocketTimeout):
            ws.receive(timeout=0.2)
        assert ws.ready_state() == "open"
        go_on.set()
        assert ws.receive(timeout=T) == {"type": "binary", "data": bytes(range(256)) * 1000}
        ws.close()


@pytest.mark.parametrize("auto_pong", [True, False])
def test_pings_are_returned_and_answered_when_auto_pong(auto_pong):
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(9, b"are you there"))
        result["frames"] = frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, auto_pong=auto_pong)
        msg = ws.receive(timeout=T)
        assert msg == {"type": "ping", "data": b"are you there"}
        if not auto_pong:
            ws.pong(msg["data"] + b"!")  # the seed's manual loop
        ws.close()
    kinds = [(f["opcode"], f["payload"]) for f in result["frames"]]
    expected_pong = b"are you there" if auto_pong else b"are you there!"
    assert kinds[0] == (10, expected_pong)
    assert [k for k, _ in kinds].count(10) == 1
    assert kinds[-1][0] == 8
    assert all(f["masked"] for f in result["frames"])  # RFC 6455 §5.3


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_empty_fragments_are_charged_against_max_size():
    # Millions of empty continuation frames (2 bytes each on the wire, no
    # payload): each is charged 16 bytes, so max_size bounds the message's
    # cost and it fails with 1009 after max_size / 16 of them.
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(1, b"a", fin=False))
        chunk = b"\x00\x00" * 65536
        try:
            for _ in range(40):
                peer.send(chunk)
        except OSError:
            pass  # the client gave up
        result["frames"] = frames_until_eof(peer, answer_close=False)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=1, max_size=1 << 20)
        tracemalloc.start()
        try:
            with pytest.raises(MessageTooBig, match=r"in 65537 frames, 16 bytes counted per continuation") as info:
                while True:
                    # tracemalloc makes the pure twin's per-frame work about
                    # 13 times slower (0.3 against 4.2 s here on a busy
                    # machine): the time allowed is generous.
                    ws.receive(timeout=4 * T)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert info.value.size > 1 << 20 and info.value.code == 1009
        assert peak < 4 << 20  # nothing kept per fragment
    assert [parse_close_frame(f["payload"])["code"] for f in result["frames"]] == [1009]


def test_endless_empty_fragments_without_max_size_keep_memory_flat():
    stop = threading.Event()

    def script(peer):
        peer.accept()
        peer.send(server_frame(2, b"a", fin=False))
        chunk = b"\x00\x00" * 65536
        try:
            while not stop.is_set():
                peer.send(chunk)
        except OSError:
            pass

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=1, max_size=None)
        tracemalloc.start()
        try:
            with pytest.raises(WebSocketTimeout):
                ws.receive(timeout=1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            stop.set()
        assert peak < 4 << 20
        ws.close()


@pytest.mark.parametrize("announced", [512 << 20, 3 << 30, 1 << 62, (1 << 63) - 1])
def test_announced_length_reserves_no_memory_without_max_size(announced):
    # A header announcing a huge frame, 1 MiB of it, then silence: memory
    # follows the bytes that arrived, not the announcement (the pure twin
    # used to zero-fill the announced length at once).
    stop = threading.Event()

    def script(peer):
        peer.accept()
        peer.send(b"\x82\x7f" + struct.pack("!Q", announced) + b"\x07" * (1 << 20))
        stop.wait(3 * T)

    with RawPeer(script) as peer:
        ws = WsClient(peer.url, timeout=T, close_timeout=1, max_size=None)
        before = rss_bytes()
        with pytest.raises(WebSocketTimeout):
            ws.receive(timeout=0.5)
        assert rss_bytes() - before < 64 << 20
        assert ws.ready_state() == "open"
        stop.set()
        ws.close()


_UNDER_A_LIMIT = """
import resource, sys
from websocket import WebSocketTimeout, WsClient
ws = WsClient(sys.argv[1], timeout=5, max_size=None, close_timeout=1)
mapped = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (mapped + (512 << 20), resource.RLIM_INFINITY))
try:
    ws.receive(timeout=0.5)
except WebSocketTimeout:
    print("waiting for the rest")
except Exception as exc:
    print("failed:", repr(exc))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="Linux address-space accounting")
def test_a_header_reserves_no_address_space_until_its_bytes_come():
    """A frame announcing 1 GiB, 64 KiB of it sent, under an address-space
    limit (ulimit -v) 512 MiB above what the client maps: the client waits
    for the rest.  The compiled build used to allocate the announced
    length at once (uninitialized, so RSS did not show it) and failed the
    frame with 1009 although max_size=None; now a one-frame message gets
    its final bytes object once a quarter of it arrived."""
    stop = threading.Event()

    def script(peer):
        peer.accept()
        peer.send(b"\x82\x7f" + struct.pack("!Q", 1 << 30) + b"\x07" * (64 << 10))
        stop.wait(3 * T)

    with RawPeer(script) as peer:
        try:
            done = subprocess.run(
                [sys.executable, "-c", _UNDER_A_LIMIT, peer.url], capture_output=True, text=True, timeout=4 * T
            )
        finally:
            stop.set()
    assert done.stdout.strip() == "waiting for the rest", done.stdout + done.stderr


def test_a_big_message_moves_to_its_own_bytes_once_a_quarter_came():
    """The growth path's end: a one-frame message whose first bytes were
    few arrives whole and intact, in pieces of every size (the move to
    its final bytes object happens between two of them)."""
    payload = os.urandom(3 << 20)

    def script(peer):
        peer.accept()
        wire = b"\x82\x7f" + struct.pack("!Q", len(payload)) + payload
        peer.send(wire[: 10 + 1000])
        time.sleep(0.05)
        for i in range(10 + 1000, len(wire), 300_000):
            peer.send(wire[i : i + 300_000])
            time.sleep(0.01)
        frames_until_eof(peer)

    with RawPeer(script) as peer, WsClient(peer.url, timeout=T, max_size=None) as ws:
        assert ws.receive(timeout=T) == {"type": "binary", "data": payload}


def test_pings_while_a_sender_holds_the_connection_queue_one_pong():
    """RFC 6455 §5.5.3: only the latest ping needs its pong.  A server that
    floods pings while a send() is blocked on it (it reads nothing) used to
    cost the client 35-50 bytes per 2-byte ping, for ever; now one pong
    waits, and it answers the last ping once the sender is through."""
    count = 20_000
    resume = threading.Event()
    seen: dict = {}

    def script(peer):
        peer.accept()
        for i in range(count):
            peer.send(server_frame(9, i.to_bytes(4, "big")))
        resume.wait(4 * T)  # read nothing until the client took every ping
        frames = frames_until_eof(peer)
        seen["pongs"] = [f["payload"] for f in frames if f["opcode"] == 10]

    with RawPeer(script) as peer:
        options = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]
        ws = WsClient(peer.url, timeout=T, socket_options=options)
        sender = threading.Thread(target=ws.send, args=(b"s" * (8 << 20),), daemon=True)
        sender.start()
        time.sleep(0.2)  # the sender fills the buffers and waits, holding the connection
        tracemalloc.start()
        try:
            for i in range(count):
                assert ws.receive(timeout=T) == {"type": "ping", "data": i.to_bytes(4, "big")}
            grown, _ = tracemalloc.get_traced_memory()
            # The receive buffer grew with the flood's full reads: that is
            # the work, not the pongs.
            grown -= ws._proto.parser.buffer_size
        finally:
            tracemalloc.stop()
        assert len(ws._proto.pending) == 1  # the one pong, for the last ping
        assert grown < 100_000, f"{grown} bytes held after {count} pings besides the receive buffer"
        resume.set()
        sender.join(4 * T)
        assert not sender.is_alive()
        ws.close()
    assert seen["pongs"][-1] == (count - 1).to_bytes(4, "big")
    assert len(seen["pongs"]) < 10


def test_a_ping_flood_from_a_server_that_reads_nothing_never_stretches_receive():
    """Answering pings never makes receive() wait: once the socket takes no
    more (the server reads nothing), the pong waits in the queue (one at
    most) and receive(timeout=0.5) returns the next ping, or times out on
    time when TCP itself stalls (the server's full receive buffer drops
    the segments that carry the client's window updates).  It used to
    block in the pong's write for as long as the server liked."""
    stop = threading.Event()

    def script(peer):
        peer.conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.accept()
        pings = server_frame(9, b"") * 64
        rest = b""
        end = time.monotonic() + 3.0
        while not stop.is_set() and time.monotonic() < end:
            rest = rest or pings
            # Whole frames only: a send that times out may have sent part.
            if select.select([], [peer.conn], [], 0.05)[1]:
                rest = rest[peer.conn.send(rest) :]
        # Finish the frame a partial send cut (2-byte frames: an odd rest),
        # reading meanwhile, which unstalls TCP; then read until the end.
        peer.conn.setblocking(False)
        rest = rest[: len(rest) % 2]
        until = time.monotonic() + T
        try:
            while rest and time.monotonic() < until:
                readable, writable, _ = select.select([peer.conn], [peer.conn], [], 0.05)
                if readable:
                    peer.conn.recv(1 << 16)
                if writable:
                    rest = rest[peer.conn.send(rest) :]
            peer.conn.settimeout(T)
            peer.recv_until_eof()
        except ConnectionResetError:
            pass  # the client ended TCP with our pings unread: a reset

    with RawPeer(script) as peer:
        options = [(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)]
        ws = WsClient(peer.url, timeout=T, socket_options=options, close_timeout=1)
        slowest, left_waiting = 0.0, False
        try:
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                start = time.monotonic()
                try:
                    assert ws.receive(timeout=0.5)["type"] == "ping"
                except WebSocketTimeout:
                    pass
                slowest = max(slowest, time.monotonic() - start)
                left_waiting = left_waiting or len(ws._proto.pending) == 1
        finally:
            stop.set()
        assert slowest < 1.0, f"a receive(timeout=0.5) took {slowest:.2f} s"
        assert left_waiting, "the socket never filled: the test proved nothing"
        assert len(ws._proto.pending) <= 1
        ws.close()


def test_opening_errors_name_the_url():
    """A refused connection, a handshake that times out, and a server that
    closes without an answer name the URL; on a ws:// URL the last hints
    at wss://."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(ConnectionRefusedError, match=f"ws://127.0.0.1:{port}/refused"):
        WsClient(f"ws://127.0.0.1:{port}/refused", timeout=T)
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"ws://user:secret@127.0.0.1:{silent.getsockname()[1]}/silent"
        with pytest.raises(WebSocketTimeout, match="handshake timed out after 0.3 s: ws://\\*\\*\\*@127.0.0.1:.*/silent") as info:
            WsClient(url, timeout=0.3)
        assert "secret" not in str(info.value)
    finally:
        silent.close()

    def hang_up(peer):
        pass  # reads the request, then closes without a word

    with RawPeer(hang_up) as peer:
        with pytest.raises(HandshakeError, match="after 0 bytes from ws://.*a TLS port\\? try wss://"):
            WsClient(peer.url, timeout=T)


def test_ws_to_a_tls_port_hints_at_wss():
    import trustme

    from .servers import server_context, ws_server

    ca = trustme.CA()
    with ws_server(ssl_context=server_context(ca, "127.0.0.1")) as url:
        plain = url.replace("wss://", "ws://") + "/echo"
        with pytest.raises((HandshakeError, OSError)) as info:
            WsClient(plain, timeout=T)
    assert plain in str(info.value) and "try wss://" in str(info.value)
