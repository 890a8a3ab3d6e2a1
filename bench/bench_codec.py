"""Codec throughput of both twins next to a plain memory copy.

    python bench/bench_codec.py [--quick]

For payloads from 16 B to 16 MiB: masking (``mask_into`` into a reused
buffer, against ``memoryview(dst)[:] = src``, the physical limit), frame
encoding (``FrameEncoder.encode``, masked, as a client sends) and parsing
(``FrameParser`` receiving unmasked server frames through ``get_buffer``, as
the client does).  Each cell is the median of several repeats, in MB/s (1 MB = 10^6 bytes);
the ratio beside it is the median of per-repeat ratios to the memory copy of
the same size, timed in turn within each repeat.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# The installed package, never the source tree: a fresh clone's tree has
# no compiled extension (it is built into the environment by pip install).
import types

from websocket import _speedups_py
from websocket._codec import load_pure

try:
    from websocket import _parser, _protocol, _speedups
except ImportError:
    _speedups = None


def implementation(primitives, rooms) -> types.SimpleNamespace:
    """One build's primitives and rooms (parser, encode_frame) together."""
    return types.SimpleNamespace(
        mask_into=primitives.mask_into,
        FrameEncoder=primitives.FrameEncoder,
        FrameParser=rooms["_parser"].FrameParser,
        encode_frame=rooms["_protocol"].encode_frame,
    )

SIZES = [16, 256, 4096, 65536, 1 << 20, 16 << 20]
KEY = b"\x12\x34\x56\x78"


def calibrate(func, budget: float) -> int:
    """Loops of ``func`` that take about ``budget`` seconds."""
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            func()
        dt = time.perf_counter() - t0
        if dt > budget or loops > 1 << 22:
            return max(1, int(loops * budget / dt))
        loops *= 4


def run(func, loops: int) -> float:
    t0 = time.perf_counter()
    for _ in range(loops):
        func()
    return time.perf_counter() - t0


def interleaved(funcs: dict, nbytes: dict, budget: float, repeats: int) -> dict:
    """Median MB/s of each function, and of each one's ratio to "memcpy".

    The functions run in turn within every repeat, so that the machine's
    changing load hits all of them alike (a shared 2-core VM is noisy)."""
    loops = {name: calibrate(f, budget / repeats) for name, f in funcs.items()}
    rates: dict = {name: [] for name in funcs}
    ratios: dict = {name: [] for name in funcs}
    for _ in range(repeats):
        base = None
        for name, f in funcs.items():
            rate = nbytes[name] * loops[name] / run(f, loops[name]) / 1e6
            rates[name].append(rate)
            base = rate if name == "memcpy" else base
            ratios[name].append(rate / base)
    return {
        name: (statistics.median(rates[name]), statistics.median(ratios[name])) for name in funcs
    }


def bench_size(codec, size: int, budget: float, repeats: int) -> dict[str, float]:
    src = os.urandom(size)
    dst = bytearray(size)
    dview = memoryview(dst)
    def copy():
        dview[:] = src

    def mask():
        codec.mask_into(dst, src, KEY)

    encoder = codec.FrameEncoder()

    def encode():
        encoder.encode(2, src)

    frames_per_feed = max(1, min(1024, (4 << 20) // (size + 14)))
    wire = memoryview(codec.encode_frame(2, src, False) * frames_per_feed)

    def parse():
        parser = codec.FrameParser()
        pos = 0
        while pos < len(wire):
            buf = parser.get_buffer()
            n = min(len(buf), len(wire) - pos)
            buf[:n] = wire[pos : pos + n]
            parser.buffer_updated(n)
            pos += n
            while parser.next_message() is not None:
                pass

    funcs = {"memcpy": copy, "mask": mask, "encode": encode, "parse": parse}
    # Parsing also copies the wire bytes into the parser (as recv_into does).
    nbytes = {"memcpy": size, "mask": size, "encode": size, "parse": size * frames_per_feed}
    return interleaved(funcs, nbytes, budget, repeats)


def human(size: int) -> str:
    for unit, step in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= step:
            return f"{size // step} {unit}"
    return f"{size} B"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter timings")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sizes", help="comma-separated sizes in bytes (default: 16 B to 16 MiB)")
    ap.add_argument("--twins", default="cython,python", help="which twins (default: both)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else SIZES
    budget = 0.3 if args.quick else 1.0
    if _speedups is None or not _protocol.COMPILED:
        print("compiled extension missing: pip install -e . first", file=sys.stderr)
        sys.exit(1)
    twins = [
        ("cython", implementation(_speedups, {"_parser": _parser, "_protocol": _protocol})),
        ("python", implementation(_speedups_py, load_pure("_py"))),
    ]
    print(f"# codec throughput, MB/s (median of {args.repeats}); x = median ratio to memcpy")
    print(f"# {sys.version.split()[0]} on {os.cpu_count()} CPUs\n")
    print("| size | memcpy | twin | mask | x | encode | x | parse | x |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        for name, codec in twins:
            if name not in args.twins.split(","):
                continue
            if name == "python" and size > (1 << 20) and args.quick:
                continue
            r = bench_size(codec, size, budget, args.repeats)
            cells = " | ".join(f"{r[k][0]:,.0f} | {r[k][1]:.2f}" for k in ("mask", "encode", "parse"))
            print(f"| {human(size)} | {r['memcpy'][0]:,.0f} | {name} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
