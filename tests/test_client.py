"""WsClient against a real server: the websockets library on 127.0.0.1 / ::1."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time

import pytest

import websocket
from websocket import ConnectionClosed, InvalidURI, WebSocketTimeout, WsClient

from .servers import T, as_received, mixed_batch, ws_server


@pytest.fixture(scope="module")
def base():
    with ws_server() as url:
        yield url


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 100_000, 1 << 20, 16 << 20])
def test_echo_binary_and_text_sizes(base, size):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        payload = os.urandom(size)
        ws.send(payload)
        assert ws.receive(timeout=T) == {"type": "binary", "data": payload}
        text = ("é" * (size // 2 + 1))[: max(size // 2, 0)]
        ws.send(text)
        assert ws.receive(timeout=T) == {"type": "text", "data": text}


def test_send_accepts_bytes_like_and_send_binary_iterables(base):
    with WsClient.new(f"{base}/echo", timeout=T) as ws:
        ws.send(bytearray(b"ba"))
        ws.send(memoryview(b"xmvx")[1:3])
        ws.send_binary([1, 2, 3])
        ws.send_binary(range(4))
        ws.send_binary(b"\xff")
        got = [ws.receive(timeout=T)["data"] for _ in range(5)]
        assert got == [b"ba", b"mv", b"\x01\x02\x03", b"\x00\x01\x02\x03", b"\xff"]
        with pytest.raises(TypeError, match="not int"):
            ws.send(12)
        with pytest.raises(TypeError, match="use send\\(\\) for text"):
            ws.send_binary("text")
        with pytest.raises(ValueError, match="0-255"):
            ws.send_binary([256])
        with pytest.raises(TypeError):
            ws.send_binary([None])


def test_send_many_sends_each_item_as_its_own_message_in_order(base):
    messages = mixed_batch()
    with WsClient(f"{base}/echo", timeout=T) as ws:
        ws.send_many(iter(messages))  # any iterable, consumed once
        got = [ws.receive(timeout=T) for _ in messages]
        assert [m["data"] for m in got] == as_received(messages)
        assert [m["type"] for m in got] == ["text" if isinstance(m, str) else "binary" for m in messages]
        ws.send_many([])  # nothing to send: nothing sent
        ws.send("after")
        assert ws.receive(timeout=T)["data"] == "after"


def test_send_many_takes_each_item_when_yielded(base):
    # One buffer, refilled and yielded again: each message is what the
    # buffer held when it was yielded (the benchmark's sender does this).
    buf = bytearray(64)

    def refilled():
        for i in range(5000):
            buf[:4] = i.to_bytes(4, "big")
            yield buf

    with WsClient(f"{base}/echo", timeout=T) as ws:
        ws.send_many(refilled())
        got = [ws.receive(timeout=T)["data"] for _ in range(5000)]
    assert [int.from_bytes(m[:4], "big") for m in got] == list(range(5000))


def test_send_many_bad_item_sends_those_before_it_and_names_it(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        with pytest.raises(TypeError, match=r"send_many\(\) \(item 2\) takes a str or a bytes-like object, not int"):
            ws.send_many([b"a", "b", 3, b"never"])
        assert [ws.receive(timeout=T)["data"] for _ in range(2)] == [b"a", "b"]
        ws.send("next")  # the stream is intact: no partial frame was written
        assert ws.receive(timeout=T)["data"] == "next"
        ws.close()
        with pytest.raises(ConnectionClosed):
            ws.send_many([b"late"])


@pytest.mark.parametrize("options", [{}, {"compression": "deflate"}, {"send_timeout": T}], ids=["fast", "deflate", "send_timeout"])
def test_text_that_cannot_be_encoded_is_refused_and_the_connection_goes_on(base, options):
    """A lone surrogate has no UTF-8: send() raises UnicodeEncodeError on
    every path (the fast path used to fail the connection with 1006), and
    nothing reaches the wire."""
    big = "x" * 300_000 + "\ud800"  # over send_many()'s batch size
    with WsClient(f"{base}/echo", timeout=T, **options) as ws:
        for bad in ("a\ud800b", "a\ud800b", big, [big]):  # [big]: a fragmented send()
            with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
                ws.send(bad)
        for bad in ("a\udfffb", big):
            with pytest.raises(UnicodeEncodeError):
                ws.send_many([b"before", "text", bad, b"never"])
            assert [ws.receive(timeout=T)["data"] for _ in range(2)] == [b"before", "text"]
        ws.send("next")
        assert ws.receive(timeout=T)["data"] == "next"


def test_ping_pong_and_limits(base):
    with websocket.connect(f"{base}/echo", timeout=T) as ws:
        ws.ping(b"abc")
        assert ws.receive(timeout=T) == {"type": "pong", "data": b"abc"}
        ws.ping("é")
        assert ws.receive(timeout=T) == {"type": "pong", "data": "é".encode()}
        ws.ping()
        assert ws.receive(timeout=T) == {"type": "pong", "data": b""}
        ws.pong(b"unsolicited")  # allowed by RFC 6455 §5.5.3; no answer
        with pytest.raises(ValueError, match="126 bytes exceeds 125"):
            ws.ping(b"x" * 126)
        with pytest.raises(ValueError, match="pong payload"):
            ws.pong(b"x" * 200)
        with pytest.raises(TypeError):
            ws.ping(5)


def test_fragmented_messages_with_interleaved_pings(base):
    with WsClient(f"{base}/fragments", timeout=T) as ws:
        got = [ws.receive(timeout=T) for _ in range(5)]
        # Control frames come in wire order, the reassembled message when
        # its last fragment arrives.
        assert got == [
            {"type": "ping", "data": b"p1"},
            {"type": "ping", "data": b"p2"},
            {"type": "text", "data": "hello w\u00f6rld"},
            {"type": "ping", "data": b"p3"},
            {"type": "binary", "data": b"\x00" * 70000 + b"\x01" * 70000},
        ]
        ws.send("after")  # the connection is still in order
        assert ws.receive(timeout=T) == {"type": "text", "data": "after"}


def test_server_initiated_close_with_code_and_reason(base):
    ws = WsClient(f"{base}/close?code=4001&reason=bye%20now", timeout=T)
    msg = ws.receive(timeout=T)
    assert msg["type"] == "close" and (msg["code"], msg["reason"]) == (4001, "bye now")
    assert ws.ready_state() == "closed"
    for call in (lambda: ws.receive(timeout=T), lambda: ws.send("x"), lambda: ws.ping(), lambda: ws.send_binary(b"")):
        with pytest.raises(ConnectionClosed) as info:
            call()
        assert (info.value.code, info.value.reason) == (4001, "bye now")
        assert info.value.sent_code == 4001  # we echoed the code
    ws.close()  # idempotent
    ws.close()
    assert ws.ready_state() == "closed"


def test_client_close_handshake(base):
    ws = WsClient(f"{base}/echo", timeout=T)
    assert ws.ready_state() == "open"
    ws.send("pending")  # echoed back after we close: discarded by close()
    start = time.monotonic()
    ws.close(4000, "done")
    assert time.monotonic() - start < T
    assert ws.ready_state() == "closed"
    with pytest.raises(ConnectionClosed) as info:
        ws.receive(timeout=T)
    assert info.value.code == 4000  # websockets echoes our code
    assert info.value.sent_code == 4000
    with pytest.raises(ValueError, match="invalid close code 1005"):
        ws.close(1005)
    with pytest.raises(ValueError, match="exceeds 123"):
        ws.close(1000, "x" * 124)


def test_iteration_yields_data_messages_until_close(base):
    with WsClient(f"{base}/send?n=3&size=10", timeout=T) as ws:
        got = []
        for msg in ws:
            got.append(msg)
            if len(got) == 3:
                ws.send("stop")  # echoed back
            if len(got) == 4:
                ws.close()
        assert [m["data"] for m in got] == [b"\x00" * 10, b"\x01" * 10, b"\x02" * 10, "stop"]


def test_subprotocol_negotiation_and_headers():
    with ws_server(subprotocols=["chat", "superchat"]) as url:
        with WsClient(
            f"{url}/headers",
            timeout=T,
            subprotocols=["superchat", "other"],
            headers={"X-Token": "abc", "User-Agent": "tests/1.0"},
            origin="http://origin.example",
        ) as ws:
            assert ws.subprotocol == "superchat"
            assert ws.response_status == 101
            assert ws.response_headers["sec-websocket-protocol"] == "superchat"
            seen = json.loads(ws.receive(timeout=T)["data"])
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["x-token"] == "abc"
    assert headers["user-agent"] == "tests/1.0"
    assert headers["origin"] == "http://origin.example"
    assert headers["sec-websocket-protocol"] == "superchat, other"
    assert seen["subprotocol"] == "superchat"


def test_no_subprotocol_offered_means_none(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        assert ws.subprotocol is None


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6(), reason="this machine has no IPv6 loopback")
def test_ipv6_loopback():
    with ws_server(host="::1") as url:
        assert url.startswith("ws://[::1]:")
        with WsClient(f"{url}/echo", timeout=T) as ws:
            ws.send("over ipv6")
            assert ws.receive(timeout=T)["data"] == "over ipv6"


def test_receive_timeout_keeps_connection_usable(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        with pytest.raises(WebSocketTimeout, match="timed out after 0.05 s") as info:
            ws.receive(timeout=0.05)
        assert isinstance(info.value, TimeoutError)
        ws.send("still here")
        assert ws.receive(timeout=T)["data"] == "still here"


def test_one_thread_receives_while_another_sends(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        got = []

        def reader():
            for _ in range(200):
                got.append(ws.receive(timeout=T)["data"])

        thread = threading.Thread(target=reader)
        thread.start()
        senders = [
            threading.Thread(target=lambda i=i: [ws.send(f"{i}:{n}") for n in range(100)]) for i in range(2)
        ]
        for s in senders:
            s.start()
        for s in senders:
            s.join(T)
        thread.join(3 * T)
        assert sorted(got) == sorted(f"{i}:{n}" for i in range(2) for n in range(100))
        for i in range(2):  # each sender's messages stay in order
            assert [m for m in got if m.startswith(f"{i}:")] == [f"{i}:{n}" for n in range(100)]


def test_close_from_another_thread_wakes_blocked_receive(base):
    ws = WsClient(f"{base}/echo", timeout=T)
    outcome = []

    def reader():
        try:
            outcome.append(ws.receive())  # no timeout: blocks
        except ConnectionClosed as exc:
            outcome.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.1)
    ws.close()
    thread.join(T)
    assert not thread.is_alive()
    assert len(outcome) == 1
    result = outcome[0]
    assert (isinstance(result, dict) and result["type"] == "close") or isinstance(result, ConnectionClosed)
    assert ws.ready_state() == "closed"


def test_a_blocked_receive_gets_the_close_frame_when_another_thread_closes(base):
    # The receiving thread reads the server's close frame, so it returns it
    # (the CLI prints it).  A regression let close(), waiting for the
    # receive lock, take that frame in the gap between receive()'s fast
    # path and its full receive (seen once in CI, in test_cli's Ctrl-C
    # test).  Thread switches as often as possible open any such gap.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(30):
            ws = WsClient(f"{base}/echo", timeout=T)
            outcome = []
            thread = threading.Thread(target=lambda ws=ws, out=outcome: out.append(ws.receive()))
            thread.start()
            deadline = time.monotonic() + T
            while not ws._recv_lock.locked():  # blocked in its read
                assert time.monotonic() < deadline
                time.sleep(0.001)
            ws.close()
            thread.join(T)
            assert outcome == [{"type": "close", "code": 1000, "reason": "", "data": b"\x03\xe8"}]
    finally:
        sys.setswitchinterval(switch)


def test_invalid_arguments_raise_before_connecting():
    with pytest.raises(InvalidURI):
        WsClient("http://127.0.0.1/")
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        WsClient("ws://127.0.0.1:1/", timeout=-1)
    with pytest.raises(TypeError, match="close_timeout"):
        WsClient("ws://127.0.0.1:1/", close_timeout="soon")
    with pytest.raises(ValueError, match="max_size"):
        WsClient("ws://127.0.0.1:1/", max_size=-5)
    with pytest.raises(ValueError, match="not a wss:// URL"):
        import ssl

        WsClient("ws://127.0.0.1:1/", ssl_context=ssl.create_default_context())
    with pytest.raises(TypeError, match="ssl_context"):
        WsClient("wss://127.0.0.1:1/", ssl_context="yes")
    with pytest.raises(ValueError, match="header"):
        WsClient("ws://127.0.0.1:1/", headers={"X": "a\r\nb"})
    with pytest.raises(TypeError, match="bogus_option"):
        WsClient("ws://127.0.0.1:1/", bogus_option=True)
    with pytest.raises(ValueError, match="compression must be 'deflate' or None, not 'bogus'"):
        WsClient("ws://127.0.0.1:1/", compression="bogus")
    # Non-ASCII in a header or the origin: named, and no connection made
    # (port 1 would refuse it).
    with pytest.raises(ValueError, match="header 'X-Name'"):
        WsClient("ws://127.0.0.1:1/", headers={"X-Name": "J\u00fcrgen"})
    with pytest.raises(ValueError, match="origin"):
        WsClient("ws://127.0.0.1:1/", origin="https://m\u00fcnchen.example")


@pytest.mark.parametrize("huge", [3e6, float("inf"), 1e300, 2**40, 10**400], ids=str)
def test_huge_timeouts_mean_no_limit(base, huge):
    # (10**400 is too big for a float: still no limit, not an OverflowError)
    with WsClient(f"{base}/echo", timeout=huge, close_timeout=huge, send_timeout=huge) as ws:
        ws.send("x", timeout=huge)
        assert ws.receive(timeout=huge)["data"] == "x"
        ws.send_binary(b"y")
        assert ws.receive_into(bytearray(4), timeout=huge) == (1, "binary")
    assert ws.ready_state() == "closed"


def test_connection_refused_is_an_oserror():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(ConnectionRefusedError):
            WsClient(f"ws://127.0.0.1:{port}/", timeout=T)


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_text_as_bytes(compression):
    """decode_text=False: text arrives as its UTF-8 bytes (validated), for
    parsers that take bytes; binary is unchanged."""
    doc = json.dumps({"price": 101.25, "name": "caf\u00e9"})
    with ws_server() as base, WsClient(
        f"{base}/echo", timeout=T, decode_text=False, compression=compression
    ) as ws:
        ws.send(doc)
        msg = ws.receive(timeout=T)
        assert msg == {"type": "text", "data": doc.encode()}
        assert json.loads(msg["data"]) == json.loads(doc)
        ws.send(b"\xff")
        assert ws.receive(timeout=T) == {"type": "binary", "data": b"\xff"}
    with pytest.raises(TypeError, match="decode_text must be a bool"):
        WsClient("ws://127.0.0.1:1/", decode_text="no")


def test_instance_attributes_stay_within_cpythons_shared_keys():
    # CPython 3.11+ shares instances' dict keys (and specialises attribute
    # reads on them) only up to 30 attributes; past that, every attribute
    # read on the send and receive paths got slower (+10% instructions per
    # message, bench/icount.py).  Options used only while connecting live
    # in one attribute (_opening) for that reason.
    with ws_server() as url:
        for options in ({}, {"ping_interval": 5, "send_timeout": 1, "compression": "deflate"}):
            with WsClient(url + "/echo", timeout=T, **options) as ws:
                assert len(vars(ws)) <= 30, sorted(vars(ws))


def test_receive_is_a_subclass_s_own_when_it_overrides_it(base):
    # The connection's receive is the engine's one compiled call, unless a
    # subclass overrides receive(): its method is then the one called.
    class Counting(WsClient):
        seen: list = []

        def receive(self, timeout=None):
            msg = super().receive(timeout)
            self.seen.append(msg["type"])
            return msg

    with Counting(f"{base}/echo", timeout=T) as ws:
        ws.send("a")
        ws.send(b"b")
        assert [ws.receive(timeout=T)["data"] for _ in range(2)] == ["a", b"b"]
    assert Counting.seen == ["text", "binary"]


def test_a_dropped_connection_is_closed_at_once(base):
    # Nothing the connection holds refers back to it (the engine holds its
    # full receive weakly): dropped without close(), its socket is closed
    # then, not at some later garbage collection.
    import gc

    ws = WsClient(f"{base}/echo", timeout=T)
    ws.send("x")
    assert ws.receive(timeout=T)["data"] == "x"
    sock = ws._sock
    gc.disable()
    try:
        del ws
        assert sock.fileno() == -1
    finally:
        gc.enable()


def test_a_connection_dropped_as_its_receive_is_called_raises_connection_closed(base):
    # WsClient(...).receive(): the connection is dropped once its receive
    # (the engine's) is looked up, and closed; the call then says so, and
    # reads nothing from the closed descriptor.
    with pytest.raises(ConnectionClosed) as info:
        WsClient(f"{base}/echo", timeout=T).receive(timeout=T)
    assert info.value.code == 1006


def test_how_a_connection_ended_is_public(base):
    """close_received, ended, sock, fileno, request_head: what the compat
    layer, reconnect() and WebSocketApp read, without private state."""
    with WsClient(f"{base}/close?code=4001&reason=bye", timeout=T) as ws:
        assert ws.request_head.startswith("GET /close?code=4001&reason=bye HTTP/1.1\r\n")
        assert "sec-websocket-key" in ws.request_head.lower()
        assert isinstance(ws.sock, socket.socket) and ws.fileno() == ws.sock.fileno() >= 0
        assert ws.ended is None and ws.close_received is None
        msg = ws.receive(timeout=T)
        assert (msg["type"], msg["code"], msg["reason"]) == ("close", 4001, "bye")
        assert ws.close_received == (4001, "bye")
        ended = ws.ended
        assert isinstance(ended, ConnectionClosed) and (ended.code, ended.reason) == (4001, "bye")
    assert ws.sock is None and ws.fileno() == -1


def test_abort_ends_tcp_at_once_and_wakes_a_receiver(base):
    with WsClient(f"{base}/echo", timeout=T) as ws:
        errors = []

        def receive():
            try:
                ws.receive()
            except ConnectionClosed as exc:
                errors.append(exc)

        thread = threading.Thread(target=receive)
        thread.start()
        time.sleep(0.2)  # (in its read, or about to be: either way it wakes)
        ws.abort()
        thread.join(T)
        assert not thread.is_alive()
        assert [e.code for e in errors] == [1006]
        assert ws.ready_state() == "closed" and ws.sock is None
        assert ws.ended is not None and ws.ended.code == 1006 and ws.close_received is None
        ws.abort()  # again: nothing to do
