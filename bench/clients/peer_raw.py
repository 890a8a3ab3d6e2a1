"""Benchmark client: a raw socket moving the same bytes with no framing work.

The ceiling: the handshake is done by hand, frames are pre-built once (only
the 8 masked index bytes change per message), and received bytes land in one
reused buffer without parsing; only the first and last messages' contents
are checked, and the byte count of everything.
"""

import os
import socket
import struct

from common import check, check_ack, frame_header, main, payload, raw_connect

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


def run(kind, url, size, count, clock):
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
