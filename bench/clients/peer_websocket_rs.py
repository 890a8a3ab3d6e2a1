"""Benchmark client: websocket-rs (Rust), its sync client."""

from common import main, run_sync
from websocket_rs.sync.client import connect


def run(kind, url, size, count, clock):
    ws = connect(url, tcp_nodelay=True)
    # send() takes bytes only: the copy is the price of its API.
    run_sync(ws.send, ws.recv, ws.send, kind, size, count, clock, convert=bytes)
    ws.close()


if __name__ == "__main__":
    main(run, "websocket-rs")
