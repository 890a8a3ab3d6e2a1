"""Real peers on loopback for the client tests.

- :func:`ws_server`: the ``websockets`` library's server in a thread, with a
  handler chosen by the request path (see :func:`dispatch`).
- :class:`RawPeer`: a scripted raw-socket server for what a polite server
  never does: masked frames, bad handshakes, drops mid-frame, silence.

Everything binds to 127.0.0.1 (or ::1) on an ephemeral port, every wait is
bounded by ``T`` (scaled by WEBSOCKET_TEST_TIMEOUT_FACTOR), and servers stop
when their ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable

from websockets.sync.server import serve

from websocket import encode_frame
from websocket._handshake import accept_key

from .conftest import TIMEOUT_FACTOR

#: The basic timeout unit of the network tests, in seconds.
T = 5.0 * TIMEOUT_FACTOR


def dispatch(ws) -> None:
    """The websockets server's handler: the path says what to do.

    /echo                 echo every message (same type)
    /headers              send the request headers and subprotocol as JSON
    /close?code=&reason=  close with that code and reason
    /fragments            a fragmented text and binary message, pings between
    /send?n=&size=        send n binary messages of size bytes, then echo
    """
    url = urllib.parse.urlsplit(ws.request.path)
    query = dict(urllib.parse.parse_qsl(url.query))
    if url.path == "/echo":
        for message in ws:
            ws.send(message)
    elif url.path == "/headers":
        ws.send(json.dumps({"headers": dict(ws.request.headers.raw_items()), "subprotocol": ws.subprotocol}))
        for message in ws:
            ws.send(message)
    elif url.path == "/close":
        ws.close(int(query.get("code", 1000)), query.get("reason", ""))
    elif url.path == "/fragments":
        with ws.protocol_mutex:
            proto = ws.protocol
            proto.send_text(b"hel", fin=False)
            proto.send_ping(b"p1")
            proto.send_continuation(b"lo w", fin=False)
            proto.send_ping(b"p2")
            proto.send_continuation("\u00f6rld".encode(), fin=True)
            proto.send_binary(b"\x00" * 70000, fin=False)
            proto.send_ping(b"p3")
            proto.send_continuation(b"\x01" * 70000, fin=True)
            ws.send_data()
        for message in ws:
            ws.send(message)
    elif url.path == "/send":
        size = int(query.get("size", 1))
        for i in range(int(query.get("n", 1))):
            ws.send(bytes([i % 256]) * size)
        for message in ws:
            ws.send(message)
    else:
        ws.close(4404, f"no handler for {url.path}")


def process_request(connection, request):
    """HTTP answers instead of the upgrade, chosen by the path.

    /redirect?status=&to=  a redirect (302 by default) to ``to``
    /refuse?status=&body=  a refusal (403 by default)
    """
    url = urllib.parse.urlsplit(request.path)
    query = dict(urllib.parse.parse_qsl(url.query))
    if url.path == "/redirect":
        response = connection.respond(int(query.get("status", 302)), "moved\n")
        response.headers["Location"] = query["to"]
        return response
    if url.path == "/refuse":
        return connection.respond(int(query.get("status", 403)), query.get("body", "refused\n"))
    return None


@contextlib.contextmanager
def ws_server(host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None, **options):
    """Run the websockets server; yields its base URL (no trailing slash)."""
    options.setdefault("max_size", None)
    options.setdefault("close_timeout", T)
    options.setdefault("process_request", process_request)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, 0), family=family)
    with serve(dispatch, sock=listener, ssl=ssl_context, **options) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        scheme = "wss" if ssl_context else "ws"
        netloc = f"[{host}]" if ":" in host else host
        try:
            yield f"{scheme}://{netloc}:{port}"
        finally:
            server.shutdown()
            thread.join(T)


def server_context(ca, *names, seen=None) -> ssl.SSLContext:
    """A TLS server context with a certificate from the test CA ``ca``
    (trustme) for ``names``; SNI names received go to ``seen``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(ctx)
    if seen is not None:
        ctx.sni_callback = lambda sock, name, _ctx: seen.append(name)
    return ctx


def client_context(ca) -> ssl.SSLContext:
    """A verifying client context that trusts the test CA."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


def request_key(request: bytes) -> str:
    """The ``Sec-WebSocket-Key`` of a request head ("" if it has none: a
    scripted peer may be asked for something else, such as a CONNECT)."""
    for line in request.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "sec-websocket-key":
            return value.strip()
    return ""


def switching_protocols(
    key: str, extra: str = "", status: str = "HTTP/1.1 101 Switching Protocols", accept: str | None = None
) -> bytes:
    """A server's 101 answer to ``key`` (``extra``: more header lines,
    CRLF-ended; ``accept``: a wrong Sec-WebSocket-Accept on purpose)."""
    value = accept_key(key) if accept is None else accept
    return (
        f"{status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {value}\r\n{extra}\r\n"
    ).encode("latin-1")


def server_frame(opcode: int, payload=b"", *, fin: bool = True, **bits) -> bytes:
    """An unmasked frame, as a server sends."""
    return encode_frame(opcode, payload, False, fin=fin, **bits)


class RawPeer:
    """A one-connection scripted server.

    ``script(peer)`` runs in a thread once a client connected and its
    request head was read; it uses :meth:`accept`, :meth:`send` and
    :meth:`recv_frame`.  Exceptions in the script are re-raised by
    :meth:`join` (called on exit of the ``with`` block).
    """

    def __init__(
        self,
        script: Callable[[RawPeer], None],
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(1)
        self.listener.settimeout(T)
        self.port = self.listener.getsockname()[1]
        self.url = f"{'wss' if ssl_context else 'ws'}://{host}:{self.port}/"
        self.ssl_context = ssl_context
        self.script = script
        self.conn: socket.socket | None = None
        self.request = b""
        self.key = ""
        self.error: BaseException | None = None
        self.received = bytearray()  # what recv_frame consumed from the client
        self._buf = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RawPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.join()

    def join(self) -> None:
        self.thread.join(3 * T)
        assert not self.thread.is_alive(), "scripted peer did not finish"
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            self.conn, _ = self.listener.accept()
            self.conn.settimeout(T)
            if self.ssl_context is not None:
                self.conn = self.ssl_context.wrap_socket(self.conn, server_side=True)
            while b"\r\n\r\n" not in self._buf:
                chunk = self.conn.recv(4096)
                if not chunk:
                    return
                self._buf += chunk
            end = self._buf.index(b"\r\n\r\n") + 4
            self.request, self._buf = bytes(self._buf[:end]), self._buf[end:]
            self.key = request_key(self.request)
            self.script(self)
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc
        finally:
            if self.conn is not None:
                self.conn.close()
            self.listener.close()

    def accept(self, extra: str = "", accept: str | None = None) -> None:
        """Send a 101 response (``extra``: more header lines, CRLF-ended)."""
        self.send(switching_protocols(self.key, extra, accept=accept))

    def send(self, data) -> None:
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.conn.sendall(data)

    def recv_frame(self) -> dict:
        """Read one (masked) client frame; {} on EOF."""
        from websocket import IncompleteFrame, decode_frame

        while True:
            try:
                frame = decode_frame(self._buf)
            except IncompleteFrame as exc:
                # A big frame in big reads (64 KiB at a time, a 48 MiB frame
                # took the peer 12 s).
                chunk = self.conn.recv(min(max(exc.needed - len(self._buf), 65536), 1 << 22))
                if not chunk:
                    return {}
                self._buf += chunk
                continue
            self.received += self._buf[: frame["size"]]
            del self._buf[: frame["size"]]
            return frame

    def recv_until_eof(self) -> bytes:
        """Read until the client closes TCP; returns what arrived."""
        data = bytearray(self._buf)
        self._buf.clear()
        while True:
            chunk = self.conn.recv(65536)
            if not chunk:
                return bytes(data)
            data += chunk


def frames_until_eof(peer: RawPeer, answer_close: bool = True) -> list[dict]:
    """Every frame the client sends until it closes TCP; a close frame is
    answered with the same code, as a server does (unless told not to)."""
    frames = []
    while (frame := peer.recv_frame()) != {}:
        frames.append(frame)
        if frame["opcode"] == 8 and answer_close:
            try:
                peer.send(server_frame(8, frame["payload"][:2]))
            except OSError:
                pass  # the client already closed TCP
    return frames


def mixed_batch() -> list:
    """Mixed messages for send_many(): enough small ones to fill several
    write buffers, every kind of payload, and big ones between them."""
    small = [i.to_bytes(4, "little") * 16 for i in range(20_000)]  # 64 B each, 1.3 MB
    return (
        small[:10_000]
        + ["text é", bytearray(b"ba"), memoryview(b"xmvx")[1:3], b"", os.urandom(300_000)]
        + small[10_000:]
        + [os.urandom(1 << 20)]
    )


def as_received(messages: list) -> list:
    """The data receive() returns for each message sent: str or bytes."""
    return [m if isinstance(m, (str, bytes)) else bytes(m) for m in messages]


@contextlib.contextmanager
def aiohttp_server(ssl_context: ssl.SSLContext | None = None, compress: bool = False):
    """Run an aiohttp server whose /echo echoes every message (with
    ``compress``, accepting permessage-deflate); yields its base URL.  Its
    event loop runs in a thread and stops with the block."""
    import asyncio

    from aiohttp import WSMsgType, web

    async def echo(request):
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True, compress=compress)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app)
    loop = asyncio.new_event_loop()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.SockSite(runner, listener, ssl_context=ssl_context)
        loop.run_until_complete(site.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(T), "aiohttp server did not start"
    scheme = "wss" if ssl_context else "ws"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(T)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(T)
        loop.close()
