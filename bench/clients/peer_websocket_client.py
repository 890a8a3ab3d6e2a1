"""Benchmark client: websocket-client (with wsaccel when installed in its venv)."""

import importlib.util

from common import check, check_ack, main, payload, set_index

import websocket  # websocket-client, in its own venv


def run(kind, url, size, count, clock):
    ws = websocket.create_connection(url)
    buf = payload(size)
    if kind == "rtt":
        clock.start()
        for i in range(count):
            set_index(buf, i)
            ws.send_binary(buf)
            check(ws.recv(), i, size)
    elif kind == "recv":
        clock.start()
        ws.send("go")
        for i in range(count):
            check(ws.recv(), i, size)
    else:
        clock.start()
        for i in range(count):
            set_index(buf, i)
            ws.send_binary(buf)
        check_ack(ws.recv(), count)
    clock.stop()
    ws.close()


if __name__ == "__main__":
    accel = importlib.util.find_spec("wsaccel") is not None
    main(run, "websocket-client+wsaccel" if accel else "websocket-client")
