"""The trace of frames on the ``websocket.frames`` logger.

Switched on per connection, when it opens, by the logger's level::

    logging.basicConfig()
    logging.getLogger("websocket.frames").setLevel(logging.DEBUG)

``WsClient`` binds its per-message callables once per connection (the
encoder's ``encode`` and ``send_to``, the parser's ``next_message``,
receive()'s fast path);
:func:`trace_frames` replaces those bindings on one connection with
wrappers that log, so a connection opened without the trace runs exactly
the code it runs without this module: the cost when off is one
``isEnabledFor`` per connection (the README's "Logging" has the
measurement).

Logged: every frame this client writes (data frames, pings, pongs and
close frames, including the replies the protocol queues) and every message
``receive()`` and iteration return, with opcode, size and the first bytes.
``receive_into()`` and ``receive_streaming()`` copy payloads without making
message objects and are not traced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["frames_logger", "trace_frames", "describe"]

frames_logger = logging.getLogger("websocket.frames")

_OPCODES = {0: "CONT", 1: "TEXT", 2: "BINARY", 8: "CLOSE", 9: "PING", 10: "PONG"}
_SHOWN = 32  # payload bytes (or characters) shown per line


def describe(opcode: int | str, payload: Any, fin: bool = True, compressed: bool = False) -> str:
    """One line for a frame or message: ``TEXT 5 B 'hello'``."""
    name = _OPCODES.get(opcode, str(opcode)) if isinstance(opcode, int) else opcode.upper()
    if isinstance(payload, str):
        size = len(payload.encode("utf-8", "surrogatepass"))
        head: Any = payload[:_SHOWN]
    else:
        data = bytes(memoryview(payload).cast("B")[:_SHOWN])
        size = memoryview(payload).nbytes
        head = data
    more = "..." if size > _SHOWN else ""
    flags = ("" if fin else " fin=0") + (" rsv1" if compressed else "")
    return f"{name}{flags} {size} B {head!r}{more}"


def trace_frames(ws: Any) -> None:
    """Log the frames of connection ``ws`` (a WsClient) from now on."""
    log = frames_logger.debug
    url = ws.url

    encode = ws._encode

    def traced_encode(opcode: int, payload: Any, fin: bool = True, compressed: bool = False) -> Any:
        log("%s > %s", url, describe(opcode, payload, fin, compressed))
        return encode(opcode, payload, fin, compressed)

    send_to = ws._send_to

    def traced_send_to(fd: int, opcode: int, payload: Any, *args: Any) -> Any:
        log("%s > %s", url, describe(opcode, payload, *args))
        return send_to(fd, opcode, payload, *args)

    def received(msg: Any) -> Any:
        if msg:  # (not None, nor receive_ready's False)
            if msg["type"] == "close":
                log("%s < CLOSE %s %r", url, msg["code"], msg["reason"])
            else:
                log("%s < %s", url, describe(msg["type"], msg["data"]))
        return msg

    next_message = ws._next_message

    def traced_next_message() -> Any:
        return received(next_message())

    receive_ready = ws._engine.receive_ready

    def traced_receive_ready(timeout: Any = None) -> Any:
        return received(receive_ready(timeout))

    encoder_class = ws._encoder_class

    class TracedEncoder:
        """send_many()'s own encoder, traced."""

        def __init__(self, *args: Any) -> None:
            self._encode: Callable[..., Any] = encoder_class(*args).encode

        def encode(self, opcode: int, payload: Any, *args: Any) -> Any:
            log("%s > %s", url, describe(opcode, payload, *args))
            return self._encode(opcode, payload, *args)

    ws._encode = traced_encode
    ws._send_to = traced_send_to
    ws._next_message = traced_next_message
    # send()'s compiled fast path writes without the (traced) encoder:
    # every frame of a traced connection takes the full path instead.
    ws._send_data = lambda opcode, payload, compress, timeout: 0
    ws._engine.ready_hook = traced_receive_ready
    ws._encoder_class = TracedEncoder
