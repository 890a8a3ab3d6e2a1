"""Benchmark client: aiohttp on uvloop."""

import asyncio

import aiohttp
import uvloop
from common import check, check_ack, main, payload, set_index


async def arun(kind, url, size, count, clock):
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, max_msg_size=0, compress=0, autoping=True) as ws:
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
    uvloop.run(arun(kind, url, size, count, clock))


if __name__ == "__main__":
    main(run, "aiohttp")
