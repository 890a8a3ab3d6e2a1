"""A user's script, type-checked with ``mypy --strict`` by tests/test_typing.py:
what a typed program sees of the package."""

from __future__ import annotations

import json

from typing_extensions import assert_type

import websocket
from websocket import (
    BufferTooSmall,
    CloseInfo,
    ConnectionClosed,
    Frame,
    Message,
    TextBytesMessage,
    TextMessage,
    URLParts,
    WsClient,
)


def handle(msg: Message) -> str:
    if msg["type"] == "close":
        assert_type(msg["code"], int)
        assert_type(msg["reason"], str)
        return f"closed {msg['code']}"
    if msg["type"] == "binary":
        assert_type(msg["data"], bytes)
        return msg["data"].hex()
    assert_type(msg["data"], str | bytes)
    data = msg["data"]
    return data if isinstance(data, str) else data.decode()


def main(url: str) -> None:
    assert_type(websocket.implementation, str)
    assert_type(websocket.__version__, str)
    ws = websocket.connect(url, timeout=5.0, subprotocols=["chat"], max_size=2**20)
    assert_type(ws, WsClient)
    ws.send(json.dumps({"hello": 1}))
    ws.send(b"\x00\x01")
    ws.send(iter([b"piece", b"wise"]))
    print(handle(ws.receive(timeout=1.0)))
    buffer = bytearray(4096)
    try:
        size, kind = ws.receive_into(buffer)
        assert_type(size, int)
        assert_type(kind, str)
    except BufferTooSmall as exc:
        print(exc.size, exc.buffer_size)
    with ws.receive_streaming() as stream:
        for piece in stream:
            print(len(piece))
    for msg in ws:
        print(handle(msg))
    try:
        ws.close(1000, "bye")
    except ConnectionClosed as exc:
        print(exc.code, exc.reason)


def default_text_is_str(url: str) -> None:
    # decode_text=True (the default): text data is str, no isinstance needed.
    ws = websocket.connect(url)
    msg = ws.receive()
    if msg["type"] == "text":
        assert_type(msg["data"], str)
        print(msg["data"].upper())
    for item in ws:
        if item["type"] == "text":
            assert_type(item["data"], str)
    with WsClient(url, compression="deflate", send_timeout=2.0) as client:
        assert_type(client, WsClient[TextMessage])
        client.send_binary(memoryview(b"abc"))
        client.send_binary([1, 2, 3])
        client.send_binary(bytearray(2), compress=False, timeout=0.5)


def text_as_bytes(url: str, flag: bool) -> None:
    ws = WsClient(url, decode_text=False)
    assert_type(ws, WsClient[TextBytesMessage])
    msg = ws.receive()
    if msg["type"] == "text":
        assert_type(msg["data"], bytes)
    either = websocket.connect(url, decode_text=flag)
    got = either.receive()
    if got["type"] == "text":
        assert_type(got["data"], str | bytes)
    for conn in websocket.reconnecting(url, max_attempts=3, decode_text=False, timeout=1.0):
        assert_type(conn, WsClient[TextBytesMessage])


def annotated(ws: WsClient) -> str:
    # A bare annotation is the default: WsClient[TextMessage].
    msg = ws.receive()
    return msg["data"] if msg["type"] == "text" else ""


def helpers() -> None:
    frame = websocket.decode_frame(websocket.encode_frame(websocket.Opcode.TEXT, "hi"))
    assert_type(frame, Frame)
    assert_type(frame["payload"], bytes)
    assert_type(frame["mask_key"], bytes | None)
    close = websocket.parse_close_frame(b"\x03\xe8bye")
    assert_type(close, CloseInfo)
    assert_type(close["code"], int)
    parts = websocket.parse_url("wss://example.com/feed")
    assert_type(parts, URLParts)
    assert_type(parts["port"], int)
    assert_type(parts["secure"], bool)
