"""The trace of frames on the ``websocket.frames`` logger.

Switched on per connection, when it opens, by the logger's level::

    logging.basicConfig()
    logging.getLogger("websocket.frames").setLevel(logging.DEBUG)

Every frame this client writes is made by the protocol's
:class:`~websocket._writer.FrameWriter`, which calls its ``on_frame`` hook
when one is set; every message ``receive()`` returns passes the engine's
``on_message`` hook (``Engine.receive``).  :func:`trace_frames` sets those
two hooks on one connection, so a connection
opened without the trace runs exactly the code it runs without this
module: the cost when off is one ``isEnabledFor`` per connection (the
README's "Logging" has the measurement).

Logged: every frame this client writes (data frames, pings, pongs and
close frames, including the replies the protocol queues) and every message
``receive()`` and iteration return, with opcode, size and the first bytes.
``receive_into()`` and ``receive_streaming()`` copy payloads without making
message objects and are not traced.
"""

from __future__ import annotations

import logging
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

    def frame_made(opcode: int, payload: Any, fin: bool, rsv1: bool) -> None:
        log("%s > %s", url, describe(opcode, payload, fin, rsv1))

    def received(msg: Any) -> None:
        if msg["type"] == "close":
            log("%s < CLOSE %s %r", url, msg["code"], msg["reason"])
        else:
            log("%s < %s", url, describe(msg["type"], msg["data"]))

    # Every frame this side writes is made by the protocol's writer, which
    # calls on_frame; send()'s compiled fast path, which writes without
    # making the frame, is then not taken (Engine.plain).  Every message
    # receive() returns, from the fast path or the full receive, passes
    # the engine's on_message.
    ws._proto.writer.on_frame = frame_made
    ws._engine.plain = False
    ws._engine.on_message = received
