"""Pure-Python codec: the twin of ``_speedups.pyx`` (RFC 6455 §5).

Both twins export the same names with the same signatures, return the same
results and raise the same exceptions; ``_speedups.pyi`` is the contract and
``tests/test_codec*.py`` run every test on both.  ``_codec.py`` picks one.

Length encoding (RFC 6455 §5.2): "in all cases, the minimal number of bytes
MUST be used to encode the length".  Both twins reject a non-minimal length
(a 16-bit length below 126, a 64-bit length below 65536) with ProtocolError
(close code 1002), as they reject a 64-bit length with the top bit set.
"""

from __future__ import annotations

import _thread
import codecs
import os
import struct
import sys

from ._exceptions import IncompleteFrame, MessageTooBig, ProtocolError

__all__ = [
    "HAVE_FD_IO",
    "mask",
    "mask_into",
    "encode_frame",
    "decode_frame",
    "validate_utf8",
    "Utf8Validator",
    "FrameEncoder",
    "FrameParser",
    "FastLock",
]

_RESERVED_OPCODES = frozenset(range(3, 8)) | frozenset(range(0xB, 0x10))
#: Frames at least this long that are not yet fully buffered are received
#: straight into their own payload object instead of the shared buffer.
BIG_FRAME = 64 * 1024
#: Encoded frames up to this size get a fresh bytes object; larger ones are
#: built in a reused buffer (fresh large buffers cost page faults).
REUSE_FROM = 64 * 1024
#: A reused send buffer larger than this is not kept after the frame.
REUSE_UP_TO = 16 * 1024 * 1024
_KEY_BLOCK = 1024  # mask keys drawn from the CSPRNG 256 at a time
HEADER_MAX = 14  # the longest frame header: 2 + 8 length + 4 mask key
#: get_buffer() offers at most this much per read.  Smaller reads hand TCP
#: receive-window space back to the sender sooner, so both ends work at once:
#: on loopback here 128 KiB reads moved 5.3 GB/s, 1 MiB reads 4.3 GB/s.
READ_MAX = 128 * 1024
#: FrameEncoder.send_to() works on this platform (not on Windows).
HAVE_FD_IO = sys.platform != "win32"


def _as_bytes(data, what="data") -> memoryview:
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            f"{what} must be a bytes-like object, not {type(data).__name__}"
        ) from None
    if not view.c_contiguous or view.itemsize != 1 or view.ndim != 1:
        view = memoryview(view.tobytes())
    return view


def _key(key) -> bytes:
    k = bytes(_as_bytes(key, "mask key"))
    if len(k) != 4:
        raise ValueError(f"mask key must be 4 bytes, got {len(k)}")
    return k


_XOR_PIECE = 65536  # a multiple of 4: the key's phase is the same in every piece


def _xor(data, key: bytes, phase: int = 0) -> bytes:
    """XOR with the repeated key on big integers, CPython's fastest pure
    route.  Larger inputs go in 64 KiB pieces, which stay in cache (2.5
    against 3.7 ms per MiB here); int.from_bytes and to_bytes bound it."""
    n = len(data)
    if n == 0:
        return b""
    phase &= 3
    if phase:
        key = key[phase:] + key[:phase]
    if n <= _XOR_PIECE:
        words = (n + 3) // 4
        stream = int.from_bytes(key * words, "little")
        out = (int.from_bytes(data, "little") ^ stream).to_bytes(4 * words, "little")
        return out if 4 * words == n else out[:n]
    view = memoryview(data)
    stream = int.from_bytes(key * (_XOR_PIECE // 4), "little")
    whole = n - n % _XOR_PIECE
    parts = [
        (int.from_bytes(view[off : off + _XOR_PIECE], "little") ^ stream).to_bytes(_XOR_PIECE, "little")
        for off in range(0, whole, _XOR_PIECE)
    ]
    if whole < n:
        parts.append(_xor(view[whole:], key))
    return b"".join(parts)


def mask(data, key, phase: int = 0) -> bytes:
    """Return ``data`` XOR the 4-byte ``key`` (RFC 6455 §5.3).

    ``phase`` is the offset modulo 4 of ``data`` within the payload, so a
    payload can be masked in chunks.  Masking twice unmasks.
    """
    view = _as_bytes(data)
    return _xor(view, _key(key), _phase(phase))


def _phase(phase) -> int:
    if not isinstance(phase, int) or isinstance(phase, bool):
        raise TypeError(f"phase must be an int, not {type(phase).__name__}")
    if phase < 0:
        raise ValueError(f"phase must be >= 0, got {phase}")
    return phase & 3


def mask_into(dst, src, key, phase: int = 0) -> int:
    """Write ``src`` XOR ``key`` into the writable buffer ``dst``.

    ``dst`` may be ``src`` (masking in place) and must be at least as long.
    Returns the phase to continue with: ``(phase + len(src)) % 4``.
    """
    out = memoryview(dst)
    if out.readonly:
        raise TypeError("dst must be a writable buffer")
    out = out.cast("B") if out.format != "B" else out
    view = _as_bytes(src)
    k, p = _key(key), _phase(phase)
    if len(out) < len(view):
        raise ValueError(f"dst of {len(out)} bytes is shorter than src of {len(view)}")
    out[: len(view)] = _xor(view, k, p)
    return (p + len(view)) & 3


def _check_opcode(opcode) -> int:
    if not isinstance(opcode, int) or isinstance(opcode, bool):
        raise TypeError(f"opcode must be an int, not {type(opcode).__name__}")
    if not 0 <= opcode <= 0xF:
        raise ValueError(f"invalid opcode {opcode}: must be 0-15")
    if opcode in _RESERVED_OPCODES:
        raise ValueError(f"reserved opcode 0x{opcode:x}")
    return opcode


def _payload(payload) -> memoryview:
    if isinstance(payload, str):
        return memoryview(payload.encode("utf-8"))
    return _as_bytes(payload, "payload")


def _header(fin, rsv1, rsv2, rsv3, opcode: int, length: int, masked) -> bytes:
    b0 = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
    b0 |= (0x20 if rsv2 else 0) | (0x10 if rsv3 else 0)
    m = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", b0, m | length)
    if length < 0x10000:
        return struct.pack("!BBH", b0, m | 126, length)
    return struct.pack("!BBQ", b0, m | 127, length)


def encode_frame(
    opcode,
    payload,
    masked=True,
    *,
    fin=True,
    rsv1=False,
    rsv2=False,
    rsv3=False,
    mask_key=None,
) -> bytes:
    """Encode one frame (RFC 6455 §5.2).

    Args:
        opcode: 0-2 or 8-10 (reserved opcodes raise ValueError).
        payload: str (sent as UTF-8) or any bytes-like object.
        masked: mask the payload, as a client must (RFC 6455 §5.3).
        fin, rsv1, rsv2, rsv3: the header bits.
        mask_key: 4 bytes; a fresh key from the OS CSPRNG when None.

    Raises:
        TypeError: a payload that is neither str nor bytes-like.
        ValueError: a reserved opcode, a fragmented control frame or one
            over 125 bytes, a mask key not 4 bytes long or given with
            ``masked=False``.
    """
    op = _check_opcode(opcode)
    data = _payload(payload)
    n = len(data)
    if op >= 8:
        if n > 125:
            raise ValueError(f"control frame payload of {n} bytes exceeds 125")
        if not fin:
            raise ValueError(f"control frame 0x{op:x} must not be fragmented")
    header = _header(fin, rsv1, rsv2, rsv3, op, n, masked)
    if not masked:
        if mask_key is not None:
            raise ValueError("mask_key given with masked=False")
        return header + data
    key = os.urandom(4) if mask_key is None else _key(mask_key)
    return header + key + _xor(data, key)


def _parse_header(buf, start: int, end: int):
    """Parse the frame header at ``buf[start:end]``.

    Returns the number of bytes needed to finish the header when it is
    incomplete (an int), else ``(fin, rsv1, rsv2, rsv3, opcode, masked,
    mask_key, length, header_length)``.  Raises ProtocolError for what no
    more bytes can fix.
    """
    avail = end - start
    if avail < 2:
        return 2
    b0 = buf[start]
    b1 = buf[start + 1]
    opcode = b0 & 0x0F
    fin = bool(b0 & 0x80)
    if opcode in _RESERVED_OPCODES:
        raise ProtocolError(f"reserved opcode 0x{opcode:x}")
    length = b1 & 0x7F
    if opcode >= 8:
        if not fin:
            raise ProtocolError(f"fragmented control frame (opcode 0x{opcode:x})")
        if length > 125:
            raise ProtocolError(
                f"control frame (opcode 0x{opcode:x}) with a payload over 125 bytes"
            )
    masked = bool(b1 & 0x80)
    hlen = 2
    if length == 126:
        hlen = 4
        if avail < hlen:
            return hlen
        (length,) = struct.unpack_from("!H", buf, start + 2)
        if length < 126:
            raise ProtocolError(
                f"payload length {length} in 16 bits: the minimal encoding is required"
            )
    elif length == 127:
        hlen = 10
        if avail < hlen:
            return hlen
        (length,) = struct.unpack_from("!Q", buf, start + 2)
        if length >> 63:
            raise ProtocolError(
                f"payload length 0x{length:016x} has the most significant bit set"
            )
        if length < 0x10000:
            raise ProtocolError(
                f"payload length {length} in 64 bits: the minimal encoding is required"
            )
    key = None
    if masked:
        if avail < hlen + 4:
            return hlen + 4
        key = bytes(buf[start + hlen : start + hlen + 4])
        hlen += 4
    return (
        fin,
        bool(b0 & 0x40),
        bool(b0 & 0x20),
        bool(b0 & 0x10),
        opcode,
        masked,
        key,
        length,
        hlen,
    )


def decode_frame(data) -> dict:
    """Decode the frame at the start of ``data`` (RFC 6455 §5.2).

    Returns:
        A dict: fin, rsv1, rsv2, rsv3, opcode, masked, mask_key (bytes or
        None), length, payload (bytes, unmasked), size (bytes consumed).
        Bytes after the frame are ignored.

    Raises:
        TypeError: ``data`` is not bytes-like.
        IncompleteFrame: ``data`` ends before the frame does.
        ProtocolError: a reserved opcode, a fragmented or oversized control
            frame, a non-minimal length or one with the top bit set.
    """
    # A bytes copy, not a view: a view alive in a raised exception's
    # traceback would stop the caller from growing its bytearray.
    view = data if isinstance(data, bytes) else _as_bytes(data).tobytes()
    n = len(view)
    header = _parse_header(view, 0, n)
    if isinstance(header, int):
        raise IncompleteFrame(header, n)
    fin, rsv1, rsv2, rsv3, opcode, masked, key, length, hlen = header
    size = hlen + length
    if n < size:
        raise IncompleteFrame(size, n)
    payload = view[hlen:size]
    if masked:
        payload = _xor(payload, key)
    return {
        "fin": fin,
        "rsv1": rsv1,
        "rsv2": rsv2,
        "rsv3": rsv3,
        "opcode": opcode,
        "masked": masked,
        "mask_key": key,
        "length": length,
        "payload": payload,
        "size": size,
    }


# Lead bytes whose second byte is restricted beyond 80..BF (RFC 3629 §4).
_SECOND = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}


class Utf8Validator:
    """Incremental UTF-8 validation (RFC 3629), state kept across chunks.

    ``feed()`` returns False from the chunk holding the first byte after
    which the input can no longer be valid UTF-8, and from then on.
    ``complete`` tells whether the bytes so far end on a character boundary.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._ok = True

    def reset(self) -> None:
        """Start over, as for a new message."""
        self._decoder.reset()
        self._ok = True

    def feed(self, data) -> bool:
        """Check the next chunk; False once the input is invalid."""
        if not self._ok:
            return False
        view = _as_bytes(data)
        try:
            self._decoder.decode(view)
        except UnicodeDecodeError:
            self._ok = False
            return False
        # CPython's decoder waits for a whole surrogate (ED A0..BF ..) before
        # failing; checking the pending bytes makes every case fail early.
        pending = self._decoder.getstate()[0]
        if len(pending) >= 2:
            low, high = _SECOND.get(pending[0], (0x80, 0xBF))
            if not low <= pending[1] <= high:
                self._ok = False
        return self._ok

    @property
    def valid(self) -> bool:
        """False once an invalid byte was fed."""
        return self._ok

    @property
    def complete(self) -> bool:
        """True when valid so far and not inside a multi-byte character."""
        return self._ok and not self._decoder.getstate()[0]


def validate_utf8(data) -> bool:
    """True if ``data`` is entirely valid UTF-8."""
    view = _as_bytes(data)
    try:
        codecs.decode(view, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


class FrameEncoder:
    """Encodes the frames of one connection (RFC 6455 §5.2, §5.3).

    Mask keys come from the OS CSPRNG in blocks of 256.  The contract lets
    ``encode()`` return a bytes-like object valid only until the next call
    (the compiled twin builds frames over 64 KiB in a reused buffer); this
    twin returns fresh bytes.
    """

    def __init__(self, mask: bool = True) -> None:
        self._mask = bool(mask)
        self._keys = b""
        self._key_pos = 0

    def _next_key(self) -> bytes:
        if self._key_pos >= len(self._keys):
            self._keys = os.urandom(_KEY_BLOCK)
            self._key_pos = 0
        key = self._keys[self._key_pos : self._key_pos + 4]
        self._key_pos += 4
        return key

    def encode(self, opcode: int, payload, fin: bool = True, rsv1: bool = False):
        """Return one frame holding ``payload`` (str is sent as UTF-8).

        The opcode and flags are trusted: the protocol checks them.
        """
        data = _payload(payload)
        header = _header(fin, rsv1, False, False, opcode, len(data), self._mask)
        if not self._mask:
            return header + data
        key = self._next_key()
        return header + key + _xor(data, key)

    def send_to(self, fd: int, opcode: int, payload, fin: bool = True, rsv1: bool = False) -> None:
        """Encode one frame and write all of it to the blocking socket fd.

        Raises:
            OSError: the write failed (the frame may be partly written).
        """
        if not HAVE_FD_IO:
            raise OSError(38, "send_to() is not available on this platform")
        view = memoryview(self.encode(opcode, payload, fin, rsv1))
        while len(view):
            view = view[os.write(fd, view) :]


class FrameParser:
    """Parses the frames a client receives, as they arrive (RFC 6455 §5).

    Sans-I/O: the caller receives into ``get_buffer()`` (or calls
    ``feed()``), reports with ``buffer_updated(n)``, and calls
    ``next_message()`` until it returns None.

    Enforced here: reserved bits and opcodes, masked frames (unless
    ``mask_allowed``), control frame rules (§5.5), continuation rules
    (§5.4), minimal lengths, ``max_size`` (before the payload arrives) and,
    for uncompressed text, UTF-8 validity checked as the bytes arrive
    (§8.1).  A violation raises ProtocolError (or MessageTooBig) from the
    call that would have returned the offending frame, and again from every
    later call.
    """

    def __init__(
        self,
        max_size: int | None = None,
        *,
        mask_allowed: bool = False,
        rsv1_allowed: bool = False,
        buffer_size: int = 256 * 1024,
    ) -> None:
        if max_size is not None:
            if not isinstance(max_size, int) or isinstance(max_size, bool):
                raise TypeError(f"max_size must be an int or None, not {type(max_size).__name__}")
            if max_size < 0:
                raise ValueError(f"max_size must be >= 0, got {max_size}")
        if buffer_size < 2 * BIG_FRAME:
            raise ValueError(f"buffer_size must be >= {2 * BIG_FRAME}, got {buffer_size}")
        self.max_size = max_size
        self._mask_allowed = bool(mask_allowed)
        self._rsv1_allowed = bool(rsv1_allowed)
        self._buf = bytearray(buffer_size)
        self._view = memoryview(self._buf)
        self._start = 0
        self._end = 0
        self._hdr = None  # header of the frame whose payload is incomplete
        self._checked = 0  # payload bytes of that frame unmasked and checked
        self._big = None  # its own payload buffer, for a big frame
        self._big_filled = 0
        self._after_big = False  # the last frame was big
        self._offered = 0  # the size of the last get_buffer()
        self._msg_opcode = 0  # 0 outside a message, else TEXT or BINARY
        self._msg_compressed = False
        self._msg_chunks: list = []
        self._msg_size = 0
        self._utf8 = Utf8Validator()
        self._error: Exception | None = None

    # -- receiving ---------------------------------------------------------

    def get_buffer(self) -> memoryview:
        """A writable buffer to receive the next bytes into (never empty)."""
        view = self._get_buffer()
        self._offered = len(view)
        return view

    def _get_buffer(self) -> memoryview:
        if self._big is not None:
            return memoryview(self._big)[self._big_filled : self._big_filled + READ_MAX]
        if self._start == self._end:
            self._start = self._end = 0
            if self._after_big:
                # After a big frame, read one header's worth only: if the
                # next frame is big too, its payload then goes straight into
                # its own buffer instead of being copied there from ours.
                return self._view[:HEADER_MAX]
        elif len(self._buf) - self._end < BIG_FRAME // 4:
            # Little room left: move the unparsed bytes to the front.  After
            # next_message() returned None they are one partial frame shorter
            # than BIG_FRAME + 14 bytes, so this frees most of the buffer.
            keep = self._end - self._start
            self._view[:keep] = self._view[self._start : self._end]
            self._start, self._end = 0, keep
            if len(self._buf) - keep < BIG_FRAME // 4:
                # Unparsed whole frames fill it (fed without next_message()).
                self._buf = self._buf + bytearray(len(self._buf))
                self._view = memoryview(self._buf)
        return self._view[self._end : self._end + READ_MAX]

    def buffer_updated(self, nbytes: int) -> None:
        """Record that ``nbytes`` were written into ``get_buffer()``."""
        if not 0 <= nbytes <= self._offered:
            raise ValueError(f"nbytes {nbytes} out of range 0-{self._offered}")
        self._offered = 0
        if self._big is not None:
            self._big_filled += nbytes
        else:
            self._end += nbytes

    def feed(self, data) -> None:
        """Copy ``data`` in, for callers that do not receive into buffers."""
        view = _as_bytes(data)
        while len(view):
            buf = self.get_buffer()
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            self.buffer_updated(n)
            view = view[n:]

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned in a message or frame."""
        return self._end - self._start + self._big_filled

    # -- parsing -----------------------------------------------------------

    def next_message(self):
        """Return the next complete message or control frame, or None.

        Returns:
            For an uncompressed data message (reassembled from its
            fragments), the message itself: ``{"type": "text", "data":
            str}`` or ``{"type": "binary", "data": bytes}``.  For a control
            frame or a compressed message (RSV1 set: still deflated bytes,
            for the protocol to inflate and check), a tuple ``(opcode, data,
            compressed)`` that the protocol layer completes.  Building the
            common case here saves a layer of Python per message.
        """
        if self._error is not None:
            raise self._error
        if self._hdr is None and not self._msg_opcode:
            msg = self._whole_frame()
            if msg is not None:
                return msg
        try:
            while True:
                frame = self._next_frame()
                if frame is None:
                    return None
                result = self._assemble(*frame)
                if result is not None:
                    return result
        except (ProtocolError, MessageTooBig) as exc:
            self._error = exc
            raise

    def _whole_frame(self):
        """The fast path: a whole, final, unmasked text or binary frame with
        a 7- or 16-bit length, already buffered, outside a fragmented
        message.  Anything else (including every error) is left to the
        general path, which then handles it the same way."""
        start = self._start
        avail = self._end - start
        if avail < 2:
            return None
        buf = self._buf
        b0 = buf[start]
        if b0 != 0x82 and b0 != 0x81:
            return None
        length = buf[start + 1]
        hlen = 2
        if length >= 126:
            if length != 126 or avail < 4:
                return None
            length = (buf[start + 2] << 8) | buf[start + 3]
            if length < 126:
                return None  # non-minimal: the general path raises
            hlen = 4
        end = start + hlen + length
        if end > self._end or (self.max_size is not None and length > self.max_size):
            return None
        data = bytes(self._view[start + hlen : end])
        self._start = end
        self._after_big = False
        if b0 == 0x82:
            return {"type": "binary", "data": data}
        try:
            return {"type": "text", "data": data.decode("utf-8")}
        except UnicodeDecodeError:
            self._error = ProtocolError("invalid UTF-8 in text message", 1007)
            raise self._error from None

    def _advance_header(self) -> bool:
        """Parse the next header if it is all there; False if not."""
        header = _parse_header(self._view, self._start, self._end)
        if isinstance(header, int):
            return False
        fin, rsv1, rsv2, rsv3, opcode, masked, key, length, hlen = header
        if rsv2 or rsv3:
            raise ProtocolError(f"reserved bit RSV{2 if rsv2 else 3} set with no extension negotiated")
        if masked and not self._mask_allowed:
            raise ProtocolError("masked frame from the server (RFC 6455 §5.1)")
        if opcode >= 8:
            if rsv1:
                raise ProtocolError(f"RSV1 set on control frame (opcode 0x{opcode:x})")
        elif opcode == 0:
            if not self._msg_opcode:
                raise ProtocolError("continuation frame without a message to continue")
            if rsv1:
                raise ProtocolError("RSV1 set on a continuation frame")
        else:
            if self._msg_opcode:
                raise ProtocolError(
                    f"new data frame (opcode 0x{opcode:x}) inside a fragmented message"
                )
            if rsv1 and not self._rsv1_allowed:
                raise ProtocolError("RSV1 set with no extension negotiated")
        if opcode < 8 and self.max_size is not None:
            total = self._msg_size + length
            if total > self.max_size:
                raise MessageTooBig(total, self.max_size)
        self._hdr = (fin, rsv1, opcode, key, length)
        self._start += hlen
        self._checked = 0
        avail = self._end - self._start
        if length >= BIG_FRAME and avail < length:
            big = bytearray(length)
            big[:avail] = self._view[self._start : self._end]
            self._big, self._big_filled = big, avail
            self._start = self._end
        return True

    def _text_check(self, opcode: int) -> bool:
        """True if this frame's payload is uncompressed text to validate."""
        if opcode == 1 or (opcode == 0 and self._msg_opcode == 1):
            return not (self._msg_compressed or (opcode == 1 and self._hdr[1]))
        return False

    def _progress(self, data, upto: int) -> None:
        """Unmask and check the payload bytes that arrived since last time."""
        fin, rsv1, opcode, key, length = self._hdr
        done = self._checked
        if upto <= done:
            return
        if key is not None:
            mask_into(data[done:upto], data[done:upto], key, done)
        if self._text_check(opcode):
            if not self._utf8.feed(data[done:upto]):
                raise ProtocolError("invalid UTF-8 in text message", 1007)
        self._checked = upto

    def _next_frame(self):
        if self._hdr is None and not self._advance_header():
            return None
        fin, rsv1, opcode, key, length = self._hdr
        if self._big is not None:
            big = memoryview(self._big)
            if self._big_filled < length:
                self._progress(big, self._big_filled)
                return None
            payload_view = big
        else:
            avail = self._end - self._start
            payload_view = self._view[self._start : self._start + min(avail, length)]
            if avail < length:
                self._progress(payload_view, avail)
                return None
        single_text = opcode == 1 and fin and self._checked == 0 and not rsv1
        if not single_text:
            # A text message in one frame is checked by the decode below.
            self._progress(payload_view, length)
        elif key is not None:
            mask_into(payload_view, payload_view, key, 0)
        payload = bytes(payload_view)
        payload_view.release()
        self._after_big = self._big is not None
        if self._big is not None:
            self._big = None
            self._big_filled = 0
        else:
            self._start += length
        self._hdr = None
        return fin, rsv1, opcode, payload

    def _assemble(self, fin, rsv1, opcode, payload):
        if opcode >= 8:
            return opcode, payload, False
        if opcode:
            if fin:
                return self._finish(opcode, rsv1, payload)
            self._msg_opcode, self._msg_compressed = opcode, rsv1
            self._msg_chunks = [payload]
            self._msg_size = len(payload)
            return None
        self._msg_chunks.append(payload)
        self._msg_size += len(payload)
        if not fin:
            return None
        payload = b"".join(self._msg_chunks)
        opcode, rsv1 = self._msg_opcode, self._msg_compressed
        self._msg_opcode, self._msg_compressed = 0, False
        self._msg_chunks = []
        self._msg_size = 0
        return self._finish(opcode, rsv1, payload)

    def _finish(self, opcode, compressed, payload):
        if opcode == 1 and not compressed:
            incomplete = not self._utf8.complete
            self._utf8.reset()
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                incomplete = True
            if incomplete:
                raise ProtocolError("invalid UTF-8 in text message", 1007)
            return {"type": "text", "data": text}
        if opcode == 2 and not compressed:
            return {"type": "binary", "data": payload}
        return opcode, payload, compressed


#: The compiled twin's FastLock is a cheaper threading.Lock; here it is
#: threading.Lock itself (pure Python has nothing faster).
FastLock = _thread.allocate_lock
