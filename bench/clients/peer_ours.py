"""Benchmark client: websocket-fast (this project; WEBSOCKET_NO_EXTENSIONS=1 for the pure twin)."""

import sys

from common import check, check_ack, main, payload, set_index

import websocket
from websocket import WsClient


def run(kind, url, size, count, clock):
    ws = WsClient(url, max_size=None)
    buf = payload(size)
    receive, send = ws.receive, ws.send
    if kind == "rtt":
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
