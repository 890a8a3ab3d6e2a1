"""Pure-Python primitives: the twin of ``_speedups.pyx``.

Only primitives live here and in the compiled twin: XOR masking with a key
phase (RFC 6455 §5.3), incremental UTF-8 validation (§8.1), frame-header
encoding and masked frame building, the fd write and read paths and a
lock.  Every
protocol rule is in ``_protocol.py``.  Both twins export the same names
with the same signatures, return the same results and raise the same
exceptions; ``_speedups.pyi`` is the contract and the tests run on both.
"""

from __future__ import annotations

import _thread
import codecs
import os
import select
import struct
import sys
from collections.abc import Iterator
from typing import Any

__all__ = [
    "HAVE_FD_IO",
    "mask",
    "mask_into",
    "frame_header",
    "validate_utf8",
    "Utf8Validator",
    "FrameEncoder",
    "FastLock",
    "recv_into",
    "send_all",
    "hold_signals",
    "release_signals",
    "ascii_slice",
    "writable_bytes",
    "bytes_at",
    "text_at",
    "utf8_at",
    "unmask_at",
    "new_bytes",
    "copy_to",
    "tail_in",
    "tail_out",
    "new_lock",
    "seconds_of",
    "new_encoder",
    "new_utf8_validator",
]

#: Encoded frames up to this size get a fresh bytes object; larger ones are
#: built in a reused buffer (fresh large buffers cost page faults).
REUSE_FROM = 64 * 1024
#: A reused send buffer larger than this is not kept after the frame.
REUSE_UP_TO = 16 * 1024 * 1024
_KEY_BLOCK = 1024  # mask keys drawn from the CSPRNG 256 at a time
#: FrameEncoder.send_to() works on this platform (not on Windows).
HAVE_FD_IO = sys.platform != "win32"


def _as_bytes(data: Any, what: str = "data") -> memoryview:
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            f"{what} must be a bytes-like object, not {type(data).__name__}"
        ) from None
    if not view.c_contiguous or view.itemsize != 1 or view.ndim != 1:
        view = memoryview(view.tobytes())
    return view


def _key(key: Any) -> bytes:
    k = bytes(_as_bytes(key, "mask key"))
    if len(k) != 4:
        raise ValueError(f"mask key must be 4 bytes, got {len(k)}")
    return k


_XOR_PIECE = 65536  # a multiple of 4: the key's phase is the same in every piece


def _xor(data: Any, key: bytes, phase: int = 0) -> bytes:
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
    return b"".join(_xor_pieces(memoryview(data), key))


def _xor_pieces(view: memoryview, key: bytes) -> Iterator[bytes]:
    """``view`` XOR ``key`` (phase 0), in pieces of at most 64 KiB."""
    n = len(view)
    stream = int.from_bytes(key * (_XOR_PIECE // 4), "little")
    whole = n - n % _XOR_PIECE
    for off in range(0, whole, _XOR_PIECE):
        yield (int.from_bytes(view[off : off + _XOR_PIECE], "little") ^ stream).to_bytes(_XOR_PIECE, "little")
    if whole < n:
        yield _xor(view[whole:], key)


def mask(data: Any, key: Any, phase: int = 0) -> bytes:
    """Return ``data`` XOR the 4-byte ``key`` (RFC 6455 §5.3).

    ``phase`` is the offset modulo 4 of ``data`` within the payload, so a
    payload can be masked in chunks.  Masking twice unmasks.
    """
    view = _as_bytes(data)
    return _xor(view, _key(key), _phase(phase))


def _phase(phase: Any) -> int:
    if not isinstance(phase, int) or isinstance(phase, bool):
        raise TypeError(f"phase must be an int, not {type(phase).__name__}")
    if phase < 0:
        raise ValueError(f"phase must be >= 0, got {phase}")
    return phase & 3


def mask_into(dst: Any, src: Any, key: Any, phase: int = 0) -> int:
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


def _payload(payload: Any) -> memoryview:
    if isinstance(payload, str):
        return memoryview(payload.encode("utf-8"))
    return _as_bytes(payload, "payload")


def frame_header(b0: int, length: int, masked: bool) -> bytes:
    """The header of a frame (RFC 6455 §5.2) whose first byte is ``b0``
    (FIN, RSV1-3, opcode), without the mask key: 2, 4 or 10 bytes."""
    if not 0 <= b0 <= 0xFF:
        raise ValueError(f"first header byte {b0} out of range 0-255")
    m = 0x80 if masked else 0
    if length < 126:
        return struct.pack("!BB", b0, m | length)
    if length < 0x10000:
        return struct.pack("!BBH", b0, m | 126, length)
    return struct.pack("!BBQ", b0, m | 127, length)


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

    def feed(self, data: Any) -> bool:
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


def ascii_slice(text: str, start: int, stop: int) -> bytes:
    """``text[start:stop].encode("ascii")`` of an ASCII str (the compiled
    twin returns a view of the str's own bytes instead of this copy)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if not text.isascii():
        raise ValueError(f"ascii_slice() needs an ASCII str, got one of {len(text)} characters that is not")
    if start < 0 or stop < 0:
        raise ValueError(f"slice {start}:{stop} has a negative index")
    return text[start:stop].encode("ascii")


def validate_utf8(data: Any) -> bool:
    """True if ``data`` is entirely valid UTF-8."""
    view = _as_bytes(data)
    try:
        codecs.decode(view, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


def recv_into(fd: int, buffer: Any, start: int, size: int, timeout: float = -1.0) -> int:
    """Receive once from the blocking socket ``fd`` into
    ``buffer[start:start + size]``: the count, 0 at EOF.

    ``timeout`` (seconds, when >= 0): wait at most that long for bytes,
    and return -1 if none came.  A signal that interrupts the wait runs
    Python's handlers (PEP 475): their exception propagates with nothing
    read, else it waits on (for what is left of ``timeout``).
    """
    if not HAVE_FD_IO:
        raise OSError(38, "recv_into() is not available on this platform")
    try:
        view = buffer if type(buffer) is memoryview else memoryview(buffer)
    except TypeError:
        raise TypeError("buffer must be a writable buffer") from None
    if view.readonly:
        raise TypeError("buffer must be a writable buffer")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    if start < 0 or size < 1 or start > len(view) - size:
        raise ValueError(f"region {start}+{size} is outside the buffer's {len(view)} bytes")
    if timeout >= 0.0:
        poller = select.poll()  # (POSIX, as HAVE_FD_IO; no FD_SETSIZE limit)
        poller.register(fd, select.POLLIN)
        # Whole milliseconds, rounded up: a wait is never cut short.
        if not poller.poll(min(int(timeout * 1000.0 + 0.999999), 2**31 - 1)):
            return -1
    return os.readv(fd, [view[start : start + size]])


def send_all(fd: int, data: Any) -> None:
    """Write all of ``data`` (a bytes-like object) to the blocking socket
    ``fd``.  A signal that interrupts the write runs Python's handlers:
    their exception propagates with part of ``data`` written, else the
    write goes on (PEP 475)."""
    if not HAVE_FD_IO:
        raise OSError(38, "send_all() is not available on this platform")
    try:
        view = memoryview(data).cast("B")
    except TypeError:
        raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}") from None
    done = 0
    while done < len(view):
        done += os.write(fd, view[done:])


def hold_signals() -> bool:
    """The compiled twin holds signals while TLS decrypts; here it holds
    nothing and says so (False).  Why: plain Python cannot make a read and
    its booking one step, as CPython runs a handler after any call returns,
    so holding signals around one C call would not close the gap."""
    return False


def release_signals() -> None:
    """End :func:`hold_signals` (nothing to end here)."""


class FrameEncoder:
    """Encodes the frames of one connection (RFC 6455 §5.2, §5.3).

    Mask keys come from the OS CSPRNG in blocks of 256.  The contract lets
    ``encode()`` return a bytes-like object valid only until the next call:
    frames over 64 KiB are built in a reused buffer, as in the compiled twin.
    """

    def __init__(self, mask: bool = True) -> None:
        self._mask = bool(mask)
        self._keys = b""
        self._key_pos = 0
        self._buf = bytearray()
        #: True when the last send_to() stopped with part of its frame written.
        self.partial = False

    def _next_key(self) -> bytes:
        if self._key_pos >= len(self._keys):
            self._keys = os.urandom(_KEY_BLOCK)
            self._key_pos = 0
        key = self._keys[self._key_pos : self._key_pos + 4]
        self._key_pos += 4
        return key

    def encode(self, opcode: int, payload: Any, fin: bool = True, rsv1: bool = False) -> bytes | memoryview:
        """Return one frame holding ``payload`` (str is sent as UTF-8).

        The opcode and flags are trusted: the protocol checks them.
        """
        if not 0 <= opcode <= 0xF:
            raise ValueError(f"invalid opcode {opcode}: must be 0-15")
        b0 = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
        cls = payload.__class__
        if (cls is bytes or cls is bytearray) and len(payload) < 126 and self._mask:
            # The usual small frame, without the views and the header's
            # struct (pure send-64: five calls fewer per message).
            key = self._next_key()
            return bytes((b0, 0x80 | len(payload))) + key + _xor(payload, key)
        data = _payload(payload)
        header = frame_header(b0, len(data), self._mask)
        if not self._mask:
            return header + data
        key = self._next_key()
        total = len(header) + 4 + len(data)
        if total <= REUSE_FROM or total > REUSE_UP_TO:
            return header + key + _xor(data, key)
        # As in the compiled twin, a large frame is built in a reused
        # buffer, masked into it piece by piece: a join of the pieces and a
        # concatenation with the header made two fresh megabyte-sized
        # objects per frame, whose page faults cost more than the join.
        # A new bytearray (not a resize) keeps views of the old one valid.
        if len(self._buf) < total:
            self._buf = bytearray(total)
        out = memoryview(self._buf)
        at = len(header)
        out[:at] = header
        out[at : at + 4] = key
        at += 4
        for piece in _xor_pieces(data, key):
            out[at : at + len(piece)] = piece
            at += len(piece)
        return out[:total]

    def send_to(
        self, fd: int, opcode: int, payload: Any, fin: bool = True, rsv1: bool = False
    ) -> None:
        """Encode one frame and write all of it to the blocking socket fd.

        Raises:
            OSError: the write failed; ``partial`` then says whether part
                of the frame was written (the stream cannot go on).
        """
        self.partial = False
        if not HAVE_FD_IO:
            raise OSError(38, "send_to() is not available on this platform")
        frame = self.encode(opcode, payload, fin, rsv1)
        # A signal handler that raises runs when os.write() returns, before
        # its count is seen: from the first write on, an exception leaves
        # the frame counted as partly written (the compiled twin knows).
        self.partial = True
        done = os.write(fd, frame)
        if done < len(frame):
            view = memoryview(frame)[done:]
            while len(view):
                view = view[os.write(fd, view) :]
        self.partial = False


#: The compiled twin's FastLock is a cheaper threading.Lock; here it is
#: threading.Lock itself (pure Python has nothing faster).
FastLock = _thread.allocate_lock


# -- primitives on a buffer's memory ------------------------------------------
# The twins of the inline primitives in _speedups.pxd.  A compiled room calls
# those on a pointer into its buffer; run as plain Python, the same call
# passes the buffer object, and these do the same with slices and views.


def writable_bytes(owner: bytes, offset: int, size: int) -> memoryview:
    """A bytes object can be filled in place only from C.  The parser asks
    only in the compiled build (``_reader._EXACT_BYTES``)."""
    raise TypeError(f"a bytes object of {len(owner)} cannot be written in place in plain Python")


def bytes_at(p: Any, start: int, n: int) -> bytes:
    """A copy of ``n`` bytes at ``start``."""
    return bytes(p[start : start + n])


def text_at(p: Any, start: int, n: int) -> str:
    """The UTF-8 text of ``n`` bytes at ``start`` (UnicodeDecodeError)."""
    return str(memoryview(p)[start : start + n], "utf-8")


def utf8_at(p: Any, start: int, n: int) -> bool:
    """Whether ``n`` bytes at ``start`` are whole, valid UTF-8."""
    try:
        codecs.decode(memoryview(p)[start : start + n], "utf-8")
    except UnicodeDecodeError:
        return False
    return True


def unmask_at(p: Any, at: int, n: int, key: bytes, phase: int) -> None:
    """Unmask ``n`` bytes at ``at`` in place, the key at ``phase``."""
    view = memoryview(p)[at : at + n]
    mask_into(view, view, key, phase)
    view.release()


def new_bytes(n: int) -> bytes:
    """A bytes object of ``n`` (zeros: plain Python cannot fill one in place)."""
    return bytes(n)


def copy_to(into: Any, p: Any, start: int, n: int) -> bool:
    """Copy ``n`` bytes at ``start`` into the caller's buffer ``into``;
    False (nothing copied) if it is not writable or shorter than ``n``."""
    try:
        view = memoryview(into)
    except TypeError:
        return False
    if view.readonly or not view.c_contiguous or view.nbytes < n:
        return False
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    view[:n] = p[start : start + n]
    return True


def tail_in(p: Any, at: int) -> bytes:
    """Write the RFC 7692 §7.2.2 tail (00 00 FF FF) at ``at``; the four
    bytes it covered, for tail_out()."""
    saved = bytes(p[at : at + 4])
    p[at : at + 4] = b"\x00\x00\xff\xff"
    return saved


def tail_out(p: Any, at: int, saved: bytes) -> None:
    """Put back the four bytes tail_in() covered."""
    p[at : at + 4] = saved


# -- what the rooms construct (see _speedups.pxd) -----------------------------


def new_lock() -> _thread.LockType:
    return FastLock()


def new_encoder(masked: bool) -> FrameEncoder:
    return FrameEncoder(masked)


def new_utf8_validator() -> Utf8Validator:
    return Utf8Validator()


def seconds_of(timeout: object, longest: float) -> float:
    """``timeout`` as a fast path takes it: -1.0 for None (no limit), the
    seconds of a float or an int from 0 to ``longest``; -2.0 for anything
    else (negative, NaN, longer, a bool or another type), which is the
    full path's to refuse or honour."""
    if timeout is None:
        return -1.0
    if type(timeout) is float or type(timeout) is int:
        if 0.0 <= timeout <= longest:
            return float(timeout)
    return -2.0
