"""websocket-client's ``websocket._abnf`` on this package: :class:`ABNF`,
the ``STATUS_*`` close codes, and its frame readers :class:`frame_buffer`
and :class:`continuous_frame`.

Programs written for websocket-client import these from here directly.
Frames are encoded and parsed by this package's one encoder and header
parser (:func:`websocket.encode_frame`, :func:`websocket.decode_frame`),
so every check they make holds here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._codec import parser as _parser
from ._codec import protocol as _protocol
from ._codec import speedups as _speedups
from ._exceptions import IncompleteFrame, WebSocketPayloadException, WebSocketProtocolException
from ._frames import parse_close_frame
from ._limits import CONTROL_MAX

__all__ = [
    "ABNF",
    "continuous_frame",
    "frame_buffer",
    "STATUS_NORMAL",
    "STATUS_GOING_AWAY",
    "STATUS_PROTOCOL_ERROR",
    "STATUS_UNSUPPORTED_DATA_TYPE",
    "STATUS_STATUS_NOT_AVAILABLE",
    "STATUS_ABNORMAL_CLOSED",
    "STATUS_INVALID_PAYLOAD",
    "STATUS_POLICY_VIOLATION",
    "STATUS_MESSAGE_TOO_BIG",
    "STATUS_INVALID_EXTENSION",
    "STATUS_UNEXPECTED_CONDITION",
    "STATUS_SERVICE_RESTART",
    "STATUS_TRY_AGAIN_LATER",
    "STATUS_BAD_GATEWAY",
    "STATUS_TLS_HANDSHAKE_ERROR",
]

# RFC 6455 §7.4.1 close codes under websocket-client's names.
STATUS_NORMAL = 1000
STATUS_GOING_AWAY = 1001
STATUS_PROTOCOL_ERROR = 1002
STATUS_UNSUPPORTED_DATA_TYPE = 1003
STATUS_STATUS_NOT_AVAILABLE = 1005
STATUS_ABNORMAL_CLOSED = 1006
STATUS_INVALID_PAYLOAD = 1007
STATUS_POLICY_VIOLATION = 1008
STATUS_MESSAGE_TOO_BIG = 1009
STATUS_INVALID_EXTENSION = 1010
STATUS_UNEXPECTED_CONDITION = 1011
STATUS_SERVICE_RESTART = 1012
STATUS_TRY_AGAIN_LATER = 1013
STATUS_BAD_GATEWAY = 1014
STATUS_TLS_HANDSHAKE_ERROR = 1015


class ABNF:
    """One frame, as websocket-client models it (RFC 6455 §5.2).

    ``format()`` encodes it with this package's encoder; frames are masked
    with keys from the OS CSPRNG.
    """

    OPCODE_CONT = 0x0
    OPCODE_TEXT = 0x1
    OPCODE_BINARY = 0x2
    OPCODE_CLOSE = 0x8
    OPCODE_PING = 0x9
    OPCODE_PONG = 0xA
    OPCODES = (OPCODE_CONT, OPCODE_TEXT, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG)
    OPCODE_MAP = {
        OPCODE_CONT: "cont",
        OPCODE_TEXT: "text",
        OPCODE_BINARY: "binary",
        OPCODE_CLOSE: "close",
        OPCODE_PING: "ping",
        OPCODE_PONG: "pong",
    }
    LENGTH_7 = 0x7E
    LENGTH_16 = 1 << 16
    LENGTH_63 = 1 << 63

    def __init__(
        self,
        fin: int = 0,
        rsv1: int = 0,
        rsv2: int = 0,
        rsv3: int = 0,
        opcode: int = OPCODE_TEXT,
        mask_value: int = 1,
        data: str | bytes | None = "",
    ) -> None:
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.mask_value = mask_value
        #: The payload as given: a str stays a str (sent as UTF-8).
        self.data: str | bytes = b"" if data is None else data

    def _payload(self) -> bytes:
        data = self.data
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)

    @staticmethod
    def mask(mask_key: str | bytes, data: str | bytes) -> bytes:
        """XOR ``data`` with the 4-byte ``mask_key`` (RFC 6455 §5.3): masks
        and unmasks alike.  A str is taken as its UTF-8 bytes."""
        key = mask_key.encode("utf-8") if isinstance(mask_key, str) else bytes(mask_key)
        if len(key) != 4:
            raise ValueError(f"mask_key must be 4 bytes, got {len(key)}")
        payload = data.encode("utf-8") if isinstance(data, str) else data
        result: bytes = _speedups.mask(payload, key)
        return result

    @staticmethod
    def create_frame(data: str | bytes, opcode: int, fin: int = 1) -> ABNF:
        """A masked frame carrying ``data`` (str is encoded as UTF-8)."""
        return ABNF(fin, 0, 0, 0, opcode, 1, data)

    def validate(self, skip_utf8_validation: bool = False) -> None:
        """Raise WebSocketProtocolException if this frame breaks RFC 6455."""
        if self.rsv1 or self.rsv2 or self.rsv3:
            raise WebSocketProtocolException("rsv is not implemented, yet")
        if self.opcode not in ABNF.OPCODES:
            raise WebSocketProtocolException(f"invalid opcode {self.opcode:#x}")
        payload = self._payload()
        if self.opcode >= ABNF.OPCODE_CLOSE:
            if not self.fin:
                raise WebSocketProtocolException("fragmented control frame")
            if len(payload) > CONTROL_MAX:
                raise WebSocketProtocolException(f"control frame of {len(payload)} bytes exceeds {CONTROL_MAX}")
        if self.opcode == ABNF.OPCODE_CLOSE and payload:
            parse_close_frame(payload)
        if self.opcode == ABNF.OPCODE_TEXT and self.fin and not skip_utf8_validation:
            try:
                payload.decode("utf-8")
            except UnicodeDecodeError:
                raise WebSocketProtocolException("invalid UTF-8 in text frame", 1007) from None

    def format(self) -> bytes:
        """The frame's bytes on the wire."""
        for name in ("fin", "rsv1", "rsv2", "rsv3"):
            if getattr(self, name) not in (0, 1):
                raise ValueError(f"{name} must be 0 or 1, got {getattr(self, name)!r}")
        if self.opcode not in ABNF.OPCODES:
            raise ValueError(f"invalid opcode {self.opcode!r}")
        frame: bytes = _protocol.encode_frame(
            self.opcode,
            self._payload(),
            bool(self.mask_value),
            fin=bool(self.fin),
            rsv1=bool(self.rsv1),
            rsv2=bool(self.rsv2),
            rsv3=bool(self.rsv3),
        )
        return frame

    def __str__(self) -> str:
        return f"fin={self.fin} opcode={self.opcode} data={self.data!r}"

    def __repr__(self) -> str:
        return f"<ABNF {self}>"


#: The most one call to ``recv_fn`` is asked for.
_READ_MAX = 1 << 20


class frame_buffer:  # noqa: N801 - websocket-client's name
    """Reads whole frames from ``recv_fn(n)`` (a function returning up to
    ``n`` bytes, as a socket's ``recv``), as websocket-client's reader does.

    Args:
        recv_fn: returns the next bytes; an empty result is the end of the
            stream (WebSocketProtocolException: the frame is cut short).
        skip_utf8_validation: leave a text frame's UTF-8 unchecked.
    """

    def __init__(self, recv_fn: Callable[[int], bytes], skip_utf8_validation: bool) -> None:
        self.recv = recv_fn
        self.skip_utf8_validation = skip_utf8_validation
        self._buf = bytearray()

    def recv_strict(self, bufsize: int) -> bytes:
        """Exactly ``bufsize`` bytes (from what is buffered, then recv_fn)."""
        while len(self._buf) < bufsize:
            self._more(bufsize - len(self._buf))
        data = bytes(self._buf[:bufsize])
        del self._buf[:bufsize]
        return data

    def _more(self, wanted: int) -> None:
        chunk = self.recv(min(max(wanted, 1), _READ_MAX))
        if not chunk:
            raise WebSocketProtocolException(
                f"the stream ended inside a frame ({len(self._buf)} bytes of it read)"
            )
        self._buf += chunk

    def recv_frame(self) -> ABNF:
        """The next frame, unmasked, checked (RFC 6455 §5.2) and returned
        as an :class:`ABNF` whose ``mask_value`` says whether it was masked."""
        while True:
            try:
                frame: dict[str, Any] = _parser.decode_frame(self._buf)
                break
            except IncompleteFrame as exc:
                self._more(exc.needed - len(self._buf) if exc.needed else 2)
        del self._buf[: frame["size"]]
        result = ABNF(
            int(frame["fin"]),
            int(frame["rsv1"]),
            int(frame["rsv2"]),
            int(frame["rsv3"]),
            frame["opcode"],
            int(frame["masked"]),
            frame["payload"],
        )
        result.validate(self.skip_utf8_validation)
        return result


class continuous_frame:  # noqa: N801 - websocket-client's name
    """Joins a fragmented message's frames (RFC 6455 §5.4), as
    websocket-client's reader does: :meth:`validate` each data frame, then
    :meth:`add` it; when :meth:`is_fire`, :meth:`extract` the message.

    Args:
        fire_cont_frame: fire on every fragment instead of the whole message.
        skip_utf8_validation: leave a whole text message's UTF-8 unchecked.
    """

    def __init__(self, fire_cont_frame: bool, skip_utf8_validation: bool) -> None:
        self.fire_cont_frame = fire_cont_frame
        self.skip_utf8_validation = skip_utf8_validation
        self.cont_data: list[Any] | None = None
        self.recving_frames: int | None = None

    def validate(self, frame: ABNF) -> None:
        """A continuation with no message begun, or a new message before the
        last one ended, is a protocol error."""
        if not self.recving_frames and frame.opcode == ABNF.OPCODE_CONT:
            raise WebSocketProtocolException("continuation frame with no message begun")
        if self.recving_frames and frame.opcode in (ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY):
            raise WebSocketProtocolException(
                f"a new message (opcode {frame.opcode:#x}) began before the last one ended"
            )

    def add(self, frame: ABNF) -> None:
        payload = frame._payload()
        if self.cont_data is not None:
            self.cont_data[1] += payload
        else:
            if frame.opcode in (ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY):
                self.recving_frames = frame.opcode
            self.cont_data = [frame.opcode, payload]
        if frame.fin:
            self.recving_frames = None

    def is_fire(self, frame: ABNF) -> bool:
        return bool(frame.fin) or self.fire_cont_frame

    def extract(self, frame: ABNF) -> tuple[int, ABNF]:
        """The message so far, as ``(opcode, frame)``: the frame gets the
        whole payload; a whole text message's UTF-8 is checked."""
        assert self.cont_data is not None, "extract() before add()"
        opcode, data = self.cont_data
        self.cont_data = None
        frame.data = bytes(data)
        if (
            not self.fire_cont_frame
            and opcode == ABNF.OPCODE_TEXT
            and not self.skip_utf8_validation
        ):
            try:
                frame.data.decode("utf-8")
            except UnicodeDecodeError:
                raise WebSocketPayloadException(
                    f"invalid UTF-8 in a text message of {len(frame.data)} bytes"
                ) from None
        return opcode, frame
