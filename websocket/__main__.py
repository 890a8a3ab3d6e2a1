"""``python -m websocket``: shows the protocol helpers at work, offline.

Builds a handshake request and the server's answer, then encodes and decodes
frames the way a client and a server would, and prints each step.
"""

from __future__ import annotations

from . import (
    build_handshake_request,
    decode_frame,
    encode_close_frame,
    encode_frame,
    generate_key,
    implementation,
    parse_close_frame,
    parse_url,
    validate_handshake_response,
    __version__,
)
from ._handshake import accept_key


def main() -> None:
    print(f"websocket-fast {__version__} ({implementation} codec)")
    parts = parse_url("ws://localhost:8080/chat?room=1")
    print(f"parse_url -> {parts}")
    key = generate_key()
    request = build_handshake_request(parts["host"], parts["path"], key, port=parts["port"])
    print("request:\n  " + request.strip().replace("\r\n", "\n  "))
    response = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    )
    print(f"validate_handshake_response -> {validate_handshake_response(response, key)}")
    wire = encode_frame(1, "hello", True)
    frame = decode_frame(wire)
    print(f"client text frame {wire.hex()} -> opcode {frame['opcode']}, payload {frame['payload']!r}")
    close = encode_frame(8, encode_close_frame(1000, "bye"), False)
    info = parse_close_frame(decode_frame(close)["payload"])
    print(f"server close frame {close.hex()} -> code {info['code']}, reason {info['reason']!r}")


if __name__ == "__main__":
    main()
