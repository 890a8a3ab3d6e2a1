"""``python -m websocket``: the client at work against a local server.

Starts the package's small demo server on 127.0.0.1 (no outside server is
needed) and runs the seed interface's common patterns against it: connect,
send and receive text and binary, ping, a receive loop until the server
closes, close; then the handshake helpers on their own.
"""

from __future__ import annotations

from . import (
    WsClient,
    __version__,
    build_handshake_request,
    generate_key,
    implementation,
    parse_url,
    validate_handshake_response,
)
from ._demo import DemoServer
from ._handshake import accept_key


def main() -> None:
    print(f"websocket-fast {__version__} ({implementation} codec)")
    with DemoServer() as server:
        print(f"demo server listening on {server.url}\n")

        # Connect, exchange a few messages, then close cleanly.
        ws = WsClient(f"{server.url}/chat")
        print(f"connected: ready_state() = {ws.ready_state()!r}")
        ws.send("hello")
        reply = ws.receive()
        print(f"server says: {reply['data']}")
        ws.send_binary([0x01, 0x02, 0x03])
        msg = ws.receive()
        print(f"binary payload of {len(msg['data'])} bytes: {msg['data']!r}")
        ws.ping(b"are you there?")
        resp = ws.receive()
        print(f"pong type: {resp['type']}, data: {resp['data']!r}")
        ws.close()
        print(f"after close(): ready_state() = {ws.ready_state()!r}\n")

        # Drive a receive loop until the server sends a close frame.
        ws = WsClient(f"{server.url}/feed")
        ws.send("first")
        ws.send("second")
        while ws.ready_state() == "open":
            msg = ws.receive()
            if msg["type"] == "close":
                print(f"closed: {msg['reason']} (code {msg['code']})")
                break
            print(f"got {msg['type']}: {msg['data']}")
        print(f"ready_state() = {ws.ready_state()!r}\n")

    # Build the raw handshake yourself with the protocol helpers.
    parts = parse_url("wss://example.com/chat")
    key = generate_key()
    request = build_handshake_request(parts["host"], parts["path"], key)
    print("handshake request for wss://example.com/chat:")
    print("  " + request.strip().replace("\r\n", "\n  "))
    http_response = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    )
    if validate_handshake_response(http_response, key):
        print("upgrade accepted")


if __name__ == "__main__":
    main()
