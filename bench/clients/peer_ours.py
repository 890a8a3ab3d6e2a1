"""Benchmark client: websocket-fast (this project; WEBSOCKET_NO_EXTENSIONS=1
for the pure twin; BENCH_SEND_MANY=1 sends through one send_many() call;
BENCH_RCVBUF=n sets SO_RCVBUF to n through socket_options; BENCH_RECEIVE_INTO=1
receives with receive_into() into one reused buffer)."""

import os
import socket

from common import (
    check,
    check_ack,
    check_into,
    compressed,
    main,
    payload,
    run_compressed,
    set_index,
    tls_context,
)

import websocket
from websocket import WsClient


def run(kind, url, size, count, clock):
    if compressed(kind):
        # zlib level 1 for every client of the compressed workloads: the
        # level aiohttp fixes (others default to 6 and are set to 1 too).
        ws = WsClient(url, max_size=None, compression="deflate", compression_level=1)
        receive = ws.receive
        run_compressed(ws.send, lambda: receive()["data"], kind, size, count, clock)
        ws.close()
        return
    rcvbuf = int(os.environ.get("BENCH_RCVBUF", "0"))
    options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)] if rcvbuf else None
    ws = WsClient(url, max_size=None, socket_options=options, ssl_context=tls_context(url))
    buf = payload(size)
    receive, send = ws.receive, ws.send
    if os.environ.get("BENCH_RECEIVE_INTO") == "1" and kind != "send":
        into = ws.receive_into
        rbuf = bytearray(size)
        clock.start()
        if kind == "rtt":
            for i in range(count):
                set_index(buf, i)
                send(buf)
                check_into(rbuf, into(rbuf)[0], i, size)
        else:
            send("go")
            for i in range(count):
                check_into(rbuf, into(rbuf)[0], i, size)
    elif kind == "rtt":
        clock.start()
        for i in range(count):
            set_index(buf, i)
            send(buf)
            check(receive()["data"], i, size)
    elif kind == "recv":
        clock.start()
        send("go")
        for i in range(count):
            check(receive()["data"], i, size)
    elif os.environ.get("BENCH_SEND_MANY") == "1":
        clock.start()
        # send_many() encodes each item before it takes the next, so one
        # buffer, renumbered as it goes, is safe to yield every time.
        ws.send_many(set_index(buf, i) or buf for i in range(count))
        check_ack(receive()["data"], count)
    else:
        clock.start()
        for i in range(count):
            set_index(buf, i)
            send(buf)
        check_ack(receive()["data"], count)
    clock.stop()
    ws.close()


if __name__ == "__main__":
    main(run, f"ours-{websocket.implementation}")
