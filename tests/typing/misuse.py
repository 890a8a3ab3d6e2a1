"""Mistakes the types must catch (tests/test_typing.py expects each error)."""

import websocket

websocket.connect("ws://127.0.0.1/", timeout="3")  # E: call-overload
websocket.connect("ws://127.0.0.1/", no_such_option=1)  # E: call-overload
websocket.WsClient("ws://127.0.0.1/", compression="gzip")  # E: call-overload
ws = websocket.connect("ws://127.0.0.1/")
msg = ws.receive()
msg["code"]  # E: typeddict-item
ws.receive_into(bytearray(10), timeout="1")  # E: arg-type
ws.send_binary("text")  # E: arg-type
if msg["type"] == "text":
    msg["data"].decode()  # E: attr-defined
raw = websocket.connect("ws://127.0.0.1/", decode_text=False).receive()
if raw["type"] == "text":
    raw["data"].casefold()  # E: attr-defined
websocket.decode_frame(b"")["opcodes"]  # E: typeddict-item
websocket.parse_url("ws://h/")["query"]  # E: typeddict-item
