"""Benchmark client: websockets, its threaded (sync) client."""

from common import main, run_sync

from websockets.sync.client import connect


def run(kind, url, size, count, clock):
    ws = connect(url, max_size=None, compression=None)
    run_sync(ws.send, ws.recv, ws.send, kind, size, count, clock)
    ws.close()


if __name__ == "__main__":
    main(run, "websockets")
