"""Wire constants and close-frame payloads (RFC 6455 §5.2, §5.5.1, §7.4).

Frames are encoded by the protocol (``_protocol.py``) and decoded by the
reader (``_reader.py``); this module holds the constants they share with
the shell and what is not on the hot path.
"""

from __future__ import annotations

import enum
import struct
from typing import TypedDict

from ._exceptions import ProtocolError

__all__ = [
    "Opcode",
    "CloseCode",
    "State",
    "Frame",
    "CloseInfo",
    "as_buffer",
    "encode_close_frame",
    "parse_close_frame",
]


def as_buffer(data: object, what: str) -> memoryview:
    """``data`` as a contiguous view of bytes; TypeError naming ``what``
    when it is not bytes-like."""
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{what} must be a bytes-like object, not {type(data).__name__}") from None
    if not view.c_contiguous or view.itemsize != 1 or view.ndim != 1:
        view = memoryview(view.tobytes())
    return view


class Frame(TypedDict):
    """What ``decode_frame()`` returns: one frame's fields (RFC 6455 §5.2)
    and ``size``, the bytes it took.  A plain dict at run time."""

    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: int
    masked: bool
    mask_key: bytes | None
    length: int
    payload: bytes
    size: int


class CloseInfo(TypedDict):
    """What ``parse_close_frame()`` returns (RFC 6455 §7.1.5, §7.1.6)."""

    code: int
    reason: str


class State(enum.IntEnum):
    """The state of a connection (RFC 6455 §4.1 _CONNECTING_, §4.1 _OPEN_,
    §7.1.3 _CLOSING_, §7.1.4 _CLOSED_).

    CLOSING means our close frame went out and the peer's has not come yet;
    a close received is answered at once, so that case goes straight to
    CLOSED.
    """

    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


class Opcode(enum.IntEnum):
    """Frame opcodes (RFC 6455 §5.2; %x3-7 and %xB-F are reserved)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


#: Opcodes with the high bit set are control frames (RFC 6455 §5.5).
CONTROL_OPCODES = frozenset({Opcode.CLOSE, Opcode.PING, Opcode.PONG})
DATA_OPCODES = frozenset({Opcode.CONTINUATION, Opcode.TEXT, Opcode.BINARY})


class CloseCode(enum.IntEnum):
    """Close status codes (RFC 6455 §7.4.1 and the IANA registry)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    # 1004 is reserved.
    NO_STATUS_RCVD = 1005  # never on the wire: "no code in the close frame"
    ABNORMAL_CLOSURE = 1006  # never on the wire: "TCP dropped without close"
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015  # never on the wire


#: Codes a close frame may carry: RFC 6455 §7.4.1 defines 1000-1003 and
#: 1007-1011, IANA registered 1012-1014, and §7.4.2 leaves 3000-4999 to
#: libraries, frameworks and applications.  1004-1006 and 1015 "MUST NOT be
#: set as a status code in a Close control frame".
_WIRE_CODES = frozenset(range(1000, 1004)) | frozenset(range(1007, 1015))


def is_valid_close_code(code: int) -> bool:
    """True if ``code`` may appear in a close frame (RFC 6455 §7.4)."""
    return code in _WIRE_CODES or 3000 <= code <= 4999


#: A control frame payload is at most 125 bytes (RFC 6455 §5.5), and the
#: close code takes two of them.
MAX_CLOSE_REASON = 123


def encode_close_frame(code: int, reason: str = "") -> bytes:
    """Build the payload of a close frame (RFC 6455 §5.5.1).

    Args:
        code: a status code allowed on the wire (1000-1003, 1007-1014,
            3000-4999).
        reason: a reason of at most 123 bytes once UTF-8 encoded.

    Returns:
        The 2-byte big-endian code followed by the UTF-8 reason.

    Raises:
        TypeError: ``code`` is not an int or ``reason`` not a str.
        ValueError: the code may not be sent, or the reason is too long.
    """
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError(f"close code must be an int, not {type(code).__name__}")
    if not isinstance(reason, str):
        raise TypeError(f"close reason must be a str, not {type(reason).__name__}")
    if not is_valid_close_code(code):
        raise ValueError(f"invalid close code {code}")
    data = reason.encode("utf-8")
    if len(data) > MAX_CLOSE_REASON:
        raise ValueError(
            f"close reason of {len(data)} bytes exceeds {MAX_CLOSE_REASON} bytes"
        )
    return struct.pack("!H", code) + data


def parse_close_frame(payload: bytes) -> CloseInfo:
    """Parse the payload of a received close frame (RFC 6455 §5.5.1, §7.1.5).

    Args:
        payload: the (unmasked) close frame payload; any bytes-like object.

    Returns:
        ``{"code": int, "reason": str}``; an empty payload gives code 1005
        ("no status received") and an empty reason.

    Raises:
        TypeError: ``payload`` is not bytes-like (an int is no length here).
        ProtocolError: a 1-byte payload or a code that may not be sent
            (close code 1002), or a reason that is not UTF-8 (1007).
    """
    try:
        data = bytes(memoryview(payload))
    except TypeError:
        raise TypeError(f"close payload must be bytes-like, not {type(payload).__name__}") from None
    if not data:
        return {"code": int(CloseCode.NO_STATUS_RCVD), "reason": ""}
    if len(data) == 1:
        raise ProtocolError("close frame payload of 1 byte: the code needs 2")
    (code,) = struct.unpack_from("!H", data)
    if not is_valid_close_code(code):
        raise ProtocolError(f"invalid close code {code}")
    try:
        reason = data[2:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"close reason is not valid UTF-8 at byte {exc.start + 2}", 1007
        ) from None
    return {"code": code, "reason": reason}
