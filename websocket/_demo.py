"""A tiny WebSocket server for ``python -m websocket`` and the README's examples.

It serves loopback only and is built from the package's own pieces (the
handshake helpers and the codec, in its server role: masked frames in,
unmasked frames out).  Not a production server.

Paths:
    /chat (or any other)  echo every text and binary message
    /feed                 echo, and close with 1000 "feed done" after the
                          second message
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from ._codec import parser, speedups
from ._frames import Opcode, encode_close_frame
from ._handshake import accept_key, parse_response_head

__all__ = ["DemoServer", "server_handshake", "opcode_and_data", "run_demo"]

FrameEncoder = speedups.FrameEncoder
FrameParser = parser.FrameParser

_OPCODES = {
    "text": Opcode.TEXT,
    "binary": Opcode.BINARY,
    "close": Opcode.CLOSE,
    "ping": Opcode.PING,
    "pong": Opcode.PONG,
}


def opcode_and_data(msg: dict[str, Any]) -> tuple[int, Any]:
    """(opcode, data) of a message from ``FrameParser.next_message()``."""
    return _OPCODES[msg["type"]], msg["data"]


def server_handshake(
    conn: socket.socket, extension: Callable[[str], str | None] | None = None
) -> tuple[str, bytes]:
    """Read a client's upgrade request and accept it (RFC 6455 §4.2.2).

    ``extension(path)``: the Sec-WebSocket-Extensions answer to send for
    that request target when the client offered permessage-deflate (the
    benchmark servers' compressed paths), or None for none.

    Returns the request target and the bytes received after the request.
    Raises ValueError for a request that is not a WebSocket upgrade.
    """
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk or len(head) > 65536:
            raise ValueError("no complete upgrade request")
        head += chunk
    head, rest = head.split(b"\r\n\r\n", 1)
    # A request head parses like a response head but for line one.
    request_line, _, fields = head.partition(b"\r\n")
    _, _, headers, _ = parse_response_head(b"HTTP/1.1 200 OK\r\n" + fields)
    key = headers.get("sec-websocket-key")
    if key is None:
        raise ValueError("no Sec-WebSocket-Key")
    path = request_line.split(b" ")[1].decode("ascii", "replace")
    answer = b""
    chosen = extension(path) if extension is not None else None
    if chosen and "permessage-deflate" in headers.get("sec-websocket-extensions", ""):
        answer = b"Sec-WebSocket-Extensions: " + chosen.encode("ascii") + b"\r\n"
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
        + accept_key(key).encode("ascii")
        + b"\r\n"
        + answer
        + b"\r\n"
    )
    return path, rest


class DemoServer:
    """Serves connections in threads until :meth:`stop` (or ``with`` exit)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"ws://{host}:{self.port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> DemoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            path, rest = server_handshake(conn)
            self._echo(conn, rest, path.split("?")[0])
        except (OSError, ValueError, UnicodeError):
            pass
        finally:
            conn.close()

    def _echo(self, conn: socket.socket, rest: bytes, path: str) -> None:
        parser = FrameParser(None, mask_allowed=True)
        encoder = FrameEncoder(mask=False)
        parser.feed(rest)
        echoed = 0
        while True:
            msg = parser.next_message()
            if msg is None:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                parser.feed(chunk)
                continue
            opcode, data = opcode_and_data(msg)
            if opcode == Opcode.CLOSE:
                conn.sendall(bytes(encoder.encode(Opcode.CLOSE, data[:2])))
                return
            if opcode == Opcode.PING:
                conn.sendall(bytes(encoder.encode(Opcode.PONG, data)))
            elif opcode in (Opcode.TEXT, Opcode.BINARY):
                conn.sendall(bytes(encoder.encode(opcode, data)))
                echoed += 1
                if path == "/feed" and echoed == 2:
                    payload = encode_close_frame(1000, "feed done")
                    conn.sendall(bytes(encoder.encode(Opcode.CLOSE, payload)))


def run_demo() -> None:
    """``python -m websocket --demo``: the seed interface's common patterns
    against a DemoServer on 127.0.0.1 (connect, text and binary, ping, a
    receive loop until the server closes, close; then the handshake helpers
    on their own)."""
    from . import (
        WsClient,
        __version__,
        build_handshake_request,
        generate_key,
        implementation,
        parse_url,
        validate_handshake_response,
    )
    print(f"websocket-fast {__version__} ({implementation} codec)")
    with DemoServer() as server:
        print(f"demo server listening on {server.url}\n")

        # Connect, exchange a few messages, then close cleanly.
        ws = WsClient(f"{server.url}/chat")
        print(f"connected: ready_state() = {ws.ready_state()!r}")
        ws.send("hello")
        reply = ws.receive()
        print(f"server says: {reply['data']!s}")
        ws.send_binary([0x01, 0x02, 0x03])
        msg = ws.receive()
        print(f"binary payload of {len(msg['data'])} bytes: {msg['data']!r}")
        ws.ping(b"are you there?")
        resp = ws.receive()
        print(f"pong type: {resp['type']}, data: {resp['data']!r}")
        ws.close()
        print(f"after close(): ready_state() = {ws.ready_state()!r}\n")

        # Drive a receive loop until the server sends a close frame.
        ws = WsClient(f"{server.url}/feed")
        ws.send("first")
        ws.send("second")
        while ws.ready_state() == "open":
            msg = ws.receive()
            if msg["type"] == "close":
                print(f"closed: {msg['reason']} (code {msg['code']})")
                break
            print(f"got {msg['type']}: {msg['data']!s}")
        print(f"ready_state() = {ws.ready_state()!r}\n")

    # Build the raw handshake yourself with the protocol helpers.
    parts = parse_url("wss://example.com/chat")
    key = generate_key()
    request = build_handshake_request(parts["host"], parts["path"], key)
    print("handshake request for wss://example.com/chat:")
    print("  " + request.strip().replace("\r\n", "\n  "))
    http_response = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    )
    if validate_handshake_response(http_response, key):
        print("upgrade accepted")
