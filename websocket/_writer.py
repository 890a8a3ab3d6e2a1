"""The frames this client writes, decided in one place (RFC 6455 §5.2-§5.5,
RFC 7692 §6-§7): the sending side of the protocol, as ``_reader.py`` is
its receiving side.

:class:`FrameWriter` turns a message, a piece of a fragmented message or a
control frame into masked frame bytes, choosing the opcode of each frame
(continuation frames after the first), FIN, RSV1 (on the first frame of a
compressed message only) and the compression (one deflate stream per
message, in the compressor's order).  It does no I/O: the engine and the
connection write what it returns, under the send lock, which is also what
makes its calls follow one another (the mask keys and the compressor's
history are one sequence per connection).

Compiled in pure-Python mode like the other rooms (``_writer.pxd``).
"""

from __future__ import annotations

from typing import Any

from ._limits import CONTROL_MAX

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_writer.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403

__all__ = ["FrameWriter", "control_payload"]

_CONTINUATION = 0


class FrameWriter:
    """Frames for one connection, masked with its encoder's keys.

    Attributes:
        encoder: the connection's ``FrameEncoder`` (mask keys, framing);
            the engine's fast path writes a whole data frame with it
            directly (``send_to``), which is :meth:`message` uncompressed.
        deflater: compresses messages once permessage-deflate was agreed
            (``Deflater``), else None.
        on_frame: None, or a callable given ``(opcode, payload, fin,
            rsv1)`` for every frame made here before it is encoded (the
            frame trace, ``_trace.py``, which also turns the engine's fast
            path off, so that every frame is made here).
    """

    def __init__(self, encoder: Any = None) -> None:
        self.encoder = new_encoder(True) if encoder is None else encoder
        self.deflater: Any = None
        self.on_frame: Any = None
        # The message in pieces being written: its opcode (text or binary)
        # until its final frame, else -1; whether its next frame is the
        # first; whether it is compressed.
        self._opcode = -1
        self._first = False
        self._compressed = False

    def compresses(self, compress: object) -> bool:
        """Whether a message sent with the ``compress`` option (None, True
        or False) is compressed: when deflate was agreed, unless False (RFC
        7692 §6 lets any message go uncompressed)."""
        return self.deflater is not None and compress is not False

    def message(self, opcode: int, payload: Any, compress: bool) -> Any:
        """One whole data message (``opcode`` 1 text, with ``payload`` a str
        or its UTF-8; 2 binary) as one frame; compressed (RSV1, RFC 7692
        §6.1) when ``compress`` and deflate was agreed.

        The result is valid until the next call (``FrameEncoder.encode``).

        Raises:
            UnicodeEncodeError: a str with no UTF-8, before the compressor
                has taken any of it.
        """
        rsv1 = False
        if compress and self.deflater is not None:
            payload = self.deflater.compress(payload)
            rsv1 = True
        return self._frame(opcode, payload, True, rsv1)

    def batch(self) -> FrameWriter:
        """A writer for messages framed outside the send lock (``send_many``
        encodes a batch while the iterable runs): its own encoder and mask
        keys, never compressing (compressed messages must be made in the
        compressor's order, under the lock), traced like this one."""
        writer = FrameWriter()
        writer.on_frame = self.on_frame
        return writer

    def begin(self, opcode: int, compress: bool) -> None:
        """Start a message sent in pieces (RFC 6455 §5.4): text (1) or
        binary (2), compressed when ``compress`` and deflate was agreed.
        Its frames are then made by :meth:`fragment`."""
        self._opcode = opcode
        self._first = True
        self._compressed = compress and self.deflater is not None

    def fragment(self, payload: Any, final: bool) -> Any:
        """The next frame of the message :meth:`begin` started: the first
        has its opcode (and RSV1 when compressed, RFC 7692 §6.1), the
        others are continuation frames of the same deflate stream (§7.2.1);
        ``final`` ends the message."""
        if self._opcode < 0:
            raise RuntimeError("fragment() without begin(): no message is being sent in pieces")
        data = payload
        if self._compressed:
            data = self.deflater.compress(payload, final)
        first = self._first
        self._first = False
        frame = self._frame(self._opcode if first else _CONTINUATION, data, final, self._compressed and first)
        if final:
            self._opcode = -1
        return frame

    def end_fragments(self) -> None:
        """Forget the message in pieces in progress (it ended early: the
        connection fails, or none of it was written)."""
        self._opcode = -1

    def control(self, opcode: int, payload: bytes) -> Any:
        """A control frame (close 8, ping 9, pong 10) of a payload that
        :func:`control_payload` made, or the protocol's own (a pong's echo,
        a close frame's code and reason: 125 bytes at most already)."""
        return self._frame(opcode, payload, True, False)

    def _frame(self, opcode: int, payload: Any, fin: bool, rsv1: bool) -> Any:
        if self.on_frame is not None:
            self.on_frame(opcode, payload, fin, rsv1)
        return self.encoder.encode(opcode, payload, fin, rsv1)



def control_payload(what: str, data: object) -> bytes:
    """The payload of a ping or pong a caller gives (str as UTF-8, any
    bytes-like object), checked before anything is sent.

    Raises:
        TypeError: neither str nor bytes-like.
        ValueError: over 125 bytes (RFC 6455 §5.5).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        payload = bytes(memoryview(data))  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} data must be bytes-like or str, not {type(data).__name__}") from None
    if len(payload) > CONTROL_MAX:
        raise ValueError(f"{what} payload of {len(payload)} bytes exceeds {CONTROL_MAX}")
    return payload
