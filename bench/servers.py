"""Benchmark servers on 127.0.0.1, built on this package's compiled codec.

    python bench/servers.py [--port 0]      prints "ready PORT", serves until killed

One connection at a time (the benchmark is sequential); the request path says
what to do:

    /echo                   echo every data message (round trips)
    /send?size=S&count=N    after the client's "go", stream N binary messages
                            of S bytes with sendfile() from frames pre-built
                            in a file in RAM (receive tests)
    /recv?size=S&count=N    drain and check N binary messages of S bytes, then
                            answer "ok N" (send tests)
    /prepare?size=S&count=N build the stream file of /send (before timing)
    /cleanup                delete the stream files

Message i of a workload is S bytes: i as a little-endian u64, then 0xAB
filler (tests/clients check every index and the last byte).  The server
must never be the bottleneck: bench/run.py reports its CPU time next to the
client's wall time.
"""

from __future__ import annotations

import argparse
import glob
import os
import socket
import struct
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from websocket import implementation  # noqa: E402
from websocket._codec import FrameEncoder, FrameParser, encode_frame  # noqa: E402
from websocket._demo import opcode_and_data, server_handshake  # noqa: E402

FILL = 0xAB
BLOCK = 1 << 20  # frames are written to the stream file in blocks of this size
STREAM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


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


def echo(conn: socket.socket, parser: FrameParser) -> None:
    encoder = FrameEncoder(mask=False)
    while True:
        opcode, data = next_message(conn, parser)
        if opcode == 8:
            close_reply(conn, data)
            return
        if opcode == 9:
            conn.sendall(encode_frame(10, data, False))
        elif opcode in (1, 2):
            conn.sendall(encoder.encode(opcode, data))


def stream_file(size: int, count: int) -> str:
    """The frames of a receive workload, pre-built once in a file in RAM.

    sendfile() from it moves the bytes without a user-space copy, so the
    server spends far less CPU than the client that has to receive them."""
    path = os.path.join(STREAM_DIR, f"websocket-bench-{size}x{count}.frames")
    if os.path.exists(path):
        return path
    frame = bytearray(encode_frame(2, bytes([FILL]) * size, False))
    hlen = len(frame) - size
    per_block = max(1, BLOCK // len(frame))
    block = frame * per_block
    pack = struct.Struct("<Q").pack_into
    with open(path + ".tmp", "wb") as f:
        i = 0
        while i < count:
            k = min(per_block, count - i)
            for j in range(k):
                pack(block, j * len(frame) + hlen, i + j)
            f.write(memoryview(block)[: k * len(frame)])
            i += k
    os.replace(path + ".tmp", path)
    return path


def send(conn: socket.socket, parser: FrameParser, size: int, count: int) -> None:
    path = stream_file(size, count)  # before "go": not timed
    opcode, data = next_message(conn, parser)
    assert (opcode, data) == (1, "go"), (opcode, data)
    with open(path, "rb") as f:
        conn.sendfile(f)
    wait_close(conn, parser)


def recv(conn: socket.socket, parser: FrameParser, size: int, count: int) -> None:
    unpack = struct.Struct("<Q").unpack_from
    for i in range(count):
        opcode, data = next_message(conn, parser)
        if opcode != 2 or len(data) != size or unpack(data)[0] != i or data[-1] != FILL:
            conn.sendall(encode_frame(1, f"error at message {i}: opcode {opcode}, {len(data)} bytes", False))
            return
    conn.sendall(encode_frame(1, f"ok {count}", False))
    wait_close(conn, parser)


def serve(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            path, rest = server_handshake(conn)
            url = urllib.parse.urlsplit(path)
            query = {k: int(v) for k, v in urllib.parse.parse_qsl(url.query)}
            parser = FrameParser(None, mask_allowed=True, buffer_size=4 << 20)
            parser.feed(rest)
            if url.path == "/echo":
                echo(conn, parser)
            elif url.path == "/send":
                send(conn, parser, query["size"], query["count"])
            elif url.path == "/recv":
                recv(conn, parser, query["size"], query["count"])
            elif url.path == "/prepare":  # build a stream file before timing
                stream_file(query["size"], query["count"])
                conn.sendall(encode_frame(8, b"\x03\xe8", False))
            elif url.path == "/cleanup":  # remove the stream files
                for name in glob.glob(os.path.join(STREAM_DIR, "websocket-bench-*.frames")):
                    os.unlink(name)
                conn.sendall(encode_frame(8, b"\x03\xe8", False))
        except (OSError, ValueError, ConnectionError) as exc:
            print(f"connection ended: {exc!r}", file=sys.stderr, flush=True)
        finally:
            conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    if implementation != "cython":
        sys.exit("bench servers need the compiled codec (pip install the project)")
    listener = socket.create_server(("127.0.0.1", args.port))
    print(f"ready {listener.getsockname()[1]}", flush=True)
    serve(listener)


if __name__ == "__main__":
    main()
