"""The receive buffer (RFC 6455 §5.2 frames arrive in it), sans I/O: the
first layer of ``_parser.FrameParser``.

A room of the sans-I/O core, written once in Python and compiled by Cython
from this same file through ``_buffer.pxd``.  :class:`_ReceiveBuffer` says
where the engine's next read goes (the shared buffer, or a big frame's own
memory), books what was read, and sizes the reads: they grow while they
come back full and shrink as the traffic calms down, so that an idle
connection keeps little (``_limits``: READ_MIN to READ_GROWN).
"""

from __future__ import annotations

from typing import Any

from ._exceptions import MessageTooBig
from ._frames import as_buffer
from ._limits import BIG_FRAME, HEADER_MAX, READ_GROWN, READ_MAX, READ_MIN

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_buffer.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403

__all__ = ["_ReceiveBuffer"]


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
        # A big frame's payload goes to _direct[_direct_base:]; None while
        # payloads are parsed in _buf.
        self._direct: Any = None
        self._direct_base = 0
        self._direct_filled = 0
        self._direct_length = 0  # the big frame's payload length
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
            view = self._direct_view(min(self._direct_length - self._direct_filled, READ_MAX))
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
        if self._direct is not None and self._direct_filled < self._direct_length:
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
        if self._exactly and (self._direct_filled + want) * 4 >= self._direct_length:
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
            exact = new_bytes(self._direct_length)
        except (MemoryError, OverflowError):
            raise MessageTooBig(self._direct_length, None) from None
        view = memoryview(writable_bytes(exact, 0, filled))
        view[:] = memoryview(self._msg)[self._direct_base : self._direct_base + filled]
        view.release()
        self._msg = bytearray()  # (exported views of it are gone by now)
        self._direct = exact
        self._direct_base = 0
        return writable_bytes(exact, filled, want)
