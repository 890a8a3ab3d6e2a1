"""Benchmark client: a raw socket moving the same bytes with no framing work.

The ceiling: the handshake is done by hand, frames are pre-built once (only
the 8 masked index bytes change per message), and received bytes land in one
reused buffer without parsing; only the first and last messages' contents
are checked, and the byte count of everything.
"""

import os
import struct
import zlib

from common import (
    CYCLE,
    FEED,
    WORKLOADS,
    check,
    check_ack,
    compressed,
    content,
    frame_header,
    main,
    payload,
    raw_connect,
    zcheck,
    zpayload,
    zset_index,
)

KEY = os.urandom(4)
_INDEX = struct.Struct("<Q")


def masked_frame(size):
    data = bytearray(payload(size))
    for j in range(size):
        data[j] ^= KEY[j % 4]
    head = frame_header(2, size, KEY)
    return bytearray(head) + data, len(head)


# The index sits at payload offset 0, where the key's phase is 0: XOR with
# the key repeated twice, read as a little-endian u64, masks it in one step.
KEY64 = int.from_bytes(KEY * 2, "little")


def set_masked_index(frame, hlen, i):
    _INDEX.pack_into(frame, hlen, i ^ KEY64)


def recv_exactly(sock, view, n):
    got = 0
    while got < n:
        k = sock.recv_into(view[got:n])
        if not k:
            raise ConnectionError("server closed")
        got += k


def recv_frame(sock, buf: bytearray) -> tuple[int, memoryview]:
    """(opcode, payload) of the next unmasked, unfragmented server frame."""
    view = memoryview(buf)
    recv_exactly(sock, view, 2)
    opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
    if n >= 126:
        extra = 2 if n == 126 else 8
        recv_exactly(sock, view, extra)
        n = int.from_bytes(buf[:extra], "big")
    recv_exactly(sock, view, n)
    return opcode, view[:n]


def zrun(workload, url, size, count, clock):
    """The compressed ceiling: zlib at level 1 and the frames by hand, with
    an all-zero mask key (masking is then a no-op: this measures zlib and
    the socket, not framing)."""
    kind = WORKLOADS[workload][0]
    sock, extra = raw_connect(url, "permessage-deflate; client_max_window_bits")
    assert not extra
    template = zpayload(content(workload), size)
    message = template if isinstance(template, str) else bytearray(template)
    opcode = 1 if isinstance(template, str) else 2
    z = zlib.compressobj(1, zlib.DEFLATED, -15)
    unz = zlib.decompressobj(-15)
    buf = bytearray(size + (size >> 4) + 1024)

    def send(data) -> None:
        data = data.encode() if isinstance(data, str) else data
        body = (z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]
        head = bytearray(frame_header(opcode, len(body), b"\0\0\0\0"))
        head[0] |= 0x40
        sock.sendall(head + body)

    def receive():
        op, data = recv_frame(sock, buf)
        out = unz.decompress(data) + unz.decompress(b"\0\0\xff\xff")
        return out.decode() if op == 1 else out

    clock.start()
    if kind == "rtt":
        for i in range(count):
            message = zset_index(message, i)
            send(message)
            zcheck(receive(), i, template)
    elif kind == "recv":
        sock.sendall(frame_header(1, 2, b"\0\0\0\0") + b"go")
        for i in range(count):
            zcheck(receive(), i % CYCLE, template)
    else:
        for i in range(count):
            message = zset_index(message, i)
            send(message)
        check_ack(bytes(recv_frame(sock, buf)[1]), count)
    clock.stop()
    sock.close()


def run(kind, url, size, count, clock):
    if compressed(kind):
        zrun(kind, url, size, count, clock)
        return
    sock, extra = raw_connect(url)
    assert not extra
    server_hlen = len(frame_header(2, size, None))
    in_frame = server_hlen + size
    if kind == "rtt":
        frame, hlen = masked_frame(size)
        buf = bytearray(in_frame)
        view = memoryview(buf)
        clock.start()
        for i in range(count):
            set_masked_index(frame, hlen, i)
            sock.sendall(frame)
            recv_exactly(sock, view, in_frame)
            if i == 0 or i == count - 1:
                check(view[server_hlen:], i, size)
    elif kind == "recv" and FEED:
        # Each message read and checked as it comes: the latency baseline.
        buf = bytearray(in_frame)
        view = memoryview(buf)
        clock.start()
        sock.sendall(frame_header(1, 2, b"\0\0\0\0") + b"go")
        for i in range(count):
            recv_exactly(sock, view, in_frame)
            check(view[server_hlen:], i, size)
    elif kind == "recv":
        total = in_frame * count
        # 128 KiB reads: the fastest size measured here (they return window
        # space to the sender soonest), so the ceiling is a real ceiling.
        buf = bytearray(128 << 10)
        view = memoryview(buf)
        first = bytearray()
        last_start = total - in_frame
        tail = bytearray()
        clock.start()
        sock.sendall(frame_header(1, 2, b"\0\0\0\0") + b"go")
        got = 0
        while got < total:
            k = sock.recv_into(view, min(len(buf), total - got))
            if not k:
                raise ConnectionError("server closed")
            if got < in_frame:
                first += view[: min(k, in_frame - got)]
            if got + k > last_start:
                tail += view[max(0, last_start - got) : k]
            got += k
        check(memoryview(first)[server_hlen:], 0, size)
        check(memoryview(tail)[server_hlen:], count - 1, size)
    else:
        frame, hlen = masked_frame(size)
        clock.start()
        for i in range(count):
            set_masked_index(frame, hlen, i)
            sock.sendall(frame)
        ack = sock.recv(64)
        check_ack(ack[2:], count)
    clock.stop()
    sock.close()


if __name__ == "__main__":
    main(run, "raw-socket")
