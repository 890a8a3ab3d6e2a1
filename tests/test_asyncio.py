"""The asyncio face (websocket/asyncio): real servers on 127.0.0.1 and
scripted raw-socket peers, on the build this run selects."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct

import pytest
import trustme
import uvloop

import websocket.asyncio as wsa
from websocket import (
    ConnectionClosed,
    HandshakeError,
    MessageTooBig,
    ProtocolError,
    WebSocketTimeout,
    parse_close_frame,
)

from .servers import (
    RawPeer,
    T,
    client_context,
    frames_until_eof,
    server_context,
    server_frame,
    ws_server,
)

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOPS))
def run(request):
    """Run one test's coroutine on asyncio's loop and on uvloop, bounded
    in time."""

    def run(coro):
        loop = LOOPS[request.param]()
        try:
            return loop.run_until_complete(asyncio.wait_for(coro, 4 * T))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    return run


@pytest.fixture(scope="module")
def base():
    with ws_server() as url:
        yield url


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_echo_text_and_binary(base, compression, run):
    async def main():
        async with wsa.connect(f"{base}/echo", compression=compression, timeout=T) as ws:
            assert ws.ready_state() == "open"
            await ws.send("caf\u00e9")
            assert await ws.receive() == {"type": "text", "data": "caf\u00e9"}
            big = bytes(range(256)) * 1000
            await ws.send_binary(bytearray(big))
            assert await ws.receive() == {"type": "binary", "data": big}
            await ws.send(b"x" * 10, compress=False)
            assert await ws.receive() == {"type": "binary", "data": b"x" * 10}
            assert (ws.response_headers.get("sec-websocket-extensions") is not None) == (compression is not None)
        assert ws.ready_state() == "closed"

    run(main())


def test_awaitable_connect_ping_and_latency(base, run):
    async def main():
        ws = await wsa.connect(f"{base}/echo", timeout=T)
        try:
            assert ws.latency is None
            rtt = await ws.ping(b"p1")
            assert 0 <= rtt < T and ws.latency is not None
            # The pong is also a message, as WsClient.receive() returns it.
            assert await ws.receive() == {"type": "pong", "data": b"p1"}
            with pytest.raises(ValueError, match="126 bytes exceeds 125"):
                await ws.ping(b"x" * 126)
            with pytest.raises(TypeError, match="send\\(\\) takes a str or a bytes-like object, not int"):
                await ws.send(5)  # type: ignore[arg-type]
        finally:
            await ws.close()
        with pytest.raises(ConnectionClosed):
            await ws.send("late")

    run(main())


def test_iteration_ends_at_the_servers_close_and_receive_then_raises(base, run):
    async def main():
        async with wsa.connect(f"{base}/send?n=3&size=4", timeout=T) as ws:
            got = []
            async for msg in ws:
                got.append(msg["data"])
                if len(got) == 3:
                    await ws.close(4000, "done")
            assert got == [b"\x00" * 4, b"\x01" * 4, b"\x02" * 4]
            with pytest.raises(ConnectionClosed) as info:
                await ws.receive()
            assert info.value.sent_code == 4000

    run(main())


def test_a_close_from_the_server_is_returned_once(base, run):
    async def main():
        ws = await wsa.connect(f"{base}/close?code=4001&reason=bye", timeout=T)
        msg = await ws.receive()
        assert (msg["type"], msg["code"], msg["reason"]) == ("close", 4001, "bye")
        with pytest.raises(ConnectionClosed) as info:
            await ws.receive()
        assert (info.value.code, info.value.reason) == (4001, "bye")
        await ws.close()  # nothing left to do: returns
        assert ws.ready_state() == "closed"

    run(main())


def test_a_cancelled_receive_loses_no_message(base, run):
    async def main():
        async with wsa.connect(f"{base}/echo", timeout=T) as ws:
            got = []
            cancelled = 0
            for i in range(20):
                waiting = asyncio.ensure_future(ws.receive())
                await asyncio.sleep(0)  # suspended in receive()
                waiting.cancel()
                try:
                    # (the previous echo may have completed it first)
                    got.append((await waiting)["data"])
                except asyncio.CancelledError:
                    cancelled += 1
                await ws.send(f"m{i}")
            while len(got) < 20:
                got.append((await ws.receive())["data"])
            assert got == [f"m{i}" for i in range(20)] and cancelled > 0

    run(main())


def test_many_tasks_send_while_one_receives(base, run):
    async def main():
        async with wsa.connect(f"{base}/echo", timeout=T) as ws:

            async def sender(n):
                for i in range(50):
                    await ws.send(f"{n}:{i}:" + "y" * (i * 97 % 3000))

            async def receiver():
                return [(await ws.receive())["data"] for _ in range(8 * 50)]

            got, *_ = await asyncio.gather(receiver(), *(sender(n) for n in range(8)))
            # Every message whole and, per sender, in order.
            for n in range(8):
                mine = [m for m in got if m.startswith(f"{n}:")]
                assert [int(m.split(":")[1]) for m in mine] == list(range(50))
                assert all(len(m.split(":")[2]) == int(m.split(":")[1]) * 97 % 3000 for m in mine)

    run(main())


def test_a_refusal_and_a_silent_server(run):
    async def refused(url):
        with pytest.raises(HandshakeError) as info:
            await wsa.connect(f"{url}/refuse?status=403", timeout=T)
        assert info.value.status == 403

    with ws_server() as url:
        run(refused(url))
    with socket.create_server(("127.0.0.1", 0)) as silent:

        async def main():
            port = silent.getsockname()[1]
            with pytest.raises(WebSocketTimeout, match="opening handshake timed out after 0.3 s"):
                await wsa.connect(f"ws://127.0.0.1:{port}/", timeout=0.3)

        run(main())


def test_bad_options_fail_before_connecting():
    with pytest.raises(ValueError, match="scheme must be ws or wss, got .http."):
        wsa.connect("http://127.0.0.1:1/")
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        wsa.connect("ws://127.0.0.1:1/", timeout=-1)
    with pytest.raises(ValueError, match="compression"):
        wsa.connect("ws://127.0.0.1:1/", compression="gzip")


@pytest.mark.parametrize(
    "bad, error, code, message",
    [
        (b"\x83\x00", ProtocolError, 1002, "reserved opcode 0x3"),
        (server_frame(1, b"caf\xc3"), ProtocolError, 1007, "invalid UTF-8"),
        # 1 GiB announced, never sent: refused from its header.
        (b"\x82\x7f" + struct.pack("!Q", 1 << 30), MessageTooBig, 1009, "exceeds"),
    ],
)
def test_a_protocol_violation_fails_after_the_intact_messages(bad, error, code, message, run):
    result = {}

    def script(peer):
        peer.accept()
        peer.send(server_frame(1, "intact") + server_frame(9, b"pi") + bad)
        result["frames"] = frames_until_eof(peer)

    async def main(url):
        ws = await wsa.connect(url, timeout=T, max_size=1 << 20)
        assert await ws.receive() == {"type": "text", "data": "intact"}
        assert await ws.receive() == {"type": "ping", "data": b"pi"}
        with pytest.raises(error, match=message) as info:
            await ws.receive()
        assert info.value.code == code
        await ws.close()
        assert ws.ready_state() == "closed"

    with RawPeer(script) as peer:
        run(main(peer.url))
    frames = result["frames"]
    # The ping was answered, then the connection failed with its code.
    assert [f["opcode"] for f in frames] == [10, 8]
    assert frames[0]["payload"] == b"pi"
    assert parse_close_frame(frames[1]["payload"])["code"] == code


def test_a_dropped_connection_raises_in_iteration(run):
    def script(peer):
        peer.accept()
        peer.send(server_frame(1, "one"))
        peer.conn.shutdown(socket.SHUT_RDWR)  # no close frame

    async def main(url):
        ws = await wsa.connect(url, timeout=T)
        got = []
        with pytest.raises(ConnectionClosed) as info:
            async for msg in ws:
                got.append(msg["data"])
        assert got == ["one"] and info.value.code == 1006
        await ws.close()

    with RawPeer(script) as peer:
        run(main(peer.url))


def test_reading_pauses_while_messages_wait_unreceived(base, run):
    # 2,000 messages of 1 KB the client does not receive yet: it stops
    # reading (TCP pushes back on the server) instead of queueing all.
    from websocket.asyncio._connection import HIGH_WATER

    async def main():
        async with wsa.connect(f"{base}/send?n=2000&size=1000", timeout=T) as ws:
            await asyncio.sleep(0.5)
            waiting = len(ws._conn.messages)
            assert HIGH_WATER <= waiting < 1000
            got = [(await ws.receive())["data"][0] for _ in range(2000)]
            assert got == [i % 256 for i in range(2000)]

    run(main())


def test_close_waits_close_timeout_at_most_for_a_silent_server(run):
    def script(peer):
        peer.accept()
        peer.recv_until_eof()  # reads our close frame, never answers it

    async def main(url):
        ws = await wsa.connect(url, timeout=T, close_timeout=0.3)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await ws.close()
        assert 0.25 <= loop.time() - start < T
        assert ws.ready_state() == "closed"
        with pytest.raises(ConnectionClosed):
            await ws.receive()

    with RawPeer(script) as peer:
        run(main(peer.url))


def test_a_cancelled_close_ends_the_connection(run):
    def script(peer):
        peer.accept()
        peer.recv_until_eof()

    async def main(url):
        ws = await wsa.connect(url, timeout=T, close_timeout=T)
        closing = asyncio.ensure_future(ws.close())
        await asyncio.sleep(0.05)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        await asyncio.wait_for(asyncio.shield(ws._conn.closed), T)
        assert ws.ready_state() == "closed"

    with RawPeer(script) as peer:
        run(main(peer.url))


def test_tls_with_sni_and_verification(run):
    ca = trustme.CA()
    seen = []

    async def main(port):
        # An address and a server_hostname, not "localhost": a name would be
        # resolved in libuv's thread pool on uvloop, whose threads outlive
        # the loop and would take the signals of tests/test_client_faults.py.
        context = client_context(ca)
        url = f"wss://127.0.0.1:{port}/echo"
        async with wsa.connect(url, ssl_context=context, server_hostname="localhost", timeout=T) as ws:
            await ws.send(b"z" * 300_000)
            assert await ws.receive() == {"type": "binary", "data": b"z" * 300_000}
        with pytest.raises(ssl.SSLCertVerificationError):
            await wsa.connect(url, server_hostname="localhost", timeout=T)  # system CAs only
        with pytest.raises(ValueError, match="ssl_context given for a ws:// URL"):
            wsa.connect(f"ws://127.0.0.1:{port}/", ssl_context=context)

    with ws_server(ssl_context=server_context(ca, "localhost", seen=seen)) as url:
        run(main(url.rsplit(":", 1)[1]))
    assert "localhost" in seen


@pytest.mark.parametrize("compression", [None, "deflate"])
def test_a_message_in_pieces_from_an_iterable_or_async_iterable(base, compression, run):
    async def pieces():
        for i in range(5):
            await asyncio.sleep(0)
            yield bytes([i]) * 1000

    async def main():
        async with wsa.connect(f"{base}/echo", compression=compression, timeout=T) as ws:
            await ws.send(["caf", "\u00e9 ", "au lait"])
            assert await ws.receive() == {"type": "text", "data": "caf\u00e9 au lait"}
            await ws.send(pieces())
            assert await ws.receive() == {"type": "binary", "data": b"".join(bytes([i]) * 1000 for i in range(5))}
            await ws.send([])  # nothing is sent
            await ws.send("after")
            assert await ws.receive() == {"type": "text", "data": "after"}

    run(main())


def _frames_of(result):
    return [(f["opcode"], f["fin"], f["payload"]) for f in result["frames"]]


def _recording(result, answer_close=True):
    """A scripted peer's script: accept, then record the client's frames
    (answering a close frame unless told not to: a dead peer)."""

    def script(peer):
        peer.accept()
        result["frames"] = frames_until_eof(peer, answer_close)

    return script


def test_other_messages_wait_for_a_message_in_pieces(run):
    result = {}

    async def main(url):
        ws = await wsa.connect(url, timeout=T)
        release = asyncio.Event()

        async def pieces():
            yield b"a"
            await release.wait()
            yield b"b"

        sending = asyncio.ensure_future(ws.send(pieces()))
        await asyncio.sleep(0.05)
        other = asyncio.ensure_future(ws.send("whole"))
        await asyncio.sleep(0.05)
        assert not other.done()  # waits for the message in pieces
        release.set()
        await asyncio.gather(sending, other)
        await ws.close()

    with RawPeer(_recording(result)) as peer:
        run(main(peer.url))
    assert _frames_of(result)[:4] == [(2, False, b"a"), (0, False, b"b"), (0, True, b""), (1, True, b"whole")]


@pytest.mark.parametrize("how", ["cancelled", "mixed types", "raises"])
def test_a_message_in_pieces_that_cannot_be_finished_fails_the_connection(how, run):
    result = {}

    async def main(url):
        ws = await wsa.connect(url, timeout=T)
        started = asyncio.Event()

        async def pieces():
            yield b"first"
            started.set()
            if how == "mixed types":
                yield "text"
            elif how == "raises":
                raise OSError("the source failed")
            await asyncio.Event().wait()  # never

        sending = asyncio.ensure_future(ws.send(pieces()))
        await started.wait()
        await asyncio.sleep(0.01)
        if how == "cancelled":
            sending.cancel()
        expected = {"cancelled": asyncio.CancelledError, "mixed types": TypeError, "raises": OSError}[how]
        with pytest.raises(expected):
            await sending
        with pytest.raises(ConnectionClosed) as info:
            await ws.send("more")
        assert info.value.sent_code == 1011
        await ws.close()

    with RawPeer(_recording(result)) as peer:
        run(main(peer.url))
    frames = _frames_of(result)
    assert frames[0] == (2, False, b"first")
    assert frames[1][0] == 8 and parse_close_frame(frames[1][2])["code"] == 1011


def test_keepalive_fails_a_silent_peer_at_once(run):
    result = {}

    async def main(url):
        ws = await wsa.connect(url, timeout=T, ping_interval=0.2, ping_timeout=0.3, close_timeout=T)
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(ConnectionClosed) as info:
            async for _ in ws:
                pass
        # A ping after 0.2 s of silence, its pong late 0.3 s later: 1011,
        # without waiting close_timeout for a peer that answers nothing.
        assert 0.45 <= loop.time() - start < T / 2
        assert info.value.code == 1011 and "keepalive ping timeout" in info.value.reason

    with RawPeer(_recording(result, answer_close=False)) as peer:
        run(main(peer.url))
    frames = _frames_of(result)
    assert frames[0][0] == 9  # the ping
    assert frames[1][0] == 8 and parse_close_frame(frames[1][2])["code"] == 1011


def test_keepalive_keeps_an_answering_connection(base, run):
    async def main():
        async with wsa.connect(f"{base}/echo", timeout=T, ping_interval=0.05, ping_timeout=T) as ws:
            await asyncio.sleep(0.4)  # several intervals, no task receiving
            assert ws.latency is not None  # the keepalive pings were answered
            await ws.send("still here")
            assert await ws.receive() == {"type": "text", "data": "still here"}

    run(main())


def test_deflate_parameters_are_offered(base, run):
    async def main():
        async with wsa.connect(
            f"{base}/echo", compression="deflate", server_no_context_takeover=True, compression_level=1, timeout=T
        ) as ws:
            assert "server_no_context_takeover" in ws.response_headers["sec-websocket-extensions"]
            for _ in range(3):
                await ws.send("{'price': 101.25}" * 50)
                assert (await ws.receive())["data"] == "{'price': 101.25}" * 50
        with pytest.raises(ValueError, match="given without compression='deflate'"):
            wsa.connect(f"{base}/echo", compression_level=1)

    run(main())
