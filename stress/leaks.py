"""Leak check: many messages and many connections, with memory and file
descriptors measured as they go (the robustness issue; stress/README.md).

    python stress/leaks.py                                  # the long run: 10 M + 10 M messages, 10,000 connections
    python stress/leaks.py --messages 200000 --connections 800   # the short run of .ci/run

The servers run in a child process (this script with ``--serve``), so the
numbers are the client's own.  Phases, each measured at every tenth of
its work (after ``gc.collect()``): resident memory (RSS), open file
descriptors, threads, and the memory Python allocated (tracemalloc, on
from the start):

- ``receive``: the server sends N 64-byte binary messages; ``receive()``
  returns each (every 1000th checked byte for byte).
- ``receive_into``: N/10 more into one buffer.
- ``send``: N 64-byte messages with ``send()``; the server counts the bytes
  and reports the count, which must be exact.
- ``send_many``: N/10 more in batches of 100.
- ``connections``: M connections, taking in turn each way a connection
  ends: a close after a message each way, plain, TLS and compressed; a TCP
  drop; a refused handshake (403); a handshake that times out; a
  keepalive connection; over plain TCP and TLS.

Memory is flat when, from the first tenth to the end of each phase, RSS
grows by less than ``--rss-slack`` MiB, tracemalloc's count by less than
``--traced-slack`` KiB, and descriptors and threads not at all.  A leak of
one object per message or per connection passes none of these.  The exit
status is 1 when a phase is not flat or a connection ended in anything but
its expected way.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.parse
import zlib
from collections.abc import Callable

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SIZE = 64
PAYLOAD = bytes(range(SIZE))


# -- the servers (child process) ---------------------------------------------------


def server_frame(opcode: int, payload: bytes, rsv1: bool = False) -> bytes:
    n = len(payload)
    first = 0x80 | opcode | (0x40 if rsv1 else 0)
    if n < 126:
        return bytes([first, n]) + payload
    if n < 65536:
        return bytes([first, 126]) + struct.pack("!H", n) + payload
    return bytes([first, 127]) + struct.pack("!Q", n) + payload


class Conn:
    """A server connection with a read buffer."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def fill(self) -> bool:
        chunk = self.sock.recv(1 << 20)
        self.buf += chunk
        return bool(chunk)

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise EOFError(f"EOF after {len(self.buf)} of {n} bytes")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def skip(self, n: int) -> None:
        """Read and drop ``n`` bytes without keeping them."""
        take = min(n, len(self.buf))
        del self.buf[:take]
        n -= take
        scratch = bytearray(1 << 20)
        while n:
            got = self.sock.recv_into(scratch, min(n, len(scratch)))
            if not got:
                raise EOFError(f"EOF with {n} bytes still to come")
            n -= got

    def frame(self) -> tuple[int, bytes]:
        """One masked client frame: (opcode, unmasked payload)."""
        b0, b1 = self.exactly(2)
        if not b1 & 0x80:
            raise ValueError("unmasked client frame")
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self.exactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self.exactly(8))
        mask = self.exactly(4)
        data = self.exactly(n)
        return b0 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def until_close(self) -> None:
        """Read frames up to the client's close frame, answer it, wait for EOF."""
        while True:
            opcode, payload = self.frame()
            if opcode == 8:
                self.sock.sendall(server_frame(8, payload[:2]))
                break
        while self.fill():
            pass


def client_frame_size(size: int) -> int:
    return (2 if size < 126 else 4 if size < 65536 else 10) + 4 + size


def deflated(payload: bytes) -> bytes:
    z = zlib.compressobj(wbits=-15)
    data = z.compress(payload) + z.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]  # RFC 7692 §7.2.1: drop the empty block's tail


def handle(sock: socket.socket, tls: ssl.SSLContext | None) -> None:
    try:
        sock.settimeout(60)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_side=True)
        conn = Conn(sock)
        while b"\r\n\r\n" not in conn.buf:
            if not conn.fill():
                return
        end = conn.buf.index(b"\r\n\r\n") + 4
        head = bytes(conn.buf[:end]).decode("latin-1")
        del conn.buf[:end]
        target = head.split(" ", 2)[1]
        url = urllib.parse.urlsplit(target)
        query = dict(urllib.parse.parse_qsl(url.query))
        fields = {}
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if url.path == "/stall":  # never answers: the client times out
            while conn.fill():
                pass
            return
        if url.path == "/reject":
            sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope")
            return
        accept = base64.b64encode(hashlib.sha1(fields["sec-websocket-key"].encode() + GUID).digest())
        deflate = "permessage-deflate" in fields.get("sec-websocket-extensions", "")
        extra = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else ""
        sock.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept.decode()}\r\n{extra}\r\n".encode()
        )
        if url.path == "/drop":  # one message, then FIN without a close frame
            sock.sendall(server_frame(2, PAYLOAD))
            return
        if url.path == "/one":  # one message each way, then the close handshake
            if deflate:
                sock.sendall(server_frame(2, deflated(PAYLOAD * 16), rsv1=True))
            else:
                sock.sendall(server_frame(2, PAYLOAD))
            conn.until_close()
            return
        n = int(query["n"])
        if url.path == "/flood":
            block = server_frame(2, PAYLOAD) * 1000
            for _ in range(n // 1000):
                sock.sendall(block)
            sock.sendall(server_frame(2, PAYLOAD) * (n % 1000))
            conn.until_close()
        elif url.path == "/sink":
            # The client's frames are all the same size: count them by bytes.
            conn.skip(n * client_frame_size(SIZE))
            sock.sendall(server_frame(1, str(n).encode()))
            conn.until_close()
    except (OSError, EOFError, ValueError):
        pass  # a drop or a timeout the client chose; the client side checks
    finally:
        sock.close()


def serve(listener: socket.socket, tls: ssl.SSLContext | None) -> None:
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=handle, args=(sock, tls), daemon=True).start()


def run_servers(ca_path: str) -> None:
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(ca_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    ports = []
    for context in (None, tls):
        listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        ports.append(listener.getsockname()[1])
        threading.Thread(target=serve, args=(listener, context), daemon=True).start()
    print(*ports, flush=True)
    sys.stdin.read()  # until the parent ends


# -- the client (this process) ------------------------------------------------------


def _malloc_trim() -> Callable[[], object]:
    """glibc's malloc_trim(0): hands freed heap pages back, so that RSS
    follows live memory rather than the allocator's high-water mark."""
    try:
        import ctypes

        trim = ctypes.CDLL("libc.so.6").malloc_trim
        return lambda: trim(0)
    except (OSError, AttributeError):
        return lambda: None


trim_heap = _malloc_trim()


def sample() -> dict[str, int]:
    gc.collect()
    trim_heap()
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return {
        "rss": rss,
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": threading.active_count(),
        # This script's own allocations (these samples) are left out.
        "traced": sum(
            stat.size
            for stat in tracemalloc.take_snapshot()
            .filter_traces([tracemalloc.Filter(False, __file__)])
            .statistics("filename")
        ),
    }


class Phase:
    """A phase's samples at every tenth of its work."""

    def __init__(self, name: str, total: int) -> None:
        self.name, self.total = name, total
        self.every = max(1, total // 10)
        self.samples: list[dict[str, int]] = []
        self.start = self.end = time.monotonic()

    def step(self, done: int, held: int = 0) -> None:
        """``held``: bytes of a buffer that grows to a bound by design (a
        connection's receive buffer grows while reads keep filling it),
        left out of the traced total."""
        if done % self.every == 0:
            self.end = time.monotonic()
            now = sample()
            now["traced"] -= held
            self.samples.append(now)

    def report(self, slack_rss: int, slack_traced: int) -> tuple[dict, list[str]]:
        """Growth from the first tenth to the end.  RSS moves with the
        allocator's fragmentation (TLS and zlib buffers come and go), so
        its test is the peak of the second half against the peak of the
        first: a leak raises every later sample, noise does not."""
        first, last = self.samples[0], self.samples[-1]
        half = (len(self.samples) + 1) // 2
        rss_growth = max(s["rss"] for s in self.samples[half:] or self.samples) - max(
            s["rss"] for s in self.samples[:half]
        )
        growth = {k: last[k] - first[k] for k in first}
        problems = []
        if rss_growth > slack_rss:
            problems.append(f"RSS grew by {rss_growth / 2**20:.2f} MiB")
        if growth["traced"] > slack_traced:
            problems.append(f"tracemalloc grew by {growth['traced'] / 1024:.1f} KiB")
        if growth["fds"] or growth["threads"]:
            problems.append(f"fds {first['fds']} -> {last['fds']}, threads {first['threads']} -> {last['threads']}")
        row = {
            "phase": self.name,
            "count": self.total,
            "seconds": round(self.end - self.start, 1),
            "rss_mib": [round(s["rss"] / 2**20, 2) for s in (first, last)],
            "traced_kib": [round(s["traced"] / 1024, 1) for s in (first, last)],
            "fds": [first["fds"], last["fds"]],
            "threads": [first["threads"], last["threads"]],
            "rss_series_mib": [round(s["rss"] / 2**20, 2) for s in self.samples],
            "traced_series_kib": [round(s["traced"] / 1024, 1) for s in self.samples],
        }
        return row, problems


def expect(kind: str, call: Callable[[], object], errors: type | tuple[type, ...]) -> None:
    try:
        call()
    except errors:
        return
    raise AssertionError(f"{kind}: ended without the expected {errors}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000_000, help="sent and received, each")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--rss-slack", type=float, default=4.0, help="MiB")
    parser.add_argument("--traced-slack", type=float, default=8.0, help="KiB")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        run_servers(args.serve)
        return 0

    import websocket
    from websocket import ConnectionClosed, HandshakeError, WebSocketTimeout, WsClient

    tmp = tempfile.mkdtemp()
    ca_path = os.path.join(tmp, "ca.pem")
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", ca_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        plain_port, tls_port = map(int, server.stdout.readline().split())  # type: ignore[union-attr]
        tls = ssl.create_default_context(cafile=ca_path)
        plain, secure = f"ws://127.0.0.1:{plain_port}", f"wss://127.0.0.1:{tls_port}"
        tracemalloc.start()
        phases: list[Phase] = []
        rows: list[dict] = []

        def show(phase: Phase) -> None:
            """Print a finished phase's row (as it ends: the long run's
            phases take minutes each)."""
            if not rows:
                print(f"{'phase':<13}{'count':>12}{'s':>8}  {'RSS MiB':>15}  {'traced KiB':>17}  {'fds':>7}  {'threads':>7}")
            row, problems = phase.report(int(args.rss_slack * 2**20), int(args.traced_slack * 1024))
            rows.append(row | {"problems": problems})
            print(f"{row['phase']:<13}{row['count']:>12,}{row['seconds']:>8}  "
                  f"{row['rss_mib'][0]:>7}->{row['rss_mib'][1]:<7} {row['traced_kib'][0]:>8}->{row['traced_kib'][1]:<8} "
                  f"{row['fds'][0]:>3}->{row['fds'][1]:<3} {row['threads'][0]:>3}->{row['threads'][1]:<3}"
                  + ("  NOT FLAT: " + "; ".join(problems) if problems else ""), flush=True)

        n = args.messages
        print(f"websocket {websocket.__version__} ({websocket.implementation}): "
              f"{n:,} messages each way, {args.connections:,} connections", flush=True)

        phase = Phase("receive", n)
        phases.append(phase)
        with WsClient(f"{plain}/flood?n={n}", timeout=60) as ws:
            receive = ws.receive
            parser = ws._parser
            for i in range(1, n + 1):
                msg = receive()
                if i % 1000 == 0 and msg["data"] != PAYLOAD:
                    raise AssertionError(f"message {i} is {msg!r}")
                phase.step(i, parser.buffer_size)

        m = max(1, n // 10)
        show(phase)
        phase = Phase("receive_into", m)
        phases.append(phase)
        buffer = bytearray(SIZE)
        with WsClient(f"{plain}/flood?n={m}", timeout=60) as ws:
            for i in range(1, m + 1):
                size, _ = ws.receive_into(buffer)
                if i % 1000 == 0 and buffer[:size] != PAYLOAD:
                    raise AssertionError(f"message {i} is {bytes(buffer[:size])!r}")
                phase.step(i, ws._parser.buffer_size)

        show(phase)
        phase = Phase("send", n)
        phases.append(phase)
        with WsClient(f"{plain}/sink?n={n}", timeout=60) as ws:
            send = ws.send
            for i in range(1, n + 1):
                send(PAYLOAD)
                phase.step(i)
            if (count := ws.receive()["data"]) != str(n):
                raise AssertionError(f"the server counted {count} messages, not {n}")

        show(phase)
        phase = Phase("send_many", m // 100 * 100)
        phases.append(phase)
        batch = [PAYLOAD] * 100
        with WsClient(f"{plain}/sink?n={phase.total}", timeout=60) as ws:
            for i in range(1, phase.total // 100 + 1):
                ws.send_many(batch)
                phase.step(i * 100)
            if (count := ws.receive()["data"]) != str(phase.total):
                raise AssertionError(f"the server counted {count} messages, not {phase.total}")

        show(phase)

        def context(base: str) -> ssl.SSLContext | None:
            return tls if base.startswith("wss:") else None

        def normal(base: str, **options: object) -> Callable[[], None]:
            def run() -> None:
                with WsClient(f"{base}/one", timeout=10, ssl_context=context(base), **options) as ws:
                    msg = ws.receive()
                    if msg["type"] != "binary":
                        raise AssertionError(msg)
                    ws.send(PAYLOAD)
            return run

        def drop(base: str) -> Callable[[], None]:
            def run() -> None:
                ws = WsClient(f"{base}/drop", timeout=10, ssl_context=context(base))
                ws.receive()
                expect("drop", ws.receive, ConnectionClosed)
            return run

        def refused(base: str) -> Callable[[], None]:
            return lambda: expect("403", lambda: WsClient(f"{base}/reject", timeout=10, ssl_context=context(base)),
                                  HandshakeError)

        def timed_out(base: str) -> Callable[[], None]:
            return lambda: expect("stall", lambda: WsClient(f"{base}/stall", timeout=0.02, ssl_context=context(base)),
                                  WebSocketTimeout)

        kinds = [
            normal(plain), normal(secure), normal(plain, compression="deflate"),
            normal(secure, compression="deflate"), normal(plain, ping_interval=30),
            drop(plain), drop(secure), refused(plain), refused(secure),
            timed_out(plain), timed_out(secure),
        ]
        phase = Phase("connections", args.connections)
        phases.append(phase)
        for i in range(1, args.connections + 1):
            kinds[i % len(kinds)]()
            phase.step(i)
        show(phase)

        failed = any(row["problems"] for row in rows)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"implementation": websocket.implementation, "phases": rows}, f, indent=1)
        return 1 if failed else 0
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
