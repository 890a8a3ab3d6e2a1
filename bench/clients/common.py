"""Shared by every benchmark client: workloads, payloads, checks, timing.

Each client (bench/clients/peer_<name>.py, named so that none shadows its
peer's package) runs in its peer's own virtual
environment and imports only this module and its peer, so that
websocket-client (import name ``websocket``) never meets our package.

    python bench/clients/peer_<name>.py --url ws://127.0.0.1:PORT --workload NAME [--scale F]

prints one JSON line: seconds (from after the connection is open to the last
message checked or acknowledged), count, size, and the peak RSS growth above
the connected, idle process.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import resource
import socket
import struct
import sys
import time

#: name: (kind, message size in bytes, message count)
WORKLOADS = {
    "rtt-64": ("rtt", 64, 20_000),
    "rtt-16k": ("rtt", 16 * 1024, 5_000),
    "recv-1m": ("recv", 1 << 20, 1024),  # 1 GiB
    "recv-4k": ("recv", 4096, 65_536),  # 256 MiB
    "send-1m": ("send", 1 << 20, 1024),  # 1 GiB
    "send-64": ("send", 64, 1_000_000),
    # A market-data-like feed: 1 KiB binary messages paced at FEED_RATE per
    # second by the server, which stamps each with its send time; clients
    # receive it as a recv workload, and report latency percentiles.
    "feed-1k": ("feed", 1024, 100_000),
    # The same over TLS (wss://, how feeds are delivered): the server's
    # certificate is bench/run.py's, trusted through BENCH_CA.
    "tls-rtt-64": ("rtt", 64, 20_000),
    "tls-recv-4k": ("recv", 4096, 65_536),
    "tls-recv-1m": ("recv", 1 << 20, 1024),
    # permessage-deflate (RFC 7692) on both ends: JSON-like text, or random
    # binary that does not compress; "z" workloads run on /z/ server paths.
    "z-rtt-json-1k": ("rtt", 1024, 10_000),
    "z-rtt-bin-1k": ("rtt", 1024, 10_000),
    "z-rtt-json-1m": ("rtt", 1 << 20, 100),
    "z-rtt-bin-1m": ("rtt", 1 << 20, 100),
    "z-recv-json-1k": ("recv", 1024, 20_000),
    "z-recv-bin-1k": ("recv", 1024, 20_000),
    "z-send-json-1k": ("send", 1024, 20_000),
    "z-send-bin-1k": ("send", 1024, 20_000),
    "z-recv-json-1m": ("recv", 1 << 20, 200),
    "z-recv-bin-1m": ("recv", 1 << 20, 200),
    "z-send-json-1m": ("send", 1 << 20, 200),
    "z-send-bin-1m": ("send", 1 << 20, 200),
}
#: Messages per second of the feed workloads (51 MB/s at 1 KiB): below
#: every peer's receive rate, so latency shows per-message cost and wake-ups
#: rather than a backlog.
FEED_RATE = 50_000
#: The pre-compressed messages a /z/send stream cycles through: message i
#: carries index i % CYCLE (the server cannot compress 1 MiB fast enough
#: for every client to be measured rather than it).
CYCLE = 16


def compressed(workload: str) -> bool:
    return workload.startswith("z-")


def tls(workload: str) -> bool:
    return workload.startswith("tls-")


def tls_context(url: str):
    """For wss:// URLs, an SSLContext trusting the bench server's
    certificate (BENCH_CA); None for ws://."""
    if not url.startswith("wss://"):
        return None
    import ssl

    return ssl.create_default_context(cafile=os.environ["BENCH_CA"])


def content(workload: str) -> str:
    """"json" or "bin" for a compressed workload, else "fill"."""
    return workload.split("-")[2] if compressed(workload) else "fill"


def zpayload(kind: str, size: int):
    """A compressed workload's message: str of JSON-like records (about
    5x smaller deflated) or bytearray of random bytes; index at offset 0
    (20 digits in text, u64 LE in binary), filled in by zset_index()."""
    import random

    rng = random.Random(size)
    if kind == "bin":
        return bytearray(rng.randbytes(size))
    records = []
    total = 20
    while total < size:
        rec = (f'{{"t":{1_700_000_000 + rng.random() * 1e5:.3f},"sym":"{rng.choice(["ABC", "XYZ", "QQQ"])}",'
               f'"px":{rng.uniform(90, 110):.2f},"qty":{rng.randint(1, 500)},"side":"{rng.choice(["buy", "sell"])}"}},')
        records.append(rec)
        total += len(rec)
    return ("0" * 20 + "".join(records))[:size]


def zset_index(message, i: int):
    """The message with index i (a new str for text, in place for binary)."""
    if isinstance(message, str):
        return f"{i:020d}" + message[20:]
    _INDEX.pack_into(message, 0, i)
    return message


def zcheck(data, i: int, template) -> None:
    """Compressed message i must be the template with index i."""
    if isinstance(template, str):
        ok = isinstance(data, str) and len(data) == len(template) and data[:20] == f"{i:020d}" and data[-50:] == template[-50:]
    else:
        ok = len(data) == len(template) and _INDEX.unpack_from(data)[0] == i and data[-50:] == template[-50:]
    if not ok:
        raise AssertionError(f"compressed message {i}: {type(data).__name__} of {len(data)}")
FILL = 0xAB
_INDEX = struct.Struct("<Q")


def payload(size: int) -> bytearray:
    """A reusable message buffer: index (u64 LE) then 0xAB filler."""
    return bytearray([FILL]) * size


def set_index(buf: bytearray, i: int) -> None:
    _INDEX.pack_into(buf, 0, i)


def check(data, i: int, size: int) -> None:
    """Message i must be whole, in order, and unaltered at both ends."""
    if len(data) != size or _INDEX.unpack_from(data)[0] != i or data[-1] != FILL:
        raise AssertionError(f"message {i}: {len(data)} bytes, index {_INDEX.unpack_from(data)[0] if len(data) >= 8 else None}")


def check_into(buf: bytearray, n: int, i: int, size: int) -> None:
    """check() for a message received into ``buf[:n]`` (no slice made)."""
    if n != size or _INDEX.unpack_from(buf)[0] != i or buf[n - 1] != FILL:
        raise AssertionError(f"message {i}: {n} bytes, index {_INDEX.unpack_from(buf)[0] if n >= 8 else None}")


#: Feed latencies in ns (send stamp at bytes 8-15 to arrival), when the
#: workload is a feed.
LATENCIES: list[int] = []
_STAMP = struct.Struct("<Q")


def _feed_check(data, i: int, size: int) -> None:
    LATENCIES.append(time.monotonic_ns() - _STAMP.unpack_from(data, 8)[0])
    _plain_check(data, i, size)


def _feed_check_into(buf: bytearray, n: int, i: int, size: int) -> None:
    LATENCIES.append(time.monotonic_ns() - _STAMP.unpack_from(buf, 8)[0])
    _plain_check_into(buf, n, i, size)


def _workload_from_argv() -> str:
    args = sys.argv
    return args[args.index("--workload") + 1] if "--workload" in args[:-1] else ""


#: This client runs a feed workload (a recv whose latency is measured).
FEED = WORKLOADS.get(_workload_from_argv(), ("",))[0] == "feed"
# Chosen when a client imports this module (its --workload is known), so
# that every other workload's check() costs not one instruction more.
if FEED:
    _plain_check, _plain_check_into = check, check_into
    check, check_into = _feed_check, _feed_check_into  # type: ignore[assignment]


def check_ack(data, count: int) -> None:
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data).decode()
    if data != f"ok {count}":
        raise AssertionError(f"server says {data!r}")


def run_sync(send, recv, send_text, kind, size, count, clock, convert=None) -> None:
    """The workload loop of a blocking client, given its own calls:
    ``send(payload)`` binary, ``recv()`` returning the payload,
    ``send_text(str)``; ``convert`` turns the reused bytearray into what
    ``send`` accepts (websocket-rs takes bytes only)."""
    buf = payload(size)
    if kind == "rtt":
        clock.start()
        for i in range(count):
            set_index(buf, i)
            send(convert(buf) if convert else buf)
            check(recv(), i, size)
    elif kind == "recv":
        clock.start()
        send_text("go")
        for i in range(count):
            check(recv(), i, size)
    else:
        clock.start()
        for i in range(count):
            set_index(buf, i)
            send(convert(buf) if convert else buf)
        check_ack(recv(), count)
    clock.stop()


def url_for(base: str, kind: str, size: int, count: int, workload: str = "") -> str:
    if compressed(workload):
        base = f"{base}/z"
    what = f"&content={content(workload)}" if compressed(workload) else ""
    if kind == "rtt":
        return f"{base}/echo"
    if kind == "recv":
        return f"{base}/send?size={size}&count={count}{what}"
    if kind == "feed":
        return f"{base}/feed?size={size}&count={count}&rate={FEED_RATE}"
    return f"{base}/recv?size={size}&count={count}{what}"


def run_compressed(send, recv, workload: str, size: int, count: int, clock) -> None:
    """The loop of a compressed workload, for any client: ``send(message)``
    (str as text), ``recv()`` returning the data (str or bytes)."""
    kind = WORKLOADS[workload][0]
    template = zpayload(content(workload), size)
    message = template if isinstance(template, str) else bytearray(template)
    clock.start()
    if kind == "rtt":
        for i in range(count):
            message = zset_index(message, i)
            send(message)
            zcheck(recv(), i, template)
    elif kind == "recv":
        send("go")
        for i in range(count):
            zcheck(recv(), i % CYCLE, template)
    else:
        for i in range(count):
            message = zset_index(message, i)
            send(message)
        check_ack(recv(), count)
    clock.stop()


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Clock:
    """start() once the connection is open; stop() when the work is checked."""

    def __init__(self) -> None:
        self.t0 = self.t1 = 0.0
        self.cpu0 = self.cpu1 = 0.0
        self.idle_rss = 0

    def start(self) -> None:
        self.idle_rss = maxrss_bytes()
        self.cpu0 = time.process_time()  # every thread of the client
        self.t0 = time.perf_counter()

    def stop(self) -> None:
        self.t1 = time.perf_counter()
        self.cpu1 = time.process_time()


def main(run, peer: str) -> None:
    """Parse arguments, run ``run(kind, url, size, count, clock)``, report."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    kind, size, count = WORKLOADS[args.workload]
    count = max(2, int(count * args.scale))
    clock = Clock()
    if tls(args.workload):
        args.url = args.url.replace("ws://", "wss://", 1)
    if compressed(args.workload):
        run(args.workload, url_for(args.url, kind, size, count, args.workload), size, count, clock)
    else:
        # A feed is received as any stream is (check() records latency).
        run("recv" if kind == "feed" else kind, url_for(args.url, kind, size, count), size, count, clock)
    assert clock.t1 > clock.t0 > 0, "the client did not time its work"
    result = {
        "peer": peer,
        "workload": args.workload,
        "seconds": clock.t1 - clock.t0,
        # The client's CPU time (user + system) over the same window: the
        # work itself, without start-up, imports and connecting.
        "work_cpu": clock.cpu1 - clock.cpu0,
        "count": count,
        "size": size,
        "rss_growth": max(0, maxrss_bytes() - clock.idle_rss),
    }
    if kind == "feed":
        assert len(LATENCIES) == count, f"{len(LATENCIES)} latencies for {count} messages"
        ordered = sorted(LATENCIES)
        for q in (50, 99, 99.9):
            result[f"p{q}_us"] = ordered[min(count - 1, int(count * q / 100))] / 1000
    print(json.dumps(result), flush=True)


# -- for the raw-socket client: the handshake and pre-built frames ----------


class BioSocket:
    """The raw client's socket calls over ``ssl.MemoryBIO`` and an
    ``SSLObject`` instead of an ``SSLSocket``: the floor of any client that
    runs Python's TLS through memory BIOs (ours, and asyncio's transport).

    Ciphertext is read into one reused buffer and fed to the BIO; each
    ``recv_into`` is one ``SSLObject.read``, which returns at most one TLS
    record, as ``SSL_read`` does.  No framing, no locks, no checks beyond
    what the raw client does.
    """

    def __init__(self, sock: socket.socket, context, host: str) -> None:
        import ssl

        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
        self.want_read = ssl.SSLWantReadError
        self.scratch = bytearray(256 << 10)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.sock.sendall(self.outgoing.read())
                if not self._fill():
                    raise ConnectionError("server closed in the TLS handshake") from None
        if self.outgoing.pending:
            self.sock.sendall(self.outgoing.read())

    def _fill(self) -> int:
        got = self.sock.recv_into(self.scratch)
        if got:
            self.incoming.write(memoryview(self.scratch)[:got])
        return got

    def sendall(self, data) -> None:
        self.obj.write(data)
        self.sock.sendall(self.outgoing.read())

    def recv_into(self, view, n: int = 0) -> int:
        n = n or len(view)
        while True:
            if self.incoming.pending or self.obj.pending():
                try:
                    return self.obj.read(n, view)
                except self.want_read:
                    pass  # half a record
            if not self._fill():
                return 0

    def recv(self, n: int) -> bytes:
        buf = bytearray(n)
        return bytes(buf[: self.recv_into(memoryview(buf), n)])

    def close(self) -> None:
        self.sock.close()


def raw_connect(url: str, extensions: str = "") -> tuple[socket.socket, bytes]:
    """Open TCP, do the opening handshake by hand (offering ``extensions``);
    returns (socket, extra bytes)."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    context = tls_context(url)
    if context is not None and os.environ.get("BENCH_TLS_BIO") == "1":
        sock = BioSocket(sock, context, host)
    elif context is not None:
        sock = context.wrap_socket(sock, server_hostname=host)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((
        f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        + (f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else "")
        + "\r\n"
    ).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    head, extra = head.split(b"\r\n\r\n", 1)
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
    assert head.startswith(b"HTTP/1.1 101") and accept in head, head
    return sock, extra


def frame_header(opcode: int, length: int, mask_key: bytes | None) -> bytes:
    b1 = 0x80 if mask_key else 0
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, b1 | length)
    elif length < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, b1 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, b1 | 127, length)
    return head + (mask_key or b"")
