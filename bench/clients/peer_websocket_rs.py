"""Benchmark client: websocket-rs (Rust), its sync client."""

from common import check, check_ack, main, payload, set_index

from websocket_rs.sync.client import connect


def run(kind, url, size, count, clock):
    ws = connect(url, tcp_nodelay=True)
    buf = payload(size)
    if kind == "rtt":
        clock.start()
        for i in range(count):
            set_index(buf, i)
            ws.send(bytes(buf))
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
            ws.send(bytes(buf))
        check_ack(ws.recv(), count)
    clock.stop()
    ws.close()


if __name__ == "__main__":
    main(run, "websocket-rs")
