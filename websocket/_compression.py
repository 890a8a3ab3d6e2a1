"""permessage-deflate's compressor and decompressor (RFC 7692 §7.2).

A room of the sans-I/O core, written once and compiled by Cython through
``_compression.pxd`` like the parser and the protocol.  :class:`Inflater`
decompresses the server's messages inside the reader (``_reader.py``),
bounded by ``max_size`` as it goes; :class:`Deflater` compresses the
client's.  ``_deflate.py`` negotiates their parameters; ``_zlib.py`` says
which zlib does the work.
"""

from __future__ import annotations

from typing import Any

from ._exceptions import ProtocolError
from ._frames import as_buffer

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_compression.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403
from ._zlib import zlib

__all__ = ["Deflater", "INFLATE_CHUNK", "INFLATE_KEEP", "Inflater", "JOIN_MAX", "TAIL"]

#: RFC 7692 §7.2.1: the four octets a sync flush ends with; the sender
#: removes them from a compressed message, the receiver appends them back.
TAIL = b"\x00\x00\xff\xff"
#: Probes of where a whole message left the decompressor (Inflater._ends_
#: between_blocks): a final empty block with fixed codes (BFINAL 1, BTYPE
#: 01, end-of-block), and an empty stored block (RFC 1951 §3.2.4).
_FINAL_EMPTY_BLOCK = b"\x03\x00"
_EMPTY_STORED_BLOCK = b"\x00\x00\x00\xff\xff"
_TAIL_FINAL_PROBE = TAIL + _FINAL_EMPTY_BLOCK
_TAIL_PROBE = TAIL + _EMPTY_STORED_BLOCK
#: permessage-deflate output is taken from zlib this much at a time, and
#: a connection keeps up to INFLATE_KEEP bytes of it between messages (see
#: Inflater).
INFLATE_CHUNK = 256 * 1024
INFLATE_KEEP = 2 * 1024 * 1024
#: A compressed message in one frame of at most this many bytes is given to
#: zlib joined with its tail, in one call (Inflater.inflate).
JOIN_MAX = 16 * 1024


class Inflater:
    """Decompresses the server's compressed messages, frame by frame, into
    one reused buffer (``out[:size]`` is the message so far).

    Bounded: a message's output stops at ``limit + 1`` bytes, so a small
    frame that would inflate past ``max_size`` is caught after
    ``max_size + 1`` bytes, whatever it would have grown to.

    Output comes from zlib in pieces of at most :data:`INFLATE_CHUNK` bytes
    copied into ``out``, kept between messages up to :data:`INFLATE_KEEP`:
    asking zlib for a whole 1 MiB message at once made it allocate fresh
    blocks of up to 1 MiB and join them per message, whose page faults cost
    a third of the receive rate (bench ``z-recv-json-1m``: 190-198 against
    282-321 MB/s with malloc told to keep its memory).
    """

    def __init__(self, wbits: int, no_context_takeover: bool) -> None:
        self._wbits = wbits
        # §7.1.1.1: with server_no_context_takeover no message refers to an
        # earlier one, so the decompressor (and its window) is dropped
        # between messages: an idle connection then holds none.
        self._reset = no_context_takeover
        self._z: Any = None
        self.out = bytearray()
        self.size = 0
        #: A whole message inflated by one zlib call (inflate(whole=True)):
        #: its bytes, which ``out`` does not hold; else None.
        self.whole: bytes | None = None
        self._join = bytearray()  # a small message's payload and TAIL

    def inflate(self, data: Any, limit: int, final: bool, whole: bool = False, tailed: bool = False) -> int:
        """Decompress one frame's payload into ``out``; the message's last
        frame also gets the tail §7.2.2 appends.

        Args:
            data: the frame's payload (bytes-like).
            limit: the most output the whole message may have (-1: any).
            final: this frame ends the message.
            whole: a small message in one frame that one zlib call inflates
                is left in ``whole`` instead of copied into ``out``.
            tailed: ``data`` is a whole message's payload with the tail
                already after it (FrameParser._whole_frame wrote it there).

        Returns:
            The message's size so far, at most ``limit + 1``: more than
            ``limit`` means it is too big (the caller fails it).

        Raises:
            ProtocolError: the payload is not a valid deflate stream, or
                goes on after the stream's final block.
        """
        z = self._z
        if z is None:
            z = self._z = zlib.decompressobj(-self._wbits)
        joined = tailed
        cut = False  # the message ends inside a deflate block
        try:
            if not tailed and final and self.size == 0 and len(data) <= JOIN_MAX:
                # A message in one frame (the usual small one): its payload
                # and the tail in one zlib call, not two (z-recv-json-1k:
                # a second call and its empty bytes per message).
                join = self._join
                join[:] = data
                join += TAIL
                data = join
                joined = True
            if joined:
                if self._pump(z, data, limit, whole):
                    self._z = None
                    return self.size
            elif self._pump(z, data, limit):
                self._z = None  # too big: the connection fails, nothing more comes
                return self.size
            elif final and not z.eof:
                # The tail and the probe of _ends_between_blocks in one call:
                # between blocks neither gives output.
                before = self.size
                if self._pump(z, _TAIL_FINAL_PROBE if self._reset else _TAIL_PROBE, limit):
                    self._z = None
                    return self.size
                if self.size != before or z.eof != self._reset or z.unused_data:
                    cut = True
        except zlib.error as exc:
            self._z = None
            raise ProtocolError(f"invalid compressed data: {exc}") from None
        if joined and final and not z.eof and not self._ends_between_blocks(z):
            cut = True
        if cut:
            self._z = None
            raise ProtocolError(
                "compressed message ends inside a deflate block: its data was cut short"
                " (RFC 7692 §7.2.2)"
            )
        if z.eof and z.unused_data and not (joined and z.unused_data == TAIL):
            # A block with BFINAL set ended the stream (§7.2.3.4 shows one
            # ending a message): bytes after it would be silently lost.
            # (The tail joined to it is ours, not the server's.)
            raise ProtocolError(
                f"{len(z.unused_data) - (4 if joined else 0)} bytes of compressed data after the deflate stream ended"
            )
        if final and (self._reset or z.eof):
            self._z = None
        return self.size

    def _ends_between_blocks(self, z: Any) -> bool:
        """Whether the message with its tail left ``z`` between two deflate
        blocks, as §7.2.2 makes it: the tail is the LEN and NLEN of an empty
        stored block whose header ends the payload.  A payload cut inside a
        block instead has the tail read as that block's data (bytes the
        server never sent, or a message that stops short).

        zlib does not say where it stands (its ``data_type`` is not in
        Python's API), so it is probed: here after a small message inflated
        with its tail in one call (an extra zlib call, about 2,400
        instructions of CPython's zlib wrapper), and for the others in the
        same call as the tail (inflate()).  Without context takeover the
        decompressor is dropped after the message, so it is given a final
        empty block: only a decompressor between blocks ends the stream there
        with no output, which is exact.  With context takeover the
        decompressor must live on unchanged, and copying it (its 32 KiB
        window) would cost more than the message, so it is given an empty
        stored block, which between blocks changes nothing and inside one
        gives output or an error.  That misses about 1 in 100 cuts (a cut in
        a block's header that the probe's bytes fit); the next message then
        fails instead.
        """
        try:
            # At most one byte of output: between blocks there is none, and
            # zlib then sizes its output buffer for one byte, not 32 KiB.
            if self._reset:
                return not z.decompress(_FINAL_EMPTY_BLOCK, 1) and z.eof and not z.unused_data
            return not z.decompress(_EMPTY_STORED_BLOCK, 1)
        except zlib.error:
            return False

    def _pump(self, z: Any, data: Any, limit: int, whole: bool = False) -> bool:
        """Decompress all of ``data`` into ``out``; True once over ``limit``.
        ``whole``: output that one call gives entirely is kept in ``whole``
        (a small message: no copy into ``out``, no bytearray bookkeeping)."""
        out = self.out
        size = self.size
        while True:
            want = INFLATE_CHUNK if limit < 0 else min(INFLATE_CHUNK, limit + 1 - size)
            chunk = z.decompress(data, want)
            got = len(chunk)
            if whole and got < want and not z.unconsumed_tail:
                self.whole = chunk
                self.size = got
                return False
            whole = False
            if got:
                out[size : size + got] = chunk
                size += got
                self.size = size
                if 0 <= limit < size:
                    return True
            data = z.unconsumed_tail
            # A full chunk with no input left may still leave output in zlib.
            if not data and got < want:
                return False

    def done(self) -> None:
        """The message was taken: start the next one, keeping a buffer of
        a usual size."""
        self.size = 0
        self.whole = None
        if len(self.out) > INFLATE_KEEP:
            self.out = bytearray()


class Deflater:
    """Compresses the client's messages (RFC 7692 §7.2.1).

    The connection's compressor is kept for its life.  With
    client_no_context_takeover each message ends with a full flush, which
    also empties the compressor's window and hash table (no later match can
    reach back past it): the same guarantee as a fresh compressor, without
    allocating one per message.

    As in :class:`Inflater`, zlib gets and gives at most
    :data:`INFLATE_CHUNK` bytes per call and the output is gathered in one
    buffer kept between messages (up to :data:`INFLATE_KEEP`), instead of
    1 MiB blocks allocated, joined and freed per message.
    """

    def __init__(self, level: int, wbits: int, memory_level: int, no_context_takeover: bool) -> None:
        self._z: Any = zlib.compressobj(level, zlib.DEFLATED, -wbits, memory_level)
        self._flush = zlib.Z_FULL_FLUSH if no_context_takeover else zlib.Z_SYNC_FLUSH
        self._out = bytearray()

    def compress(self, payload: Any, final: bool = True) -> memoryview:
        """The payload of a compressed message (str is compressed as UTF-8).

        ``final=False`` compresses a piece of a message sent in several
        frames: no flush, so the output may be empty; the message's last
        piece (``final``) ends it.  The view is valid until the next call:
        the caller writes it first.

        Raises:
            UnicodeEncodeError: a str with no UTF-8 (a lone surrogate),
                before the compressor has taken any of it: the stream is
                as it was, and the caller's connection can go on.
        """
        z = self._z
        cls = payload.__class__
        text: str | None = None
        if cls is str:
            if len(payload) > JOIN_MAX and payload.isascii():
                # A big ASCII str is its own UTF-8, read in pieces
                # (ascii_slice: views of it in the compiled twin) instead
                # of encoded into a new megabyte per message.
                text = payload
            else:
                # Whole, first.  Encoded in pieces, the pieces before a bad
                # code point were in the compressor's history but never
                # sent, and the server then inflated the next message wrong.
                payload = payload.encode("utf-8")
                cls = bytes
        if final and (cls is bytes or cls is bytearray) and len(payload) <= JOIN_MAX:
            # A small message, the usual one: its two zlib results joined,
            # without the buffer's bookkeeping (two calls of _append).
            out = z.compress(payload) + z.flush(self._flush)
            return memoryview(out)[: len(out) - 4]
        if len(self._out) > INFLATE_KEEP:
            self._out = bytearray()
        data: Any = as_buffer(payload, "payload") if text is None else None
        total = len(payload) if data is None else len(data)
        size = 0
        try:
            at = 0
            while True:
                if text is None:
                    piece = data[at : at + INFLATE_CHUNK]
                else:
                    piece = ascii_slice(text, at, at + INFLATE_CHUNK)
                size = self._append(size, z.compress(piece))
                at += INFLATE_CHUNK
                if at >= total:
                    break
            if final:
                size = self._append(size, z.flush(self._flush))
        finally:
            if data is not None:
                data.release()
        if not final:
            return memoryview(self._out)[:size]
        # §7.2.1: a sync (or full) flush always ends with the empty stored
        # block 00 00 ff ff, which the sender removes.
        return memoryview(self._out)[: size - 4]

    def _append(self, size: int, done: bytes) -> int:
        out = self._out
        try:
            out[size : size + len(done)] = done
        except BufferError:
            # A view of an earlier result is still held, so the buffer
            # cannot grow: go on in a new one (the old one is left as it is).
            out = self._out = bytearray(memoryview(out)[:size])
            out += done
        return size + len(done)
