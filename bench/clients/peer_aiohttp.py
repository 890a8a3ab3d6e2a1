"""Benchmark client: aiohttp on uvloop; with BENCH_PURE=1, its pure-Python
build (AIOHTTP_NO_EXTENSIONS=1, set by run.py) on asyncio's own loop."""

import asyncio
import os

import aiohttp
import uvloop
from common import (
    CYCLE,
    WORKLOADS,
    check,
    check_ack,
    compressed,
    content,
    main,
    payload,
    set_index,
    tls_context,
    zcheck,
    zpayload,
    zset_index,
)


async def zrun(workload, url, size, count, clock):
    """run_compressed() for an asyncio client (compress=15: zlib level 1,
    which aiohttp fixes)."""
    kind = WORKLOADS[workload][0]
    template = zpayload(content(workload), size)
    message = template if isinstance(template, str) else bytearray(template)
    text = isinstance(template, str)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, max_msg_size=0, compress=15, autoping=True) as ws:
            send = ws.send_str if text else ws.send_bytes
            clock.start()
            if kind == "rtt":
                for i in range(count):
                    message = zset_index(message, i)
                    await send(message)
                    zcheck((await ws.receive()).data, i, template)
            elif kind == "recv":
                await ws.send_str("go")
                for i in range(count):
                    zcheck((await ws.receive()).data, i % CYCLE, template)
            else:
                for i in range(count):
                    message = zset_index(message, i)
                    await send(message)
                check_ack((await ws.receive()).data, count)
            clock.stop()


async def arun(kind, url, size, count, clock):
    if compressed(kind):
        await zrun(kind, url, size, count, clock)
        return
    async with aiohttp.ClientSession() as session:
        context = tls_context(url)
        async with session.ws_connect(url, max_msg_size=0, compress=0, autoping=True,
                                      ssl=context if context is not None else True) as ws:
            buf = payload(size)
            if kind == "rtt":
                clock.start()
                for i in range(count):
                    set_index(buf, i)
                    await ws.send_bytes(buf)
                    check((await ws.receive()).data, i, size)
            elif kind == "recv":
                clock.start()
                await ws.send_str("go")
                for i in range(count):
                    check((await ws.receive()).data, i, size)
            else:
                clock.start()
                for i in range(count):
                    set_index(buf, i)
                    await ws.send_bytes(buf)
                check_ack((await ws.receive()).data, count)
            clock.stop()


def run(kind, url, size, count, clock):
    if os.environ.get("BENCH_PURE") == "1":
        import aiohttp.http_websocket as hw

        # The environment variable must have taken: the reader is Python.
        assert hw.WebSocketReader.__module__.endswith("reader_py"), hw.WebSocketReader
        asyncio.run(arun(kind, url, size, count, clock))
    else:
        uvloop.run(arun(kind, url, size, count, clock))


if __name__ == "__main__":
    main(run, "aiohttp")
