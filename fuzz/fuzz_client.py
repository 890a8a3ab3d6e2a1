"""Fuzz target for the whole client receive path (atheris): a server that
answers the handshake and then sends fuzzer bytes.

A ``WsClient`` (the compiled build, the blocking shell, over a socket pair)
receives until it raises.  Oracle: it raises only ConnectionClosed,
ProtocolError or MessageTooBig (never anything else, never a hang: the
receive timeout is an error here, as the server ends the stream), and the
messages it returned before are exactly those the pure protocol makes of
the same bytes, so nothing is delivered that the server did not send.

    python fuzz/fuzz_client.py fuzz/corpus/client -max_total_time=60
"""

from __future__ import annotations

import socket
import sys
import threading

import atheris
from common import both_builds, split

from websocket import ConnectionClosed, MessageTooBig, ProtocolError, WsClient
from websocket._handshake import accept_key

pure, compiled = both_builds("fuzz_client")
RESPONSE = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: {accept}\r\n{extensions}\r\n"
)
DEFLATE = "Sec-WebSocket-Extensions: permessage-deflate\r\n"


def serve(sock: socket.socket, reads: list[bytes], deflate: bool, key_box: list[str]) -> None:
    """Answer the opening handshake, send ``reads``, end the stream."""
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                return
            head += chunk
        key = head.split(b"Sec-WebSocket-Key: ")[1].split(b"\r\n")[0].decode()
        key_box.append(key)
        response = RESPONSE.format(accept=accept_key(key), extensions=DEFLATE if deflate else "")
        sock.sendall(response.encode())
        for data in reads:
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):  # take the client's close frame, until its EOF
            pass
    except OSError:
        pass
    finally:
        sock.close()


def expected(reads: list[bytes], max_size: int, deflate: bool, key: str) -> list[object]:
    """What the pure protocol makes of the same bytes: messages, then the
    failure's type."""
    proto = pure.ClientProtocol(
        "fuzz.test", 80, "/", max_size=max_size, deflate=pure_deflate() if deflate else None
    )
    request = proto.connect_request()
    key = request.split(b"Sec-WebSocket-Key: ")[1].split(b"\r\n")[0].decode()
    response = RESPONSE.format(accept=accept_key(key), extensions=DEFLATE if deflate else "")
    assert proto.receive_handshake(response.encode())
    out: list[object] = []
    try:
        for data in reads:
            proto.receive_data(data)
            while (msg := proto.next_message()) is not None:
                out.append(msg)
                if msg["type"] == "close":
                    return out  # RFC 6455 §5.5.1: nothing is read after it
    except (ProtocolError, MessageTooBig) as exc:
        out.append(type(exc).__name__)
    return out


def pure_deflate() -> object:
    from websocket._deflate import DeflateSettings

    return DeflateSettings()


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    max_size = fdp.PickValueInList([125, 1000, 1 << 20])
    deflate = fdp.ConsumeBool()
    cuts = sorted(fdp.ConsumeIntInRange(0, 1024) for _ in range(fdp.ConsumeIntInRange(0, 4)))
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    reads = split(stream, cuts)
    ours, theirs = socket.socketpair()
    key_box: list[str] = []
    server = threading.Thread(target=serve, args=(theirs, reads, deflate, key_box), daemon=True)
    server.start()
    got: list[object] = []
    try:
        ws = WsClient(
            "ws://fuzz.test/", sock=ours, timeout=5, close_timeout=1, max_size=max_size,
            compression="deflate" if deflate else None, proxy=None,
        )
        try:
            while True:
                got.append(ws.receive(timeout=5))
        except (ProtocolError, MessageTooBig) as exc:
            got.append(type(exc).__name__)
        except ConnectionClosed:
            pass
        finally:
            ws.close()
    finally:
        server.join(5)
        assert not server.is_alive(), "the client never ended the connection"
    want = expected(reads, max_size, deflate, key_box[0])
    # The shell reports a close as ConnectionClosed after returning it; a
    # failure the protocol saw is the last thing both report.
    assert got == want, f"stream {stream!r} in {reads!r}:\n  client: {got!r}\n  protocol: {want!r}"


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
