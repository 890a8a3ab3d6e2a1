"""Benchmark client: websockets, its threaded (sync) client."""

from common import check, check_ack, main, payload, set_index

from websockets.sync.client import connect


def run(kind, url, size, count, clock):
    ws = connect(url, max_size=None, compression=None)
    buf = payload(size)
    if kind == "rtt":
        clock.start()
        for i in range(count):
            set_index(buf, i)
            ws.send(buf)
            check(ws.recv(), i, size)
    elif kind == "recv":
        clock.start()
        ws.send("go")
        for i in range(count):
            check(ws.recv(), i, size)
    else:
        clock.start()
        for i in range(count):
            set_index(buf, i)
            ws.send(buf)
        check_ack(ws.recv(), count)
    clock.stop()
    ws.close()


if __name__ == "__main__":
    main(run, "websockets")
