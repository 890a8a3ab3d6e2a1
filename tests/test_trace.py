"""The frame trace (websocket/_trace.py): the writer's ``on_frame`` and the
engine's ``on_message`` hooks, against a real server."""

from __future__ import annotations

import logging

import pytest

from websocket import WsClient

from .servers import T, ws_server


def _lines(caplog, arrow):
    return [r.getMessage().split(arrow, 1)[1] for r in caplog.records if arrow in r.getMessage()]


def test_every_message_received_is_traced_from_either_path(caplog):
    # /fragments sends a fragmented text message with pings between its
    # frames (the full receive), then echoes (the fast path's whole frames).
    with ws_server() as url, caplog.at_level(logging.DEBUG, logger="websocket.frames"):
        with WsClient(url + "/fragments", timeout=T) as ws:
            assert ws._engine.on_message is not None
            kinds = [ws.receive()["type"] for _ in range(5)]
            assert kinds == ["ping", "ping", "text", "ping", "binary"]
            ws.send("whole")
            assert ws.receive(timeout=T)["data"] == "whole"
            ws.send_binary(b"\x07" * 3)
            assert ws.receive()["data"] == b"\x07" * 3
    got = [line.split(" ")[0] for line in _lines(caplog, " < ")]
    assert got == ["PING", "PING", "TEXT", "PING", "BINARY", "TEXT", "BINARY"]
    assert _lines(caplog, " < ")[2] == "TEXT 12 B 'hello w\u00f6rld'"


def test_a_hook_that_raises_loses_no_message():
    # on_message runs before the message leaves the parser: if it raises
    # (a logging handler's failure, a signal handler run in it), the next
    # receive returns the same message.
    with ws_server() as url, WsClient(url + "/echo", timeout=T) as ws:
        calls = []

        def hook(msg):
            calls.append(msg["data"])
            if len(calls) == 1:
                raise RuntimeError("handler failed")

        ws._engine.on_message = hook
        ws.send("one")
        ws.send("two")
        with pytest.raises(RuntimeError):
            ws.receive()
        assert ws.receive()["data"] == "one"
        assert ws.receive()["data"] == "two"
        assert calls == ["one", "one", "two"]


def test_an_untraced_connection_has_no_hooks():
    with ws_server() as url, WsClient(url + "/echo", timeout=T) as ws:
        assert ws._engine.on_message is None and ws._proto.writer.on_frame is None
        ws.send("x")
        assert ws.receive()["data"] == "x"
