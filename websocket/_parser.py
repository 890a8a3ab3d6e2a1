"""The receiving side: frames in, messages out (RFC 6455 §5), sans I/O.

A room of the sans-I/O core, written once in Python and compiled by Cython
from this same file through ``_parser.pxd``: :class:`FrameParser`, the
receive calls (whole messages, messages piece by piece or into a caller's
buffer).  It stands on two layers, a room each: ``_buffer._ReceiveBuffer``
(where reads go, and how much is offered) and ``_reader._FrameReader``
(frames and whole messages, and the one header parser).
"""

from __future__ import annotations

import codecs
from typing import Any

from ._exceptions import BufferTooSmall, MessageTooBig, ProtocolError
from ._limits import BIG_FRAME, DEFAULT_MAX_SIZE, FRAGMENT_COST, READ_MIN
from ._reader import DISCARD as _DISCARD
from ._reader import DROPPED as _DROPPED
from ._reader import IDLE as _IDLE
from ._reader import INTO as _INTO
from ._reader import NEED as _NEED
from ._reader import STREAMING as _STREAMING
from ._reader import Message, _FrameReader, _invalid_utf8, decode_frame

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_parser.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403

__all__ = ["DEFAULT_MAX_SIZE", "FrameParser", "Message", "decode_frame"]

_TEXT, _BINARY = 1, 2


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
        hlen = self._small_frame()
        h = self._h
        if hlen < 0 or h.rsv1:  # (a compressed one is inflated: next_piece_into)
            return -1
        p: Any = self._buf
        length = h.length
        opcode = h.opcode
        start = self._start + hlen
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
            self._direct_length = h.length
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
