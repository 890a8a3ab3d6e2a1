"""Benchmark client: picows on uvloop (frame callbacks, zero-copy payload views)."""

import asyncio

import uvloop
from common import check, check_ack, main, payload, set_index, tls_context
from picows import WSListener, WSMsgType, ws_connect


class Listener(WSListener):
    def __init__(self, kind, size, count, clock):
        self.kind, self.size, self.count, self.clock = kind, size, count, clock
        self.i = 0
        self.buf = payload(size)
        self.done = asyncio.get_running_loop().create_future()
        self.writable = asyncio.Event()
        self.writable.set()

    def pause_writing(self):
        self.writable.clear()

    def resume_writing(self):
        self.writable.set()

    def send_next(self, transport):
        set_index(self.buf, self.i)
        transport.send(WSMsgType.BINARY, self.buf)

    def on_ws_frame(self, transport, frame):
        if frame.msg_type == WSMsgType.PING:
            transport.send_pong(frame.get_payload_as_bytes())
            return
        if self.kind == "send":
            check_ack(frame.get_payload_as_bytes(), self.count)
            self.done.set_result(None)
            return
        check(frame.get_payload_as_memoryview(), self.i, self.size)
        self.i += 1
        if self.i == self.count:
            self.done.set_result(None)
        elif self.kind == "rtt":
            self.send_next(transport)


async def arun(kind, url, size, count, clock):
    transport, listener = await ws_connect(
        lambda: Listener(kind, size, count, clock), url, max_frame_size=size + 1024,
        ssl_context=tls_context(url),
    )
    clock.start()
    if kind == "rtt":
        listener.send_next(transport)
    elif kind == "recv":
        transport.send(WSMsgType.TEXT, b"go")
    else:
        buf = listener.buf
        for i in range(count):
            if not listener.writable.is_set():
                await listener.writable.wait()
            set_index(buf, i)
            transport.send(WSMsgType.BINARY, buf)
    await listener.done
    clock.stop()
    transport.send_close()
    transport.disconnect()


def run(kind, url, size, count, clock):
    uvloop.run(arun(kind, url, size, count, clock))


if __name__ == "__main__":
    main(run, "picows")
