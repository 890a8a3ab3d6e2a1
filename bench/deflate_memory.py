"""Memory each compressing connection holds, per permessage-deflate setting.

    python bench/deflate_memory.py

For each setting and each zlib backend (the standard library's, and
zlib-ng's when installed), 200 connections' worth of the protocol's
compressor and decompressor (websocket._compression.Deflater / Inflater, what
a WsClient with compression="deflate" holds) each compress and decompress
one 16 KiB JSON message; tracemalloc (which sees both backends'
allocations, made through PyMem_RawMalloc) gives the memory still held
afterwards, per connection.  Deterministic: it does not depend on the
machine's load.
"""

from __future__ import annotations

import json
import tracemalloc
import zlib

import websocket._compression as compression
from websocket._compression import Deflater, Inflater

CONNECTIONS = 200
MESSAGE = json.dumps([{"symbol": "ABC", "price": 100 + i / 8, "size": i % 17} for i in range(300)]).encode()

SETTINGS = [
    # (label, client window, memory level, client no context takeover, server window, server nct)
    ("defaults (15 bits, memory_level 8)", 15, 8, False, 15, False),
    ("compression_level 1", 15, 8, False, 15, False),
    ("memory_level 5", 15, 5, False, 15, False),
    ("memory_level 1", 15, 1, False, 15, False),
    ("client_max_window_bits 12", 12, 8, False, 15, False),
    ("client_max_window_bits 9, memory_level 1", 9, 1, False, 15, False),
    ("server_max_window_bits 12", 15, 8, False, 12, False),
    ("server_max_window_bits 9", 15, 8, False, 9, False),
    ("server_no_context_takeover", 15, 8, False, 15, True),
    ("client_no_context_takeover", 15, 8, True, 15, False),
    ("9 bits both ways, memory_level 1, server_no_context_takeover", 9, 1, False, 9, True),
]


def peer_payload(wbits: int) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    return (z.compress(MESSAGE) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]


def measure(cbits: int, mem: int, cnct: bool, sbits: int, snct: bool, level: int) -> tuple[int, int]:
    payload = peer_payload(sbits)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    conns = []
    for _ in range(CONNECTIONS):
        deflater = Deflater(level, cbits, mem, cnct)
        inflater = Inflater(sbits, snct)
        deflater.compress(MESSAGE)
        inflater.inflate(payload, -1, True)
        conns.append((deflater, inflater))
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (held - base) // CONNECTIONS, peak - base


def main() -> None:
    backends = {"zlib": zlib}
    try:
        from zlib_ng import zlib_ng

        backends["zlib-ng"] = zlib_ng
    except ImportError:
        pass
    print("| setting | " + " | ".join(f"{name}: KiB held per connection" for name in backends) + " |")
    print("|---|" + "---:|" * len(backends))
    for label, cbits, mem, cnct, sbits, snct in SETTINGS:
        level = 1 if "level 1" in label else -1
        cells = []
        for module in backends.values():
            compression.zlib = module  # what Deflater and Inflater compress with
            held, _ = measure(cbits, mem, cnct, sbits, snct, level)
            cells.append(f"{held / 1024:.0f}")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
