"""Mistakes the types must catch (tests/test_typing.py expects each error)."""

import websocket

ws = websocket.connect("ws://127.0.0.1/", timeout="3")  # E: arg-type
msg = ws.receive()
msg["code"]  # E: typeddict-item
ws.receive_into(bytearray(10), timeout="1")  # E: arg-type
websocket.connect("ws://127.0.0.1/", no_such_option=1)  # E: call-arg
