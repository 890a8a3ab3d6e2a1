"""Frame vectors: (name, wire bytes, decoded fields) from RFC 6455 §5.7 and more."""

from __future__ import annotations

import struct

B256 = bytes(range(256))
B64K = bytes(i % 251 for i in range(65536))

# (name, wire, fin, opcode, masked, mask_key, payload)
FRAMES = [
    ("5.7 unmasked text", bytes.fromhex("810548656c6c6f"), True, 1, False, None, b"Hello"),
    (
        "5.7 masked text",
        bytes.fromhex("818537fa213d7f9f4d5158"),
        True,
        1,
        True,
        bytes.fromhex("37fa213d"),
        b"Hello",
    ),
    ("5.7 fragment 1", bytes.fromhex("010348656c"), False, 1, False, None, b"Hel"),
    ("5.7 fragment 2", bytes.fromhex("80026c6f"), True, 0, False, None, b"lo"),
    ("5.7 unmasked ping", bytes.fromhex("890548656c6c6f"), True, 9, False, None, b"Hello"),
    (
        "5.7 masked pong",
        bytes.fromhex("8a8537fa213d7f9f4d5158"),
        True,
        10,
        True,
        bytes.fromhex("37fa213d"),
        b"Hello",
    ),
    ("5.7 256 bytes binary", b"\x82\x7e\x01\x00" + B256, True, 2, False, None, B256),
    (
        "5.7 64 KiB binary",
        b"\x82\x7f" + struct.pack("!Q", 65536) + B64K,
        True,
        2,
        False,
        None,
        B64K,
    ),
    ("empty close", b"\x88\x00", True, 8, False, None, b""),
    ("empty binary", b"\x82\x00", True, 2, False, None, b""),
    ("125 bytes", b"\x82\x7d" + B256[:125], True, 2, False, None, B256[:125]),
    ("126 bytes", b"\x82\x7e\x00\x7e" + B256[:126], True, 2, False, None, B256[:126]),
    (
        "65535 bytes",
        b"\x82\x7e\xff\xff" + B64K[:65535],
        True,
        2,
        False,
        None,
        B64K[:65535],
    ),
]

#: RFC 6455 §1.3: the sample nonce and the accept value a server derives.
HANDSHAKE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
HANDSHAKE_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
HANDSHAKE_RESPONSE = (
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {HANDSHAKE_ACCEPT}\r\n"
    "Sec-WebSocket-Protocol: chat\r\n"
    "\r\n"
)


def buffer_kinds(data: bytes):
    """The same bytes as bytes, bytearray, memoryview and a strided view."""
    doubled = bytearray(len(data) * 2)
    doubled[::2] = data
    strided = memoryview(doubled)[::2]
    assert not strided.c_contiguous or len(data) <= 1
    return [data, bytearray(data), memoryview(data), strided]
