"""Benchmark servers on 127.0.0.1, built on this package's compiled codec.

    python bench/servers.py [--port 0]      prints "ready PORT", serves until killed

One connection at a time (the benchmark is sequential), plain or TLS on the
same port (BENCH_CERT and BENCH_KEY: a connection that starts with a TLS
ClientHello is wrapped); the request path says what to do:

    /echo                   echo every data message (round trips)
    /send?size=S&count=N    after the client's "go", stream N binary messages
                            of S bytes from about 1 MiB of pre-built frames
                            renumbered in place (receive tests)
    /recv?size=S&count=N    drain and check N binary messages of S bytes, then
                            answer "ok N" (send tests)
    /feed?size=S&count=N&rate=R
                            after "go", N messages of S bytes paced at R per
                            second, each stamped with its send time
                            (time.monotonic_ns() at bytes 8-15): latency
    /z/echo, /z/send?...&content=json|bin, /z/recv?...&content=...
                            the same with permessage-deflate (it must be
                            offered): messages are bench/clients/common.py's
                            zpayload(); the server compresses with zlib level
                            1, and /z/send cycles through CYCLE messages
                            compressed beforehand (compressing 1 MiB per
                            message would make it the bottleneck)

Message i of a workload is S bytes: i as a little-endian u64, then 0xAB
filler (tests/clients check every index and the last byte).  The server
must never be the bottleneck: bench/run.py reports its CPU time next to the
client's wall time.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse

# The installed package, never the source tree: a fresh clone's tree has
# no compiled extension (it is built into the environment by pip install).
from websocket import encode_frame, implementation
from websocket._compression import Deflater, Inflater
from websocket._demo import FrameEncoder, FrameParser, opcode_and_data, server_handshake

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients"))
from common import CYCLE, zcheck, zpayload, zset_index  # noqa: E402

FILL = 0xAB
PIECE = 1 << 20


def close_reply(conn: socket.socket, payload: bytes) -> None:
    conn.sendall(encode_frame(8, payload[:2], False))


def wait_close(conn: socket.socket, parser: FrameParser) -> None:
    """Serve control frames until the client's close, then answer it."""
    while True:
        try:
            opcode, data = next_message(conn, parser)
        except ConnectionError:
            return
        if opcode == 8:
            close_reply(conn, data)
            return
        if opcode == 9:
            conn.sendall(encode_frame(10, data, False))


def next_message(conn: socket.socket, parser: FrameParser):
    """(opcode, data) of the next message or control frame."""
    while (msg := parser.next_message()) is None:
        n = conn.recv_into(parser.get_buffer())
        if not n:
            raise ConnectionError("client went away")
        parser.buffer_updated(n)
    return opcode_and_data(msg)


class Window:
    """The server's CPU time and wall time over one workload, from its first
    message to its last (printed as "cpu SECONDS WALL" for bench/run.py)."""

    def __init__(self) -> None:
        self.cpu0 = self.wall0 = None
        self.cpu = self.wall = 0.0

    def start(self) -> None:
        if self.cpu0 is None:
            self.cpu0, self.wall0 = time.process_time(), time.perf_counter()

    def stop(self) -> None:
        if self.cpu0 is not None:
            self.cpu = time.process_time() - self.cpu0
            self.wall = time.perf_counter() - self.wall0


def echo(conn: socket.socket, parser: FrameParser, window: Window) -> None:
    encoder = FrameEncoder(mask=False)
    while True:
        opcode, data = next_message(conn, parser)
        window.start()
        if opcode == 8:
            close_reply(conn, data)
            return
        if opcode == 9:
            conn.sendall(encode_frame(10, data, False))
        elif opcode in (1, 2):
            conn.sendall(encoder.encode(opcode, data))
            window.stop()


class Block:
    """The frames of ``per`` consecutive messages, about 1 MiB, renumbered
    in place for each next run of messages.

    Sending reads from cache this way.  The whole stream pre-built in
    memory (1 GiB for recv-1m) made the server the bottleneck: its copy
    into the kernel read from DRAM, and every client then measured the
    server (measured here: raw socket 4.3 against 5.5 GB/s for recv-1m,
    4.2 against 5.1 GB/s for recv-4k; sendfile() from a file in RAM was
    slower still).
    """

    def __init__(self, size: int) -> None:
        frame = bytearray(encode_frame(2, bytes([FILL]) * size, False))
        self.flen = len(frame)
        self.hlen = self.flen - size
        # 256 frames (index byte 0 = position) when that stays near 1 MiB.
        self.per = 256 if self.flen * 256 <= (2 << 20) else 1
        self.data = frame * self.per
        for k in range(self.per):
            self.data[k * self.flen + self.hlen] = k
        self.view = memoryview(self.data)

    def renumber(self, first: int) -> None:
        """Number the frames ``first``, ``first + 1``, ...  (``first`` is a
        multiple of ``per``): byte 0 of each index is its position, set
        once; bytes 1-7 are those of ``first >> 8``, the same in all."""
        if self.per == 1:
            struct.pack_into("<Q", self.data, self.hlen, first)
            return
        high = (first >> 8).to_bytes(7, "little")
        for j in range(7):
            self.data[self.hlen + 1 + j :: self.flen] = high[j : j + 1] * self.per


def send(conn: socket.socket, parser: FrameParser, size: int, count: int, window: Window) -> None:
    block = Block(size)
    opcode, msg = next_message(conn, parser)
    assert (opcode, msg) == (1, "go"), (opcode, msg)
    window.start()
    for first in range(0, count, block.per):
        block.renumber(first)
        n = min(block.per, count - first) * block.flen
        for offset in range(0, n, PIECE):
            conn.sendall(block.view[offset : min(n, offset + PIECE)])
    window.stop()
    wait_close(conn, parser)


def feed(conn: socket.socket, parser: FrameParser, size: int, count: int, rate: int, window: Window) -> None:
    """After "go", send ``count`` messages at ``rate`` per second, each
    stamped at bytes 8-15 with time.monotonic_ns() as it is written (the
    messages due at one moment go in one write, with one stamp)."""
    frame = bytearray(encode_frame(2, bytes([FILL]) * size, False))
    hlen = len(frame) - size
    pack = struct.Struct("<QQ").pack_into
    opcode, msg = next_message(conn, parser)
    assert (opcode, msg) == (1, "go"), (opcode, msg)
    window.start()
    start = time.monotonic()
    sent = 0
    out = bytearray()
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        if due <= sent:
            time.sleep(max(0.0, start + sent / rate - time.monotonic()))
            continue
        now = time.monotonic_ns()
        del out[:]
        for i in range(sent, due):
            pack(frame, hlen, i, now)
            out += frame
        conn.sendall(out)
        sent = due
    window.stop()
    wait_close(conn, parser)


def recv(conn: socket.socket, parser: FrameParser, size: int, count: int, window: Window) -> None:
    unpack = struct.Struct("<Q").unpack_from
    for i in range(count):
        opcode, data = next_message(conn, parser)
        window.start()
        if opcode != 2 or len(data) != size or unpack(data)[0] != i or data[-1] != FILL:
            conn.sendall(encode_frame(1, f"error at message {i}: opcode {opcode}, {len(data)} bytes", False))
            return
    conn.sendall(encode_frame(1, f"ok {count}", False))
    window.stop()
    wait_close(conn, parser)


def zecho(conn: socket.socket, parser: FrameParser, window: Window) -> None:
    encoder = FrameEncoder(mask=False)
    deflater = Deflater(1, 15, 8, False)
    while True:
        opcode, data = next_message(conn, parser)
        window.start()
        if opcode == 8:
            close_reply(conn, data)
            return
        if opcode in (1, 2):
            conn.sendall(encoder.encode(opcode, deflater.compress(data), True, True))
            window.stop()


def zsend(conn: socket.socket, parser: FrameParser, size: int, count: int, kind: str, window: Window) -> None:
    encoder = FrameEncoder(mask=False)
    template = zpayload(kind, size)
    opcode = 1 if isinstance(template, str) else 2
    frames = []
    for i in range(CYCLE):
        # Each compressed on its own: valid under context takeover too.
        message = zset_index(template if opcode == 1 else bytearray(template), i)
        frames.append(bytes(encoder.encode(opcode, Deflater(1, 15, 8, False).compress(message), True, True)))
    opcode_go, msg = next_message(conn, parser)
    assert (opcode_go, msg) == (1, "go"), (opcode_go, msg)
    window.start()
    for i in range(count):
        conn.sendall(frames[i % CYCLE])
    window.stop()
    wait_close(conn, parser)


def zrecv(conn: socket.socket, parser: FrameParser, size: int, count: int, kind: str, window: Window) -> None:
    template = zpayload(kind, size)
    for i in range(count):
        opcode, data = next_message(conn, parser)
        window.start()
        try:
            zcheck(data, i, template)
        except AssertionError as exc:
            conn.sendall(encode_frame(1, f"error at message {i}: {exc}", False))
            return
    conn.sendall(encode_frame(1, f"ok {count}", False))
    window.stop()
    wait_close(conn, parser)


def extension_for(path: str) -> str | None:
    return "permessage-deflate" if path.startswith("/z/") else None


def serve(listener: socket.socket, tls: ssl.SSLContext | None) -> None:
    while True:
        conn, _ = listener.accept()
        url = urllib.parse.urlsplit("")
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # A TLS ClientHello starts with 0x16: wss:// on the same port.
            if tls is not None and conn.recv(1, socket.MSG_PEEK) == b"\x16":
                conn = tls.wrap_socket(conn, server_side=True)
            path, rest = server_handshake(conn, extension_for)
            url = urllib.parse.urlsplit(path)
            query = dict(urllib.parse.parse_qsl(url.query))
            parser = FrameParser(None, mask_allowed=True, buffer_size=4 << 20)
            if url.path.startswith("/z/"):
                parser.set_inflater(Inflater(15, False))
            parser.feed(rest)
            window = Window()
            if url.path == "/z/echo":
                zecho(conn, parser, window)
            elif url.path == "/z/send":
                zsend(conn, parser, int(query["size"]), int(query["count"]), query["content"], window)
            elif url.path == "/z/recv":
                zrecv(conn, parser, int(query["size"]), int(query["count"]), query["content"], window)
            elif url.path == "/echo":
                echo(conn, parser, window)
            elif url.path == "/send":
                send(conn, parser, int(query["size"]), int(query["count"]), window)
            elif url.path == "/recv":
                recv(conn, parser, int(query["size"]), int(query["count"]), window)
            elif url.path == "/feed":
                feed(conn, parser, int(query["size"]), int(query["count"]), int(query["rate"]), window)
        except (OSError, ValueError, ConnectionError) as exc:
            print(f"connection ended: {exc!r}", file=sys.stderr, flush=True)
        finally:
            conn.close()
        if url.path in ("/echo", "/send", "/recv", "/feed", "/z/echo", "/z/send", "/z/recv"):
            print(f"cpu {window.cpu:.6f} {window.wall:.6f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    if implementation != "cython":
        sys.exit("bench servers need the compiled codec (pip install the project)")
    listener = socket.create_server(("127.0.0.1", args.port))
    tls = None
    if os.environ.get("BENCH_CERT"):
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(os.environ["BENCH_CERT"], os.environ["BENCH_KEY"])
    print(f"ready {listener.getsockname()[1]}", flush=True)
    serve(listener, tls)


if __name__ == "__main__":
    main()
