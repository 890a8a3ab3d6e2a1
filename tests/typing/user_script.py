"""A user's script, type-checked with ``mypy --strict`` by tests/test_typing.py:
what a typed program sees of the package."""

from __future__ import annotations

import json

from typing_extensions import assert_type

import websocket
from websocket import BufferTooSmall, ConnectionClosed, Message, WsClient


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
