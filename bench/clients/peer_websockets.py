"""Benchmark client: websockets, its threaded (sync) client; with
BENCH_PURE=1, without its C extension (the masking of websockets.speedups),
as websockets falls back when the extension cannot be imported."""

import os
import sys

if os.environ.get("BENCH_PURE") == "1":
    sys.modules["websockets.speedups"] = None  # makes its import fail

from common import compressed, main, run_compressed, run_sync, tls_context
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.sync.client import connect


def run(kind, url, size, count, clock):
    if compressed(kind):
        # The same offer and zlib settings as ours: windows of 15 bits,
        # memLevel 8 (websockets' default is 5), level 1.
        factory = ClientPerMessageDeflateFactory(client_max_window_bits=True,
                                                 compress_settings={"level": 1, "memLevel": 8})
        ws = connect(url, max_size=None, compression=None, extensions=[factory])
        run_compressed(ws.send, ws.recv, kind, size, count, clock)
        ws.close()
        return
    ws = connect(url, max_size=None, compression=None, ssl=tls_context(url))
    run_sync(ws.send, ws.recv, ws.send, kind, size, count, clock)
    ws.close()


if __name__ == "__main__":
    if os.environ.get("BENCH_PURE") == "1":
        import websockets.frames

        assert websockets.frames.apply_mask.__module__ == "websockets.utils", websockets.frames.apply_mask
    main(run, "websockets")
