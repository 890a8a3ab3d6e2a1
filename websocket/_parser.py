"""The receiving side: frames in, messages out (RFC 6455 §5), sans I/O.

A room of the sans-I/O core, written once in Python and compiled by Cython
from this same file through ``_parser.pxd`` (with
``WEBSOCKET_NO_EXTENSIONS=1``, or on another interpreter, it runs as it
is).  What differs between the two is only speed: the primitives it calls
on its buffers (``bytes_at``, ``text_at``, ``unmask_at`` ...) are C
functions inlined from ``_speedups.pxd`` on a pointer in the compiled
build, and their twins in ``_speedups_py`` on the buffer itself in plain
Python; one switch, ``_EXACT_BYTES``, is the compiled build's alone.

- :func:`_parse_header`, the one frame-header parser (§5.2): the parser's
  and :func:`decode_frame`'s.
- :class:`FrameParser` turns received bytes into messages: masking (§5.3),
  fragmentation (§5.4), control frames (§5.5), ``max_size``, UTF-8 state
  across fragments (§8.1), compressed messages through
  ``_compression.Inflater`` (RFC 7692).  It owns the receive buffer the
  engine reads into.  Three layers, one class each: ``_ReceiveBuffer``
  (where reads go, and how much is offered), ``_FrameReader`` (frames and
  whole messages) and ``FrameParser`` (the calls, and messages read piece
  by piece or into a caller's buffer).
"""

from __future__ import annotations

import codecs
from typing import Any

try:
    import cython
except ImportError:  # a Cython-less install runs this file as plain Python
    from . import _cython_shim as cython

from ._compression import INFLATE_KEEP, JOIN_MAX, Inflater
from ._exceptions import (
    BufferTooSmall,
    IncompleteFrame,
    MessageTooBig,
    ProtocolError,
    WebSocketPayloadException,
)
from ._frames import Frame, as_buffer

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_parser.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403

__all__ = ["DEFAULT_MAX_SIZE", "FrameParser", "Message", "decode_frame"]

#: A message as ``receive()`` returns it: ``{"type": ..., "data": ...}``
#: (close messages add "code" and "reason").
Message = dict[str, Any]

DEFAULT_MAX_SIZE = 64 * 1024 * 1024
#: Frames at least this long that are not yet fully buffered are received
#: straight into their message's own memory instead of the shared buffer.
BIG_FRAME = 64 * 1024
#: The longest frame header: 2 + 8 length + 4 mask key.
HEADER_MAX = 14
#: get_buffer() offers at most this much per read into a big frame's own
#: memory, and at first into the shared buffer.  Smaller reads hand TCP
#: receive-window space back to the sender sooner, so both ends work at once:
#: on loopback here 128 KiB reads moved 5.3 GB/s, 1 MiB reads 4.3 GB/s.
READ_MAX = 128 * 1024
#: The shared buffer starts at twice this, the read it first offers: an
#: open connection that receives little keeps little (the buffer was
#: 256 KiB from the start, 271 KiB of RSS per idle connection).
READ_MIN = 2 * 1024
#: While reads into the shared buffer keep coming back full (a feed of small
#: messages faster than they are parsed), the read offered there doubles up
#: to this, and the buffer grows to twice the read.  Reads shorter than
#: READ_MIN halve it again, and once it is down to READ_MIN an empty buffer
#: goes back to its first size: memory returns as the traffic calms down.  A socket read costs the
#: same kernel work whatever its size: with 4 KiB messages 128 KiB reads were
#: 41% of the time in the kernel, and 512 KiB reads took 1.56 to 1.21 µs per
#: message (bench/README.md).  Larger reads gained nothing more.
READ_GROWN = 512 * 1024
#: The compiled build receives a message in one frame of up to this size
#: straight into its final bytes object, allocated at once (the OS commits
#: pages only as bytes land); a larger one grows as its bytes arrive, as
#: every message does in plain Python, so that an announced length alone
#: never reserves memory.
EXACT_MAX = 1 << 30
#: ... but a header alone reserves at most this: a longer one-frame message
#: is grown as its bytes arrive until a quarter of it came (_to_exact), so
#: that announcements cost address space only as the bytes back them.
EXACT_AHEAD = 1 << 20
#: Whether big one-frame messages are received into their final bytes
#: object (EXACT_MAX): only C can fill a bytes object in place
#: (``writable_bytes``), so plain Python grows every message in a
#: bytearray.  The one decision the two builds make differently.
_EXACT_BYTES: bool = cython.compiled
#: What each continuation frame costs against ``max_size`` on top of its
#: payload.  Without it a message of millions of empty fragments costs
#: work and bookkeeping without end while its payload stays under the
#: limit; with it, a message has at most ``max_size / 16`` fragments.  An
#: honest fragmented message pays little: 1 MiB in 4 KiB fragments is
#: charged 4 KiB more.  The first frame is free, so a message in one frame
#: may be exactly ``max_size`` bytes.
FRAGMENT_COST = 16

_TEXT, _BINARY, _PING, _PONG = 1, 2, 9, 10
_NEED = object()  # "more bytes needed", distinct from None ("a fragment")
_DROPPED = object()  # a discarded message ended (FrameParser._piece)
# FrameParser._stream: how the message in progress is being read.
_IDLE, _STREAMING, _INTO, _DISCARD = 0, 1, 2, 3

# Message dicts are copies of these with "data" set: copying a small dict
# clones its key table, cheaper than building one key by key.
_TEXT_MSG: dict[str, Any] = {"type": "text", "data": None}
_BINARY_MSG: dict[str, Any] = {"type": "binary", "data": None}
_PING_MSG: dict[str, Any] = {"type": "ping", "data": None}
_PONG_MSG: dict[str, Any] = {"type": "pong", "data": None}


def _message(template: dict[str, Any], data: object) -> dict[str, Any]:
    msg = template.copy()
    msg["data"] = data
    return msg


def _invalid_utf8() -> ProtocolError:
    """RFC 6455 §8.1: invalid UTF-8 in a text message fails with 1007."""
    return WebSocketPayloadException("invalid UTF-8 in text message", 1007)


def _writable(buffer: object) -> memoryview:
    """A caller's buffer (next_piece_into) as a writable, contiguous view of
    bytes; TypeError or ValueError saying what is wrong with it."""
    try:
        view = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            "receive_into() takes a writable bytes-like object (bytearray, memoryview, "
            f"numpy array ...), not {type(buffer).__name__}"
        ) from None
    if view.readonly:
        view.release()
        raise TypeError(f"receive_into() needs a writable buffer; {type(buffer).__name__} is read-only")
    if not view.c_contiguous:
        view.release()
        raise ValueError("receive_into() needs a contiguous buffer")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


def _check_max_size(max_size: object) -> None:
    if max_size is not None:
        if not isinstance(max_size, int) or isinstance(max_size, bool):
            raise TypeError(f"max_size must be an int or None, not {type(max_size).__name__}")
        if max_size < 0:
            raise ValueError(f"max_size must be >= 0, got {max_size}")


# -- frame headers (RFC 6455 §5.2) -------------------------------------------


class _Header:
    """The fields of one frame header; one object reused per parser."""

    def __init__(self) -> None:
        self.fin = False
        self.rsv1 = False
        self.rsv2 = False
        self.rsv3 = False
        self.opcode = 0
        self.masked = False
        self.key = b""
        self.length = 0
        self.size = 0  # the header's length; or, when incomplete, bytes needed
        self.error = ""  # what is wrong with it, when _parse_header returned -1


def _reserved(opcode: int) -> bool:
    """%x3-7 and %xB-F are reserved (RFC 6455 §5.2)."""
    return (3 <= opcode <= 7) or opcode >= 0xB


def _parse_header(p: Any, start: int, avail: int, h: _Header) -> int:
    """Parse the frame header at ``p[start:start + avail]`` into ``h``: the
    one header parser (the parser's fast paths, its general path and
    :func:`decode_frame` all call it).

    Returns the header's size (2 to 14, also in ``h.size``) when it is
    complete, 0 when more bytes are needed (``h.size`` says how many in
    all), -1 for what no more bytes can fix
    (``h.error`` says what; the caller raises ProtocolError with it, or a
    fast path leaves the frame to the general path, which raises).

    RFC 6455 §5.2: "in all cases, the minimal number of bytes MUST be used
    to encode the length", and a 64-bit length has its most significant
    bit 0; both are checked.
    """
    if avail < 2:
        h.size = 2
        return 0
    b0 = p[start]
    b1 = p[start + 1]
    opcode = b0 & 0x0F
    h.opcode = opcode
    h.fin = (b0 & 0x80) != 0
    h.rsv1 = (b0 & 0x40) != 0
    h.rsv2 = (b0 & 0x20) != 0
    h.rsv3 = (b0 & 0x10) != 0
    h.masked = (b1 & 0x80) != 0
    length = b1 & 0x7F
    size = 2
    h.size = 2
    # (Data frames, 0-2, skip the call: the plain-Python build pays for it.)
    if opcode > 2 and _reserved(opcode):
        h.error = f"reserved opcode 0x{opcode:x}"
        return -1
    if opcode >= 8:
        # §5.5: "All control frames MUST have a payload length of 125 bytes
        # or less and MUST NOT be fragmented."
        if not h.fin:
            h.error = f"fragmented control frame (opcode 0x{h.opcode:x})"
            return -1
        if length > 125:
            h.error = f"control frame (opcode 0x{h.opcode:x}) with a payload over 125 bytes"
            return -1
    if length == 126:
        size = h.size = 4
        if avail < 4:
            return 0
        length = (p[start + 2] << 8) | p[start + 3]
        if length < 126:
            h.error = f"payload length {length} in 16 bits: the minimal encoding is required"
            return -1
    elif length == 127:
        size = h.size = 10
        if avail < 10:
            return 0
        length = 0
        for i in range(8):
            length = (length << 8) | p[start + 2 + i]
        if length >> 63:
            h.error = f"payload length 0x{length:016x} has the most significant bit set"
            return -1
        if length < 0x10000:
            h.error = f"payload length {length} in 64 bits: the minimal encoding is required"
            return -1
    if b1 & 0x80:
        if avail < size + 4:
            h.size = size + 4
            return 0
        h.key = bytes(p[start + size : start + size + 4])
        size = h.size = size + 4
    h.length = length
    return size


def _exact_sum(a: int, b: int, c: int) -> int:
    """``a + b + c`` in Python integers: for sizes reported in errors,
    which may pass 2**63 (the compiled build's C integers would wrap; the
    arguments of a def function are Python objects)."""
    return a + b + c


def decode_frame(data: object) -> Frame:
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
    buf = data if isinstance(data, bytes) else as_buffer(data, "data").tobytes()
    n = len(buf)
    h = _Header()
    parsed = _parse_header(buf, 0, n, h)
    if parsed < 0:
        raise ProtocolError(h.error)
    if parsed == 0:
        raise IncompleteFrame(h.size, n)
    # Not h.size + h.length first: with a length near 2**63 that sum
    # overflows in the compiled build and a bogus empty frame came back.
    if h.length > n - h.size:
        raise IncompleteFrame(_exact_sum(h.size, h.length, 0), n)
    size = h.size + h.length
    payload = buf[h.size : size]
    if h.masked:
        payload = mask(payload, h.key)
    return {
        "fin": h.fin,
        "rsv1": h.rsv1,
        "rsv2": h.rsv2,
        "rsv3": h.rsv3,
        "opcode": h.opcode,
        "masked": h.masked,
        "mask_key": h.key if h.masked else None,
        "length": h.length,
        "payload": payload,
        "size": size,
    }


# -- the receiving state machine ---------------------------------------------


#: Zeros to grow a big message's buffer by (see _grow_view).
_ZEROS = memoryview(bytes(READ_MAX))


def _grow_view(acc: bytearray, filled: int, want: int) -> memoryview:
    """A writable view of ``want`` bytes at ``acc[filled:]``, growing
    ``acc`` first: memory is committed as bytes arrive, never for an
    announced length at once."""
    short = filled + want - len(acc)
    if short > 0:
        # From _ZEROS, not bytes(short): a new 128 KiB object per read.
        acc += _ZEROS[:short] if short <= READ_MAX else bytes(short)
    return memoryview(acc)[filled : filled + want]


class _ReceiveBuffer:
    """The receive buffer, the first layer of :class:`FrameParser`: where
    the engine reads (:meth:`get_buffer`, or :meth:`read_with` in one step
    with the booking), what was read (:meth:`buffer_updated`), a big
    frame's own memory while its payload arrives, and how much each read
    is offered (READ_MIN to READ_GROWN, growing with full reads and
    shrinking with short ones)."""

    def __init__(self, buffer_size: int) -> None:
        self._buf = bytearray(buffer_size)
        self._view = memoryview(self._buf)  # replaced with _buf, never resized
        # The read offered into _buf; doubles while reads fill it (READ_GROWN).
        self._read = min(READ_MAX, buffer_size // 2)
        self._start = 0
        self._end = 0
        self._h = _Header()
        # A big frame's payload goes to _direct[_direct_base:]; None while
        # payloads are parsed in _buf.
        self._direct: Any = None
        self._direct_base = 0
        self._direct_filled = 0
        self._exactly = False  # move to an exact bytes object later (_to_exact)
        self._into_direct = False  # the last get_buffer() was into _direct
        self._after_big = False
        self._offered = 0
        self._offered_view: memoryview | None = None  # the last get_buffer()
        self._msg = bytearray()
        self._error: BaseException | None = None
        #: The count of a read_with() read, until it is booked (_settle).
        self._reads: list[Any] = []

    def get_buffer(self) -> memoryview:
        """A writable buffer to receive the next bytes into (never empty)."""
        at = self._offer()
        if at < 0:
            view = self._direct_view(min(self._h.length - self._direct_filled, READ_MAX))
            # (Shorter when memory ran out: see _direct_view.)
            self._offered = len(view)
        else:
            view = self._view[at : at + self._offered]
        self._offered_view = view
        return view

    def _offer(self) -> int:
        """Make room for the next read: where in ``_buf`` it goes, with its
        size in ``_offered`` (kept as a C integer: cheaper to check per read
        than asking a view, measured: 340 instructions a round trip); -1
        when it goes into a big frame's own memory instead (get_buffer()
        offers a view of that).  The receive fast path reads into ``_buf``
        at the offset it returns, with no view made (receive_ready)."""
        if self._reads:
            self._settle()  # a read_with() a signal interrupted
        self._into_direct = False
        if self._direct is not None and self._direct_filled < self._h.length:
            self._into_direct = True
            return -1
        # (A big frame complete but not yet parsed, as when feed() is given
        # its end and more: what follows goes to the buffer, after it.)
        size = len(self._buf)
        want = 2 * self._read  # reads grew (_book): so does the buffer
        if self._start == self._end:
            self._start = self._end = 0
            # Given back only once the reads are down to READ_MIN: a flow
            # whose reads swing between sizes would otherwise pay a new
            # buffer at each swing.
            if size < want or (size > want and self._read == READ_MIN):
                self._move(want)
            if self._after_big:
                # After a big frame, read one header's worth only: if the
                # next frame is big too, its payload then goes straight into
                # its own memory instead of being copied there from ours.
                self._offered = HEADER_MAX
                return 0
        elif size - self._end < BIG_FRAME // 4 or size < want:
            # Little room left: move the unparsed bytes to the front.  After
            # next_message() returned None they are one partial frame shorter
            # than BIG_FRAME + 14 bytes, so this frees most of the buffer.
            keep = self._end - self._start
            if size - keep < BIG_FRAME // 4:
                # Unparsed whole frames fill it (fed without next_message()).
                want = max(want, 2 * size)
            if size < want:
                self._move(want)
            else:
                view = self._view
                view[:keep] = view[self._start : self._end]
                self._start, self._end = 0, keep
        self._offered = min(self._read, len(self._buf) - self._end)
        return self._end

    def _move(self, size: int) -> None:
        """Replace the buffer with a new one of ``size`` bytes holding the
        unparsed bytes at its front.  A new object, not a resize: views of
        the old one stay valid."""
        keep = self._end - self._start
        buf = bytearray(size)
        buf[:keep] = self._view[self._start : self._end]
        self._buf = buf
        self._view = memoryview(buf)
        self._start, self._end = 0, keep

    def read_with(self, reader: Any) -> Any:
        """One read into :meth:`get_buffer` by ``reader(buffer)`` (the count
        read, 0 at the end of the stream, or None for nothing now, as
        ``TLSLayer.read_into``), booked as it returns; the count.

        The count is stored by ``list.extend(map(...))``: C code that calls
        the reader and keeps its result with no Python-level step between
        them, so no signal handler can run there.  A handler that raises as
        this returns (or in the plain-Python build, before the booking)
        leaves the count stored, and the next read books it first
        (:meth:`_offer`): the bytes read are never lost nor counted twice.
        """
        reads = self._reads
        buf = self.get_buffer()
        try:
            reads.extend(map(reader, (buf,)))
        except BaseException:
            if not reads:
                self.buffer_updated(0)  # nothing read: the buffer is given back
            raise
        return self._settle()

    def _settle(self) -> Any:
        """Book the read read_with() stored."""
        reads = self._reads
        n = reads[0]
        # Booked before the clear: a handler that raises as _book starts
        # leaves the read stored, to be booked by the next _offer.
        self._book(0 if n is None else n)
        reads.clear()
        return n

    def buffer_updated(self, nbytes: int) -> None:
        """Record that ``nbytes`` were written into :meth:`get_buffer`."""
        if not 0 <= nbytes <= self._offered:
            raise ValueError(f"nbytes {nbytes} out of range 0-{self._offered}")
        self._book(nbytes)

    def _book(self, nbytes: int) -> None:
        """Count ``nbytes`` read into the offered buffer, and size the next
        read by this one: a full read means more was waiting (offer twice
        as much, up to READ_GROWN); one under READ_MIN means the flow is
        down to a trickle (offer half, down to READ_MIN).  Reads of a
        stream come back at whatever size the sender keeps up: they move
        the offer up only, or a stream whose reads swing would pay more
        system calls."""
        self._offered = 0
        view = self._offered_view
        if view is not None:
            self._offered_view = None
            # So that a growing message buffer can be resized next time.
            try:
                view.release()
            except BufferError:  # the caller still holds a slice of it
                pass
        if self._into_direct:
            self._direct_filled += nbytes
            return
        self._end += nbytes
        read = self._read
        if nbytes == read:
            if nbytes < READ_GROWN:
                self._read = 2 * nbytes
        elif nbytes < READ_MIN and read > READ_MIN:
            self._read = read >> 1

    def feed(self, data: object) -> None:
        """Copy ``data`` in, for callers that do not receive into buffers."""
        view = as_buffer(data, "data")
        done = 0
        total = len(view)
        while done < total:
            buf = self.get_buffer()
            n = min(len(buf), total - done)
            buf[:n] = view[done : done + n]
            self.buffer_updated(n)
            done += n

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned in a message."""
        return self._end - self._start + self._direct_filled

    @property
    def buffer_size(self) -> int:
        """The shared receive buffer's size now: ``buffer_size`` at first,
        up to twice READ_GROWN once reads have kept filling it (and more
        only while whole frames are fed faster than they are parsed)."""
        return len(self._buf)

    # -- parsing -----------------------------------------------------------

    def _direct_view(self, want: int) -> memoryview:
        """A writable view of the next ``want`` bytes of a big payload."""
        at = self._direct_base + self._direct_filled
        if self._direct.__class__ is bytes:  # _EXACT_BYTES
            return writable_bytes(self._direct, at, want)
        if self._exactly and (self._direct_filled + want) * 4 >= self._h.length:
            return self._to_exact(want)  # this read may pass a quarter
        try:
            return _grow_view(self._direct, at, want)
        except MemoryError:
            # The bytes that did arrive exhaust memory: next_message() fails
            # the connection with 1009; this read goes to scratch.
            if self._error is None:
                self._error = MessageTooBig(at + want, None)
            return memoryview(bytearray(HEADER_MAX))

    def _to_exact(self, want: int) -> memoryview:
        """Move a one-frame message received so far into its final bytes
        object (compiled twin only), before the read that may bring it past
        a quarter: its announced length is reserved only once the bytes
        back a quarter of it, at the cost of copying less than that
        quarter, and the message is then handed out without a copy."""
        self._exactly = False
        filled = self._direct_filled
        try:
            exact = new_bytes(self._h.length)
        except (MemoryError, OverflowError):
            raise MessageTooBig(self._h.length, None) from None
        view = memoryview(writable_bytes(exact, 0, filled))
        view[:] = memoryview(self._msg)[self._direct_base : self._direct_base + filled]
        view.release()
        self._msg = bytearray()  # (exported views of it are gone by now)
        self._direct = exact
        self._direct_base = 0
        return writable_bytes(exact, filled, want)


class _FrameReader(_ReceiveBuffer):
    """The second layer of :class:`FrameParser`: frames out of the buffer
    (headers through :func:`_parse_header`, masking, limits, control
    frames, compressed messages through the Inflater) and whole messages,
    with the fast path for one whole data frame (:meth:`next_whole`)."""

    def __init__(self, max_size: int | None, mask_allowed: bool, buffer_size: int, decode_text: bool) -> None:
        super().__init__(buffer_size)
        self.max_size = max_size
        # Larger limits than memory can hold behave as no limit.
        self._max = -1 if max_size is None else min(max_size, 2**62)
        self._mask_allowed = bool(mask_allowed)
        #: Text messages as str (True) or as their UTF-8 bytes, still checked.
        self._decode_text = bool(decode_text)
        self._have_hdr = False
        self._text = False  # this frame's payload is text to check
        self._checked = 0  # payload bytes of this frame unmasked and checked
        self._msg_opcode = 0  # 0 outside a fragmented message, else 1 or 2
        self._msg_cost = 0
        self._utf8 = new_utf8_validator()
        # permessage-deflate, once negotiated (set_inflater): _zmsg marks a
        # compressed message, _zin holds a big compressed frame as it
        # arrives, and _zmax bounds a compressed message's bytes on the wire.
        self._inflater: Any = None
        self._zmsg = False
        self._zin: Any = None
        self._zmax = -1 if self._max < 0 else self._max + (self._max >> 10) + 1024
        self.last_opcode = 0
        #: With ``hold``: the last message (or control frame) a next_* call
        #: returned, kept until the caller takes it (sets this back to
        #: None): a signal handler that raises as the call returns loses the
        #: return value, and the next call then returns this one again.
        #: ``held_size`` and ``held_into`` do the same for
        #: next_piece_into()'s sizes.
        self.held: Any = None
        self.held_size = -1
        self.held_into: Any = None
        #: Keep results in ``held`` (set by an owner that clears it: the
        #: blocking client); off, each call returns the next result.
        self.hold = False
        # Piecewise reading (next_piece, next_piece_into): how the message
        # in progress is read (_IDLE when none is), its decompressed bytes
        # so far, how much of it is in the caller's buffer, and the text
        # decoder of a streamed text message.
        self._stream = _IDLE
        #: After next_piece(): the piece was its message's last.
        self.piece_fin = False
        #: Called with (opcode, message) for each control frame before it is
        #: returned, and with the exception when parsing fails: the
        #: connection's protocol hooks in here, so that a shell may call
        #: next_message() on the parser itself (one layer less per message).
        self.on_control: Any = None
        self.on_error: Any = None

    def set_inflater(self, inflater: Inflater) -> None:
        """Accept compressed messages (RSV1, RFC 7692 §6), decompressed by
        ``inflater``."""
        self._inflater = inflater

    # -- receiving ---------------------------------------------------------

    def next_whole(self) -> Message | None:
        """:meth:`next_message` when the next message is one whole data
        frame already buffered (the common case of a feed); None otherwise,
        including every case :meth:`next_message` would handle differently
        (a control frame, a fragment, a frame not all here, an error
        already raised), which it is then left to."""
        held = self.held
        if held is not None:
            return held  # type: ignore[no-any-return]
        if self._error is not None or self._have_hdr or self._msg_opcode != 0 or self._stream != _IDLE:
            return None
        try:
            msg = self._whole_frame()
        except (ProtocolError, MessageTooBig) as exc:  # invalid UTF-8
            self._failed(exc)
            raise
        if self.hold:
            self.held = msg
        return msg

    def _failed(self, exc: ProtocolError | MessageTooBig) -> None:
        """Every later call raises ``exc``; the owner's hook hears it."""
        self._error = exc
        if self.on_error is not None:
            self.on_error(exc)

    def _whole_frame(self) -> Message | None:
        """The fast path: a whole, final, unmasked text or binary frame with
        a 7- or 16-bit length, already buffered, outside a fragmented
        message.  Anything else (including every error) is left to the
        general path, which then handles it the same way."""
        start = self._start
        avail = self._end - start
        p = self._buf
        h = self._h
        # Not a whole small data frame, or wrong (the general path raises):
        # left to the general path.  A compressed message in one frame
        # (RSV1, RFC 7692 §6) takes this path too: the general one cost a
        # Python call per message more in the shell (WsClient._receive).
        hlen = _parse_header(p, start, avail, h)
        if (
            hlen <= 0
            or hlen > 4  # masked, or a 64-bit length
            or not h.fin
            or h.rsv2
            or h.rsv3
            or (h.opcode != _TEXT and h.opcode != _BINARY)
        ):
            return None
        zmsg = h.rsv1
        if zmsg and self._inflater is None:
            return None
        length = h.length
        if hlen + length > avail or (self._max >= 0 and length > (self._zmax if zmsg else self._max)):
            return None
        opcode = h.opcode
        start += hlen
        self._start = start + length
        self._after_big = False
        if zmsg:
            self._msg_opcode = opcode
            end = start + length
            if length > JOIN_MAX or end + 4 > len(self._buf):
                return self._inflate_frame(self._view[start:end], True)  # type: ignore[return-value]  # (final: a message)
            # The §7.2.2 tail is written right after the payload, in the
            # buffer, for the one zlib call; the 4 bytes there (the next
            # frame's, or free space) are put back after it.  Joining the
            # payload and the tail in a bytearray cost about 1,600
            # instructions of a z-recv-json-1k message (callgrind).  zlib
            # keeps no reference to its input (unconsumed_tail and
            # unused_data are copies), and the receive lock is held.
            w = self._buf
            saved = tail_in(w, end)
            try:
                return self._inflate_frame(self._view[start : end + 4], True, True)  # type: ignore[return-value]
            finally:
                tail_out(w, end, saved)
        self.last_opcode = opcode
        # _message() inlined: a Python-level call here costs the pure build
        # more than the whole dict.
        if opcode == _BINARY:
            msg = _BINARY_MSG.copy()
            msg["data"] = bytes_at(p, start, length)
            return msg
        msg = _TEXT_MSG.copy()
        msg["data"] = self._decode(p, start, length)
        return msg

    def _decode(self, p: Any, start: int, length: int) -> Any:
        """The text at ``p[start:start + length]``: a str, or its UTF-8
        bytes when ``decode_text`` is off; invalid UTF-8 fails either way."""
        if not self._decode_text:
            if not utf8_at(p, start, length):
                raise _invalid_utf8()
            return bytes_at(p, start, length)
        try:
            return text_at(p, start, length)
        except UnicodeDecodeError:
            raise _invalid_utf8() from None

    def _advance_header(self, direct: bool) -> bool:
        """Parse the next header if it is all there; False if not.
        ``direct``: a big frame's payload may go to its own memory (not
        when it is read piecewise)."""
        h = self._h
        parsed = _parse_header(self._buf, self._start, self._end - self._start, h)
        if parsed <= 0:
            if parsed == 0:
                return False
            raise ProtocolError(h.error)
        opcode = h.opcode
        if h.rsv1 or h.rsv2 or h.rsv3:
            if h.rsv2 or h.rsv3 or self._inflater is None:
                bit = 1 if self._inflater is None and h.rsv1 else 2 if h.rsv2 else 3
                raise ProtocolError(f"reserved bit RSV{bit} set with no extension negotiated")
            # RFC 7692 §6.1: RSV1 marks a compressed message on its first
            # frame only; control frames are never compressed.
            if opcode >= 8:
                raise ProtocolError(f"RSV1 set on a control frame (opcode 0x{opcode:x})")
            if opcode == 0:
                raise ProtocolError("RSV1 set on a continuation frame (RFC 7692 §6.1)")
        if h.masked and not self._mask_allowed:
            raise ProtocolError("masked frame from the server (RFC 6455 §5.1)")
        if opcode == 0:
            if not self._msg_opcode:
                raise ProtocolError("continuation frame without a message to continue")
        elif opcode < 8 and self._msg_opcode:
            raise ProtocolError(f"new data frame (opcode 0x{opcode:x}) inside a fragmented message")
        if opcode == _TEXT or opcode == _BINARY:
            self._zmsg = h.rsv1
        length = h.length
        if opcode < 8 and self._max >= 0:
            extra = FRAGMENT_COST if opcode == 0 else 0
            # max_size bounds the decompressed size (_inflate_frame); for a
            # compressed message this bounds what is held before that, and
            # a stream of compressed bytes that inflate to nothing.
            limit = self._zmax if self._zmsg else self._max
            # Compared as room left, not as cost so far + length: a length
            # may be up to 2**63 - 1 (§5.2), and that sum overflows the
            # compiled build's 64-bit integers, which let a continuation
            # frame of 2**63 - 1 bytes past max_size (fuzz_helpers found
            # the same sum in decode_frame).  0 <= cost so far <= limit.
            if length > limit - self._msg_cost - extra:
                cost = _exact_sum(self._msg_cost, length, extra)
                if self._zmsg:
                    raise MessageTooBig(
                        cost, self.max_size, f"compressed bytes, at most {self._zmax} allowed"
                    )
                raise MessageTooBig(cost, self.max_size, self._fragments_note(opcode, length))
        self._have_hdr = True
        self._start += h.size
        self._checked = 0
        # Compressed text is checked after decompression instead.
        self._text = (opcode == _TEXT or (opcode == 0 and self._msg_opcode == _TEXT)) and not (
            self._zmsg and opcode < 8
        )
        avail = self._end - self._start
        if direct and length >= BIG_FRAME and avail < length:
            self._start_direct(opcode, length, avail)
        return True

    def _fragments_note(self, opcode: int, length: int) -> str:
        # Only a message read whole holds its payload so far in _msg; one
        # read piecewise handed it out, and _msg_cost alone cannot tell
        # payload from the per-frame charge.
        if opcode != 0 or self._stream != _IDLE:
            return ""
        frames = (self._msg_cost - len(self._msg)) // FRAGMENT_COST + 2
        return (
            f"{_exact_sum(len(self._msg), length, 0)} bytes of payload in {frames} frames,"
            f" {FRAGMENT_COST} bytes counted per continuation frame"
        )

    def _start_direct(self, opcode: int, length: int, avail: int) -> None:
        """Receive this big frame's payload into its message's memory."""
        self._exactly = False
        if self._zmsg and opcode < 8:
            # Compressed: held until complete, then inflated; the buffer is
            # kept for the next one (up to INFLATE_KEEP, see Inflater).
            if self._zin is None:
                self._zin = bytearray()
            self._direct = self._zin
            self._direct_base = 0
        elif (
            _EXACT_BYTES
            and opcode != 0
            and self._h.fin
            and length <= EXACT_MAX
            and (length <= EXACT_AHEAD or avail * 4 >= length)
        ):
            # A message in one frame: its final bytes object, allocated
            # uninitialized (see EXACT_MAX and EXACT_AHEAD).
            try:
                self._direct = new_bytes(length)
            except (MemoryError, OverflowError):
                raise MessageTooBig(length, None) from None
            self._direct_base = 0
        else:
            # Grown as bytes arrive; a message in one frame moves to its
            # final bytes object once a quarter of it came (_direct_view).
            self._exactly = _EXACT_BYTES and opcode != 0 and self._h.fin and length <= EXACT_MAX
            self._direct = self._msg
            self._direct_base = len(self._msg)
        self._direct_filled = 0
        view = self._direct_view(avail)
        view[:] = self._view[self._start : self._end]
        view.release()
        self._direct_filled = avail
        self._start = self._end

    def _progress(self, obj: Any, base: int, upto: int) -> None:
        """Unmask and check the payload bytes that arrived since last time."""
        done = self._checked
        if upto <= done:
            return
        if self._h.masked:
            self._unmask(obj, base + done, upto - done, done)
        if self._text and not self._utf8.feed(memoryview(obj)[base + done : base + upto]):
            raise _invalid_utf8()
        self._checked = upto

    def _unmask(self, obj: Any, at: int, n: int, phase: int) -> None:
        p = obj
        unmask_at(p, at, n, self._h.key, phase)

    def _next_frame(self) -> object:
        """One frame: a message, None when it was a fragment of one, or
        _NEED when more bytes must arrive first."""
        h = self._h
        if not self._have_hdr and not self._advance_header(True):
            return _NEED
        length = h.length
        direct = self._direct
        if direct is not None:
            base = self._direct_base
            if self._direct_filled < length:
                self._progress(direct, base, self._direct_filled)
                return _NEED
        else:
            base = self._start
            avail = self._end - base
            if avail < length:
                self._progress(self._buf, base, avail)
                return _NEED
        opcode = h.opcode
        fin = h.fin
        self._have_hdr = False
        self.last_opcode = opcode
        zmsg = self._zmsg and opcode < 8  # a frame of a compressed message
        if opcode != 0 and fin and direct is None and not zmsg:
            # A message in one frame, parsed in place.
            if h.masked:
                self._unmask(self._buf, base + self._checked, length - self._checked, self._checked)
            self._start = base + length
            self._after_big = False
            if opcode == _TEXT:
                self._utf8.reset()
                return _message(_TEXT_MSG, self._decode(self._buf, base, length))
            p: Any = self._buf
            data = bytes_at(p, base, length)
            if opcode == _BINARY:
                return _message(_BINARY_MSG, data)
            return self._control_message(opcode, data)
        self._progress(direct if direct is not None else self._buf, base, length)
        src: Any = None  # a compressed frame's payload
        if direct is not None:
            self._direct = None
            self._exactly = False
            self._direct_filled = 0
            self._after_big = True
            if zmsg:
                if len(direct) > INFLATE_KEEP:
                    self._zin = None
                src = memoryview(direct)[:length]
            elif direct is not self._msg:  # a whole message in its own bytes
                if opcode == _TEXT:
                    return self._checked_text(direct, length)
                return _message(_BINARY_MSG, direct)
        else:
            if zmsg:
                src = self._view[base : base + length]
            else:
                self._msg += self._view[base : base + length]
            self._start = base + length
            self._after_big = False
        if opcode != 0:
            self._msg_opcode = opcode
        else:
            self._msg_cost += FRAGMENT_COST
        self._msg_cost += length
        if zmsg:
            return self._inflate_frame(src, fin)
        if not fin:
            return None
        return self._finish_message()

    def _inflate_frame(self, src: memoryview, fin: bool, tailed: bool = False) -> object:
        """The payload of a compressed message's frame (RFC 7692 §7.2.2):
        its output joins the message, text checked as it is decompressed.
        ``tailed``: ``src`` ends with the §7.2.2 tail (see _whole_frame)."""
        inflater = self._inflater
        before = inflater.size
        size = inflater.inflate(src, self._max, fin, True, tailed)
        src.release()
        if 0 <= self._max < size:
            inflater.done()
            raise MessageTooBig(size, self.max_size, "decompressed; inflating stopped there")
        out: Any = inflater.out
        if inflater.whole is not None:  # the message, fin and before == 0
            out = inflater.whole
        text = self._msg_opcode == _TEXT
        if text and not (fin and before == 0):
            # Fragments: checked as they come (a whole message is checked
            # once, by decoding it).
            if before == 0:
                self._utf8.reset()
            if not self._utf8.feed(memoryview(out)[before:size]):
                inflater.done()
                raise _invalid_utf8()
        if not fin:
            return None
        self._msg_opcode = 0
        self._msg_cost = 0
        self._zmsg = False
        self.last_opcode = _TEXT if text else _BINARY
        try:
            if text:
                if before != 0:  # fragments the validator saw as they came
                    return self._checked_text(out, size)
                if out.__class__ is bytes and self._decode_text:
                    # inflater.whole, all of it: decoded as it is, without
                    # _decode's view of a buffer (the pure twin's
                    # z-recv-json-1k: a call and a memoryview per message).
                    try:
                        return _message(_TEXT_MSG, out.decode("utf-8"))
                    except UnicodeDecodeError:
                        raise _invalid_utf8() from None
                return _message(_TEXT_MSG, self._decode(out, 0, size))
            if out.__class__ is bytes:
                return _message(_BINARY_MSG, out)  # inflater.whole, all of it
            p: Any = out
            return _message(_BINARY_MSG, bytes_at(p, 0, size))
        finally:
            inflater.done()

    def _control_message(self, opcode: int, data: bytes) -> Message | None:
        if opcode == _PING:
            msg = _message(_PING_MSG, data)
        elif opcode == _PONG:
            msg = _message(_PONG_MSG, data)
        else:
            msg = {"type": "close", "data": data}
        if self.on_control is not None and self.on_control(opcode, msg):
            return None  # the owner consumed it (a keepalive pong)
        return msg

    def _finish_message(self) -> Message:
        """The message whose last fragment just arrived (RFC 6455 §5.4)."""
        acc = self._msg
        opcode = self._msg_opcode
        self._msg = bytearray()
        self._msg_opcode = 0
        self._msg_cost = 0
        self._zmsg = False
        self.last_opcode = opcode
        if opcode == _TEXT:
            return self._checked_text(acc, len(acc))
        return _message(_BINARY_MSG, bytes(acc))

    def _checked_text(self, data: Any, length: int) -> Message:
        """A text message whose bytes the validator saw as they arrived: it
        must end on a character boundary (§8.1)."""
        complete = self._utf8.complete
        self._utf8.reset()
        if not complete:
            raise _invalid_utf8()
        if not self._decode_text:  # checked already: the bytes as they are
            if data.__class__ is bytes and len(data) == length:
                return _message(_TEXT_MSG, data)
            return _message(_TEXT_MSG, bytes(memoryview(data)[:length]))
        return _message(_TEXT_MSG, self._decode(data, 0, length))


    # -- piecewise receiving: receive_streaming(), receive_into() -----------

class FrameParser(_FrameReader):
    """Parses the frames a client receives, as they arrive (RFC 6455 §5).

    Sans-I/O: the caller receives into :meth:`get_buffer` (or calls
    :meth:`feed`), reports with :meth:`buffer_updated`, and calls
    :meth:`next_message` until it returns None.

    Enforced here: reserved bits and opcodes, masked frames (unless
    ``mask_allowed``, for the server role), control frame rules (§5.5),
    continuation rules (§5.4), minimal lengths, ``max_size`` (before the
    payload arrives, with :data:`FRAGMENT_COST` per continuation frame) and
    UTF-8 validity of text checked as the bytes arrive (§8.1).  A violation
    raises ProtocolError (or MessageTooBig) from the call that would have
    returned the offending frame, and again from every later call.

    ``on_control`` and ``on_error`` let the owner of the parser (the
    connection's :class:`ClientProtocol`) act on control frames and
    failures as they are returned or raised; a true return from
    ``on_control`` consumes the frame (it is not returned).

    Memory: a frame's payload is kept once.  Small frames are parsed in
    place in one reused buffer (``buffer_size`` bytes at first, growing
    with the reads and shrinking again as they get short: see READ_MIN and
    READ_GROWN); a big frame's payload is received straight into its
    message's memory, which grows as bytes arrive; fragments are joined
    into one ``bytearray`` as they come.

    Three layers, each a class: :class:`_ReceiveBuffer` (where reads go),
    :class:`_FrameReader` (frames and whole messages) and this one (the
    calls, and messages read piece by piece or into a caller's buffer).
    """

    def __init__(
        self,
        max_size: int | None = None,
        *,
        mask_allowed: bool = False,
        buffer_size: int = 2 * READ_MIN,
        decode_text: bool = True,
    ) -> None:
        _check_max_size(max_size)
        if not isinstance(buffer_size, int) or buffer_size < 2 * READ_MIN:
            raise ValueError(f"buffer_size must be an int >= {2 * READ_MIN}, got {buffer_size!r}")
        super().__init__(max_size, mask_allowed, buffer_size, decode_text)
        # Piecewise reading: the message's decompressed bytes so far, how
        # much of it is in the caller's buffer (and which view), and the
        # text decoder of a streamed text message.
        self._zout = 0
        self._into_at = 0
        self._into_view: Any = None  # the view the bytes so far went to
        self._udec: Any = None
        #: Counts messages read piecewise (a stream knows it is stale).
        self.stream_serial = 0

    def next_message(self) -> Message | None:
        """Return the next complete message or control frame, or None.

        Returns:
            ``{"type": "text", "data": str}``, ``{"type": "binary", "data":
            bytes}`` (reassembled from its fragments), or ``{"type":
            "ping"|"pong"|"close", "data": bytes}`` for a control frame;
            None until more bytes arrive.  ``last_opcode`` is the opcode of
            the message returned.  With ``hold``, the message is also kept
            in ``held`` until the caller clears it, and returned again
            until then.
        """
        held = self.held
        if held is not None:
            return held  # type: ignore[no-any-return]
        msg = self._next_unheld()
        if self.hold:
            self.held = msg
        return msg

    def _next_unheld(self) -> Message | None:
        if self._error is not None:
            raise self._error
        try:
            if not self._have_hdr and self._msg_opcode == 0:
                msg = self._whole_frame()
                if msg is not None:
                    return msg
            if self._stream != _IDLE:
                # A message being read piecewise (next_piece) and left
                # unfinished: the rest of it is discarded first.
                self._stream = _DISCARD
                dropped = self._piece(None)
                if dropped is not _DROPPED:
                    return dropped  # type: ignore[return-value]
            while True:
                result = self._next_frame()
                if result is _NEED:
                    return None
                if result is not None:
                    return result  # type: ignore[return-value]
        except (ProtocolError, MessageTooBig) as exc:
            self._failed(exc)
            raise

    def next_piece(self) -> object:
        """The next piece of a text or binary message, as its bytes arrive.

        For messages that should never sit whole in memory.  A piece is the
        payload that arrived since the last call (decompressed, with
        permessage-deflate): ``bytes`` for binary, ``str`` for text (UTF-8
        bytes when ``decode_text`` is off).  UTF-8 validity (§8.1, as the
        bytes arrive) and ``max_size`` (on the whole message) are enforced
        as for whole messages.  After a piece, ``last_opcode`` is the
        message's opcode (1 or 2) and ``piece_fin`` says whether it was the
        last; a message being read into a buffer by :meth:`next_piece_into`
        is discarded.

        Returns:
            A piece (empty only when it is a whole empty message), a
            control frame's message dict (control frames may come between a
            message's frames, §5.4), or None until more bytes arrive.
        """
        if self._stream == _INTO:
            self._stream = _DISCARD
        return self._pieces(None)

    def next_piece_into(self, into: Any) -> object:
        """The next message written into ``into`` (a writable memoryview of
        bytes, see :func:`_writable`) as its bytes arrive; text as its
        UTF-8 bytes, checked.

        One copy, from the receive buffer into ``into``, and no object
        created per message; a big one-frame message is received straight
        into ``into`` (get_buffer() returns parts of it).  A message being
        read by :meth:`next_piece` is discarded first.  If a call returns
        None and the next one gets another view, the bytes so far are
        copied to it: any buffer large enough goes on with the message.

        Returns:
            The message's size once it is complete (``last_opcode`` says
            its type), a control frame's message dict, or None until more
            bytes arrive: what did arrive is in ``into`` already, and the
            next call (with the same view) goes on from there.

        Raises:
            BufferTooSmall: the message does not fit.  One frame: it is
                left unread (nothing consumed).  Fragmented or compressed
                (its size shows only as it arrives): ``into`` holds its
                first bytes and the rest is discarded as it arrives.
        """
        size = self.whole_into(into)
        if size >= 0:
            return size
        held = self.held
        if held is not None:
            return held  # a control frame an interrupted call returned
        if self._stream == _STREAMING:
            self._stream = _DISCARD
        result = self._pieces(into)
        if result is not None and self.hold:
            if result.__class__ is int:
                self.held_size = result
                self.held_into = into
            else:
                self.held = result
        return result

    def whole_into(self, into: Any) -> int:
        """next_piece_into()'s fast path, as _whole_frame(): a whole small
        text or binary frame already buffered, between messages, copied
        straight into ``into`` (one memcpy in the compiled build, through
        the buffer protocol); its size.  -1 (nothing consumed) leaves it to
        next_piece_into(), which then raises whatever is wrong."""
        if self.held_size >= 0:
            return self._give_held(into)
        if self._stream != _IDLE or self._have_hdr or self._msg_opcode != 0 or self._error is not None:
            return -1
        start = self._start
        avail = self._end - start
        p: Any = self._buf
        h = self._h
        hlen = _parse_header(p, start, avail, h)
        if (
            hlen <= 0
            or hlen > 4  # masked, or a 64-bit length
            or not h.fin
            or h.rsv1
            or h.rsv2
            or h.rsv3
            or (h.opcode != _TEXT and h.opcode != _BINARY)
        ):
            return -1
        length = h.length
        if hlen + length > avail or (self._max >= 0 and length > self._max):
            return -1
        opcode = h.opcode
        start += hlen
        if opcode == _TEXT and not utf8_at(p, start, length):
            return -1
        if not copy_to(into, p, start, length):
            return -1  # _writable() says what is wrong with it
        self._start = start + length
        self._after_big = False
        self.last_opcode = opcode
        self.piece_fin = True
        if self.hold:
            self.held_size = length
            self.held_into = into
        return length

    def _give_held(self, into: Any) -> int:
        """The size of the message an interrupted next_piece_into() call
        wrote (see ``held``), copied into ``into`` if that is another
        buffer."""
        size = self.held_size
        if into is not self.held_into:
            view = _writable(into)
            if len(view) < size:
                raise BufferTooSmall(size, len(view), False)
            view[:size] = _writable(self.held_into)[:size]
            view.release()
            self.held_into = into
        return size


    def is_streaming(self, serial: int) -> bool:
        """True while the message of ``receive_streaming()`` call number
        ``serial`` (its ``stream_serial``) is still being streamed: no
        other read took the connection and it has not ended."""
        return self.stream_serial == serial and self._stream == _STREAMING

    def discard_message(self) -> None:
        """Drop the rest of a message being read piecewise: its bytes are
        discarded as they arrive (compressed ones still go through the
        decompressor, whose window the next message may refer to)."""
        if self._stream != _IDLE:
            self._stream = _DISCARD

    def _pieces(self, into: Any) -> object:
        if self._error is not None:
            raise self._error
        try:
            if self._stream == _IDLE and (
                self._msg_opcode != 0 or (self._have_hdr and self._h.opcode < 8)
            ):
                # next_message() started this message (a receive() that
                # timed out midway): it is finished that way, whole.
                return self._finish_whole(into)
            while True:
                result = self._piece(into)
                if result is not _DROPPED:
                    return result
        except (ProtocolError, MessageTooBig) as exc:
            self._error = exc
            if self.on_error is not None:
                self.on_error(exc)
            raise

    def _finish_whole(self, into: Any) -> object:
        while True:
            result = self._next_frame()
            if result is _NEED:
                return None
            if result is not None:
                break
        msg: Any = result
        if self.last_opcode >= 8:
            return msg
        self.piece_fin = True
        if into is None:
            return msg["data"]
        data = msg["data"]
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > len(into):
            into[:] = data[: len(into)]
            raise BufferTooSmall(len(data), len(into), True)
        into[: len(data)] = data
        return len(data)

    def _piece(self, into: Any) -> object:
        """Consume what arrived of the message being read piecewise (and
        control frames before or inside it).

        Returns None when more bytes are needed, a control frame's message,
        _DROPPED when a message being discarded ended, else (reading into
        ``into``) the message's size once complete, or (not) a non-empty
        piece or a message's last piece."""
        h = self._h
        if into is not None and self._into_at != 0 and into is not self._into_view:
            self._move_into(into, self._into_at)  # before anything is consumed
        while True:
            if not self._have_hdr:
                if not self._advance_header(False):
                    return None
                if h.opcode < 8 and self._stream == _IDLE:
                    self._start_piecewise(into)
            opcode = h.opcode
            length = h.length
            base = self._start
            if opcode >= 8:  # control frames are short and whole (§5.5)
                if self._end - base < length:
                    return None
                self._have_hdr = False
                if h.masked:
                    self._unmask(self._buf, base, length, 0)
                data = bytes(self._view[base : base + length])
                self._start = base + length
                self.last_opcode = opcode
                msg = self._control_message(opcode, data)
                if msg is not None:
                    return msg
                continue
            if self._direct is not None:  # one big frame, into ``into``
                return self._direct_into(into)
            done = self._checked
            n = min(self._end - base, length - done)
            if n <= 0 and done < length:
                return None
            if h.masked:
                self._unmask(self._buf, base, n, done)
            self._checked = done + n
            self._start = base + n
            self._after_big = False
            fin = False
            if done + n == length:
                self._have_hdr = False
                fin = h.fin
                self._msg_cost += length + (FRAGMENT_COST if opcode == 0 else 0)
            kind = self._msg_opcode
            src = self._view[base : base + n]
            zmsg = self._zmsg
            if zmsg:
                src = self._inflate_piece(src, fin)
            state = self._stream
            if fin:
                self._msg_opcode = 0
                self._msg_cost = 0
                self._zmsg = False
                self._stream = _IDLE
            self.last_opcode = kind
            try:
                if state == _DISCARD:
                    if fin:
                        return _DROPPED
                    continue
                text = kind == _TEXT
                if text and (
                    not self._utf8.feed(src) or (fin and not self._utf8.complete)
                ):
                    raise _invalid_utf8()
                if into is not None:
                    at = self._into_at
                    end = at + len(src)
                    if end > len(into):
                        into[at:] = src[: len(into) - at]
                        self._into_at = 0
                        self._into_view = None
                        if not fin:
                            self._stream = _DISCARD
                        raise BufferTooSmall(end, len(into), True)
                    into[at:end] = src
                    if not fin:
                        self._into_at = end
                        self._into_view = into
                        continue
                    self._into_at = 0
                    self._into_view = None
                    self.piece_fin = True
                    return end
                self.piece_fin = fin
                piece: Any
                if text and self._decode_text:
                    piece = self._udec.decode(src, fin)
                else:
                    piece = bytes(src)
                if fin or len(piece) != 0:
                    return piece
            finally:
                src.release()
                if zmsg:
                    self._inflater.done()

    def _start_piecewise(self, into: Any) -> None:
        """A data message starts, to be read piecewise (its header is
        parsed): it is read into ``into`` or streamed when None."""
        h = self._h
        if into is not None and h.fin and not self._zmsg and h.length > len(into):
            # One frame: its size is known, so it is left unread.
            self._start -= h.size
            self._have_hdr = False
            raise BufferTooSmall(h.length, len(into), False)
        self._stream = _STREAMING if into is None else _INTO
        self._msg_opcode = h.opcode
        self._zout = 0
        self._into_at = 0
        self._into_view = None
        self.stream_serial += 1
        avail = self._end - self._start
        if into is not None and h.fin and not self._zmsg and not h.masked and h.length >= BIG_FRAME and avail < h.length:
            # A big message in one frame: received straight into ``into``
            # (get_buffer() offers parts of it), with no copy in between.
            into[:avail] = self._view[self._start : self._end]
            self._direct = into
            self._exactly = False
            self._direct_base = 0
            self._direct_filled = avail
            self._start = self._end
        if h.opcode == _TEXT:
            self._utf8.reset()
            if into is None and self._decode_text:
                if self._udec is None:
                    self._udec = codecs.getincrementaldecoder("utf-8")()
                self._udec.reset()

    def _move_into(self, into: Any, at: int) -> None:
        """A call goes on with a message in another view than the last:
        its first ``at`` bytes move there."""
        if at > len(into):
            raise BufferTooSmall(at, len(into), False)
        into[:at] = self._into_view[:at]
        self._into_view = into

    def _direct_into(self, into: Any) -> object:
        """A big one-frame message being received into the caller's view:
        its size once complete (then checked), else None."""
        h = self._h
        length = h.length
        filled = self._direct_filled
        discard = self._stream == _DISCARD  # another read came: dropped here
        if not discard and into is not self._direct:
            if length > len(into):
                raise BufferTooSmall(length, len(into), False)
            into[:filled] = self._direct[:filled]
            self._direct = into
            self._exactly = False
        if filled < length:
            return None
        self._direct = None
        self._exactly = False
        self._direct_filled = 0
        self._have_hdr = False
        self._after_big = True
        kind = self._msg_opcode
        self._msg_opcode = 0
        self._msg_cost = 0
        self._stream = _IDLE
        if discard:
            return _DROPPED
        self.last_opcode = kind
        if kind == _TEXT:
            if not self._utf8.feed(into[:length]) or not self._utf8.complete:
                raise _invalid_utf8()
        self.piece_fin = True
        return length

    def _inflate_piece(self, src: memoryview, fin: bool) -> memoryview:
        """Decompress a piece of a compressed message (RFC 7692 §7.2.2);
        the caller calls ``done()`` on the inflater once it has used it."""
        inflater = self._inflater
        limit = -1 if self._max < 0 else self._max - self._zout
        try:
            size = inflater.inflate(src, limit, fin)
        finally:
            src.release()
        if 0 <= limit < size:
            inflater.done()
            raise MessageTooBig(
                self._zout + size, self.max_size, "decompressed; inflating stopped there"
            )
        self._zout += size
        return memoryview(inflater.out)[:size]
