"""Client instructions per message under valgrind: a deterministic measure.

    python3 bench/icount.py                          # this environment's install
    python3 bench/icount.py --python A/bin/python --python B/bin/python
    WEBSOCKET_NO_EXTENSIONS=1 python3 bench/icount.py --count 5000

The wall-clock benchmark (run.py) moves by a tenth between runs on a shared
machine; a change to a hot path is better judged by the instructions the
client executes per message.  For each interpreter and mode, a raw-socket
server (this script, not under valgrind) serves one connection, and the
client (this script again, under ``valgrind --tool=callgrind``) makes
``--count`` exchanges of 64-byte binary messages, then once more with none;
the difference divided by the count is printed.  Modes: ``recv`` (the
server sends, the client receives), ``send`` (the client sends), ``rtt``
(send then receive), ``recv-into`` (``recv`` through ``receive_into()``
into one reused buffer), and ``tls-recv`` (``recv`` of 4 KiB messages over
TLS, one record each, as the bench's TLS server writes them; its count
includes OpenSSL's decryption) and ``tls-rtt`` (``rtt`` over TLS, with
OpenSSL's work).  ``tls-rtt-raw`` is ``tls-rtt``'s floor: pre-built frames
through ``ssl.MemoryBIO`` with no WebSocket client at all (the bench's
``raw-tls-bio`` peer, ``clients/common.py`` ``BioSocket``).  ``z-recv``
is the bench's ``z-recv-json-1k``: 1 KiB JSON-like text messages with
permessage-deflate, each compressed on its own as the bench server does;
its count includes zlib's inflation.  Options on the same paths:
``send-binary`` (``send`` through ``send_binary()``), ``recv-timeout``
(``recv`` through ``receive(timeout=10)``), ``ping`` (``ping()`` and
``receive()`` of its pong, per message), and websocket-client's layer:
``compat-send`` and ``compat-recv`` (``create_connection``'s ``send()`` of
a 64-character str and ``recv()``).  ``--ping-interval 20`` measures
the plain modes with keepalive on.  Needs valgrind (Debian package
``valgrind``) and, for the TLS modes, openssl.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile

FRAME = b"\x82\x40" + b"x" * 64
TLS_FRAME = b"\x82\x7e\x10\x00" + b"x" * 4096


def certificate(where: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (openssl), for the TLS modes."""
    cert, key = os.path.join(where, "cert.pem"), os.path.join(where, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def serve(mode: str, count: int) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    conn, _ = listener.accept()
    if mode.startswith("tls-"):
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.environ["ICOUNT_CERT"], os.environ["ICOUNT_KEY"])
        conn = context.wrap_socket(conn, server_side=True)
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv(4096)
    key = next(
        line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key")
    )
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    extension = b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if mode.startswith("z-") else b""
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n" + extension + b"\r\n"
    )
    rest = b""

    def client_frame() -> int | None:
        """The opcode of the next (masked, short) client frame."""
        nonlocal rest
        while True:
            if len(rest) >= 2:
                length, size = rest[1] & 0x7F, 6
                if length == 126:
                    length, size = int.from_bytes(rest[2:4], "big"), 8
                if len(rest) >= size + length:
                    opcode, rest = rest[0] & 0x0F, rest[size + length :]
                    return opcode
            data = conn.recv(65536)
            if not data:
                return None
            rest += data

    if mode in ("recv", "recv-into", "recv-timeout", "compat-recv"):
        conn.sendall(FRAME * count)
    elif mode == "ping":
        for _ in range(count):
            client_frame()
            conn.sendall(b"\x8a\x00")  # the pong of an empty ping
    elif mode == "z-recv":
        frames = z_frames()
        conn.sendall(b"".join(frames[i % len(frames)] for i in range(count)))
    elif mode == "tls-recv":
        for _ in range(count):  # one record each
            conn.sendall(TLS_FRAME)
    elif mode in ("rtt", "tls-rtt", "tls-rtt-raw"):
        for _ in range(count):
            client_frame()
            conn.sendall(FRAME)
    while (opcode := client_frame()) is not None:
        if opcode == 8:
            conn.sendall(b"\x88\x02\x03\xe8")
            break
    conn.close()


def z_frames() -> list[bytes]:
    """The bench's z-recv-json-1k messages (clients/common.py), each
    deflated on its own (RFC 7692 §7.2.1: the tail 00 00 ff ff removed) in
    an unmasked text frame with RSV1."""
    import zlib

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients"))
    from common import CYCLE, zpayload, zset_index

    template = zpayload("json", 1024)
    frames = []
    for i in range(CYCLE):
        z = zlib.compressobj(1, zlib.DEFLATED, -15, 8)
        data = z.compress(zset_index(template, i).encode()) + z.flush(zlib.Z_SYNC_FLUSH)
        data = data[:-4]
        assert 126 <= len(data) < 65536
        frames.append(bytes([0xC1, 126]) + len(data).to_bytes(2, "big") + data)
    return frames


def client(mode: str, count: int, port: str) -> None:
    if mode == "tls-rtt-raw":
        return raw_tls_client(count, port)
    from websocket import WsClient, create_connection

    if mode.startswith("compat-"):
        compat = create_connection(f"ws://127.0.0.1:{port}/")
        if mode == "compat-send":
            compat_send, text = compat.send, "y" * 64
            for _ in range(count):
                compat_send(text)
        else:
            compat_recv = compat.recv
            for _ in range(count):
                compat_recv()
        compat.close()
        return
    if mode.startswith("tls-"):
        import ssl

        context = ssl.create_default_context(cafile=os.environ["ICOUNT_CERT"])
        ws = WsClient(f"wss://127.0.0.1:{port}/", ssl_context=context)
    elif mode.startswith("z-"):
        ws = WsClient(f"ws://127.0.0.1:{port}/", compression="deflate", compression_level=1)
    else:
        ping_interval = float(os.environ.get("ICOUNT_PING_INTERVAL", "0")) or None
        ws = WsClient(f"ws://127.0.0.1:{port}/", ping_interval=ping_interval)
    msg = b"y" * 64
    if mode == "recv-into":
        buf = bytearray(64)
        into = ws.receive_into
        for _ in range(count):
            into(buf)
        ws.close()
        return
    # One loop per mode, with nothing else in it: the modes compare.
    send, receive = ws.send, ws.receive
    if mode == "send":
        for _ in range(count):
            send(msg)
    elif mode == "send-binary":
        send_binary = ws.send_binary
        for _ in range(count):
            send_binary(msg)
    elif mode in ("rtt", "tls-rtt"):
        for _ in range(count):
            send(msg)
            receive()
    elif mode == "recv-timeout":
        for _ in range(count):
            receive(timeout=10)
    elif mode == "ping":
        ping = ws.ping
        for _ in range(count):
            ping()
            receive()
    else:
        for _ in range(count):
            receive()
    ws.close()


def raw_tls_client(count: int, port: str) -> None:
    """tls-rtt without a WebSocket client: the same bytes through a memory BIO."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "clients"))
    from common import raw_connect

    # The bench's raw client, its TLS over ssl.MemoryBIO (BioSocket).
    os.environ.update(BENCH_CA=os.environ["ICOUNT_CERT"], BENCH_TLS_BIO="1")
    sock, _ = raw_connect(f"wss://127.0.0.1:{port}/")
    frame = b"\x82\xc0\0\0\0\0" + b"y" * 64  # masked with a zero key
    view = memoryview(bytearray(len(FRAME)))
    for _ in range(count):
        sock.sendall(frame)
        got = 0
        while got < len(FRAME):
            got += sock.recv_into(view[got:], len(FRAME) - got)
    sock.sendall(b"\x88\x82\0\0\0\0\x03\xe8")
    sock.close()


def instructions(python: str, mode: str, count: int) -> int:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", mode, str(count)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            # A fixed hash seed: str hashes (and so dict probes at startup)
            # change with the seed, which moved the count per message by
            # 1-2% at 20,000 messages, as much as the changes it judges.
            out = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg",
                 python, __file__, "--client", mode, str(count), port],
                capture_output=True, text=True, check=True, cwd=tmp,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
    finally:
        server.wait(60)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if not found:
        raise RuntimeError(f"no instruction count from valgrind: {out.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", action="append", help="interpreter(s) to measure (default: this one)")
    ap.add_argument("--modes", default="recv,send,rtt")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--ping-interval", type=float, default=0.0,
                    help="keepalive for the plain modes (seconds; 0: none, the default)")
    ap.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve[0], int(args.serve[1]))
    if args.client:
        return client(args.client[0], int(args.client[1]), args.client[2])
    if args.ping_interval:
        os.environ["ICOUNT_PING_INTERVAL"] = str(args.ping_interval)
    where = tempfile.mkdtemp()
    os.environ["ICOUNT_CERT"], os.environ["ICOUNT_KEY"] = certificate(where)
    impl = "pure" if os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0") else "compiled"
    print(f"# client instructions per message ({impl}), {args.count} messages;"
          " 64-byte messages, 4 KiB for tls-recv")
    # Absolute: the client runs in a temporary directory.
    for python in [os.path.abspath(p) if os.sep in p else p for p in args.python or [sys.executable]]:
        for mode in args.modes.split(","):
            per = (instructions(python, mode, args.count) - instructions(python, mode, 0)) / args.count
            print(f"{python}  {mode:4s}  {per:,.0f}", flush=True)


if __name__ == "__main__":
    main()
