"""Benchmark client: websocket-fast's asyncio face (websocket.asyncio) on
uvloop, or with BENCH_LOOP=asyncio on asyncio's own loop."""

import asyncio
import os

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

import websocket
from websocket.asyncio import connect


async def zrun(workload, url, size, count, clock):
    """run_compressed() for an asyncio client (zlib level 1, as every
    client of the compressed workloads)."""
    kind = WORKLOADS[workload][0]
    template = zpayload(content(workload), size)
    message = template if isinstance(template, str) else bytearray(template)
    async with connect(url, max_size=None, compression="deflate", compression_level=1) as ws:
        clock.start()
        if kind == "rtt":
            for i in range(count):
                message = zset_index(message, i)
                await ws.send(message)
                zcheck((await ws.receive())["data"], i, template)
        elif kind == "recv":
            await ws.send("go")
            for i in range(count):
                zcheck((await ws.receive())["data"], i % CYCLE, template)
        else:
            for i in range(count):
                message = zset_index(message, i)
                await ws.send(message)
            check_ack((await ws.receive())["data"], count)
        clock.stop()


async def arun(kind, url, size, count, clock):
    if compressed(kind):
        await zrun(kind, url, size, count, clock)
        return
    async with connect(url, max_size=None, ssl_context=tls_context(url)) as ws:
        buf = payload(size)
        send, receive = ws.send, ws.receive
        clock.start()
        if kind == "rtt":
            for i in range(count):
                set_index(buf, i)
                await send(buf)
                check((await receive())["data"], i, size)
        elif kind == "recv":
            await send("go")
            for i in range(count):
                check((await receive())["data"], i, size)
        else:
            for i in range(count):
                set_index(buf, i)
                await send(buf)
            check_ack((await receive())["data"], count)
        clock.stop()


def run(kind, url, size, count, clock):
    if os.environ.get("BENCH_LOOP") == "asyncio":
        asyncio.run(arun(kind, url, size, count, clock))
    else:
        uvloop.run(arun(kind, url, size, count, clock))


if __name__ == "__main__":
    main(run, f"ours-asyncio-{websocket.implementation}")
