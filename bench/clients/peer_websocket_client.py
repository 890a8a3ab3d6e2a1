"""Benchmark client: websocket-client (with wsaccel when installed in its venv).

Run in this project's venv (the ``ours-compat`` row), the same script runs
unchanged on websocket-fast's websocket-client API."""

import importlib.util
import os

from common import main, run_sync

import websocket  # websocket-client in its own venv; ours for ours-compat


def run(kind, url, size, count, clock):
    # wss://: the bench CA, through its sslopt (the same call on ours-compat).
    sslopt = {"ca_certs": os.environ["BENCH_CA"]} if url.startswith("wss://") else None
    ws = websocket.create_connection(url, sslopt=sslopt)
    run_sync(ws.send_binary, ws.recv, ws.send, kind, size, count, clock)
    ws.close()


if __name__ == "__main__":
    accel = importlib.util.find_spec("wsaccel") is not None
    ours = hasattr(websocket, "WsClient")
    main(run, "ours-compat" if ours else "websocket-client+wsaccel" if accel else "websocket-client")
