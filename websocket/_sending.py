"""Sending, as part of ``WsClient``: ``send``, ``send_binary``, fragmented
sends, ``ping``/``pong``, ``send_many`` (:class:`Sending`), and under them
the writes, their deadlines and the flush of the protocol's replies
(:class:`Writing`).  The per-message fast path is the engine's
(``Engine.send_data``); what an option or a full socket needs comes here."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from ._connect import _shown
from ._exceptions import (
    ConnectionClosed,
    WebSocketTimeout,
)
from ._frames import Opcode
from ._waiting import (
    _acquire,
    _check_timeout,
    _deadline,
    _Poller,
    _Stalled,
)
from ._writer import control_payload

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._engine import Engine
    from ._tls import TLSLayer

logger = logging.getLogger("websocket")

_TEXT, _BINARY = int(Opcode.TEXT), int(Opcode.BINARY)
_PING, _PONG = int(Opcode.PING), int(Opcode.PONG)
# send_many() writes once this much is collected: large enough that the
# system call costs little per message, small enough to stay in cache.
_BATCH_BYTES = 256 * 1024


def _as_is(frames: Any) -> Any:
    """Frames made before the send lock was taken (send_many's batch)."""
    return frames


def _check_compress(compress: object) -> None:
    if compress is not True and compress is not False:
        raise TypeError(f"compress must be a bool or None, not {type(compress).__name__}")


def _classify(message: object, where: str) -> tuple[int, Any]:
    """(opcode, payload) for a message: text for str, binary for any
    bytes-like object; TypeError naming ``where`` otherwise."""
    if isinstance(message, str):
        return _TEXT, message
    if isinstance(message, (bytes, bytearray, memoryview)):
        return _BINARY, message
    try:
        return _BINARY, memoryview(message)  # type: ignore[arg-type]
    except TypeError:
        hint = " (to send JSON, json.dumps() it first)" if isinstance(message, Mapping) else ""
        raise TypeError(
            f"{where} takes a str or a bytes-like object, not {type(message).__name__}{hint}"
        ) from None


def _next_piece(item: object, index: int, opcode: int) -> Any:
    """The payload of piece ``index`` (from 1) of a message sent in pieces
    whose first piece made it ``opcode``: all str or all bytes-like."""
    got, piece = _classify(item, f"send() (piece {index})")
    if got != opcode:
        raise TypeError(
            f"send() piece {index} is {type(item).__name__} but the message is "
            f"{'text' if opcode == _TEXT else 'binary'}: pieces are all str or all bytes-like"
        )
    return piece


def _fragments(message: object) -> bool:
    """send() was given pieces of one message: an iterable that is neither
    text nor a buffer (nor a mapping, which is a mistake for JSON)."""
    if isinstance(message, (str, Mapping)) or not isinstance(message, Iterable):
        return False
    try:
        memoryview(message)  # type: ignore[arg-type]
    except TypeError:
        return True
    return False


class _FragmentGuard:
    """The send lock while a fragmented send() holds it: the same lock for
    every other thread; for the thread taking the pieces (the iterable
    calling send() or ping()), a RuntimeError instead of a deadlock."""

    __slots__ = ("lock", "owner")

    def __init__(self, lock: Any, owner: int) -> None:
        self.lock = lock
        self.owner = owner

    def acquire(self, *args: Any) -> bool:
        if threading.get_ident() == self.owner:
            if args and not args[0]:
                return False  # a try (a receive's reply): someone holds it
            raise RuntimeError(
                "a send was made from the iterable of a fragmented send() on the same "
                "connection: its frames would split the message; send it afterwards"
            )
        return bool(self.lock.acquire(*args))

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class Writing:
    """The writes under every send: the lock, the deadline, a full socket,
    TLS, and the protocol's queued replies (pongs, a close) flushed after;
    and the end of the TCP connection (:meth:`_abort`)."""

    # Set by WsClient.__init__ and _start (declared for the type checker).
    if TYPE_CHECKING:
        _check_open: Callable[[], None]
        _engine: Engine
        _fd: int
        _pending: Any
        _proto: Any
        _send_lock: Any
        _send_timeout: float | None
        _sock_closed: bool
        _tls: TLSLayer | None
        _wpoll: _Poller
        url: str
        close_timeout: float | None

    def _stalled(self, what: str, seconds: float | None) -> WebSocketTimeout:
        if self._sock_closed:
            return WebSocketTimeout(
                f"{what} timed out after {seconds} s with the frame partly written; "
                "the stream cannot go on, so the connection is closed (1006)"
            )
        return WebSocketTimeout(
            f"{what} timed out after {seconds} s: the server is not reading; "
            "nothing was written and the connection is still usable"
        )

    def _lock_for_send(self, deadline: float | None) -> None:
        """Take the send lock, waiting until ``deadline`` at most."""
        if not _acquire(self._send_lock, deadline):
            raise _Stalled()

    def _writable(self, deadline: float | None) -> None:
        """With a deadline: wait until the socket takes bytes, before any
        byte of the frame exists (compressed or encrypted), so that a
        timeout here leaves the connection usable."""
        if deadline is not None and not self._wpoll.wait(deadline):
            raise _Stalled()

    def _send_made(self, deadline: float | None, committed: bool, make: Any, *args: Any) -> None:
        """The full send of frames the protocol's writer makes: under the
        send lock (waited for until ``deadline``), with the connection
        open and, with a deadline, the socket taking bytes, ``make(*args)``
        (a ``FrameWriter`` method) makes the frames and :meth:`_write`
        writes them whole; replies queued meanwhile follow.

        ``committed``: the frames are compressed.  Made under the lock, so
        that they leave in the compressor's order (RFC 7692 §7.2.1), and
        in its history as soon as it takes them: from then on a failure
        (a signal's exception too) fails the connection, as for a frame
        partly written, since the server could not inflate the next one.
        A str with no UTF-8 fails before the compressor takes any of it:
        the caller's error, and the connection goes on.

        Raises:
            _Stalled: the deadline passed before a byte was written (the
                caller names itself in the WebSocketTimeout).
        """
        lock = self._send_lock
        if deadline is None:
            lock.acquire()
        else:
            self._lock_for_send(deadline)
        try:
            self._check_open()
            if deadline is not None:
                self._writable(deadline)
            try:
                data = make(*args)
            except BaseException as exc:
                if committed:
                    self._write_failed(exc, not isinstance(exc, UnicodeEncodeError))
                raise
            self._write(data, deadline, committed)
        finally:
            lock.release()
        if self._pending or self._engine.tls_out:
            self._flush(blocking=False)

    def _write(self, data: Any, deadline: float | None = None, committed: bool = False) -> None:
        """Write ``data`` whole; the caller holds the send lock.
        ``committed``: a failure before any byte is written still fails the
        connection (compressed frames, see _compress).  With a deadline the
        writes do not block past it (_Stalled, after failing the connection:
        the frame is started by then)."""
        tls = self._tls
        started = committed
        try:
            if tls is not None:
                data = tls.encrypt(data)
            # From here on part of the frame may be in the stream: over TLS
            # it was encrypted, and a signal handler that raises runs as
            # send() returns, before its count is seen.
            started = True
            self._engine.write(data, deadline)
        except _Stalled as exc:
            if exc.written == 0 and tls is None and not committed:
                raise  # not a byte of the frame went out: still usable
            self._write_failed(exc, True)
        except BaseException as exc:
            self._write_failed(exc, started)

    def _send_failed(self, exc: BaseException) -> NoReturn:
        """send_ready()'s write raised ``exc``; it left the send lock held.
        Over TLS the frame is part of the stream once encrypted.

        A str that cannot be encoded (a lone surrogate) failed before any
        frame was made, over TLS too: the caller's error, and the
        connection goes on, as on every other send path."""
        self._engine.send_failure = None
        # Compressed, the message is in the compressor's history from the
        # start: it must go out whole (see _compress).  A str with no UTF-8
        # failed before either: _write_failed then re-raises it.
        partial = not isinstance(exc, UnicodeEncodeError) and (
            self._fd < 0 or self._proto.writer.deflater is not None or self._proto.encoder.partial
        )
        try:
            self._write_failed(exc, partial)
        finally:
            self._send_lock.release()

    def _write_failed(self, exc: BaseException, partial: bool) -> NoReturn:
        """A write raised ``exc``; the caller holds the send lock.

        A socket error ends the connection (1006).  Anything else (a
        signal's exception) leaves it usable if no byte of the frame went
        out, and fails it if part did: the stream cannot be resumed."""
        if isinstance(exc, UnicodeEncodeError) and not partial:
            raise exc  # a str with no UTF-8 (a lone surrogate): nothing was written
        if isinstance(exc, (OSError, ValueError)) or partial:
            self._proto.transport_failed(exc)
            self._abort(have_send_lock=True)
            if isinstance(exc, (OSError, ValueError)):
                raise self._proto.closed_exception() from exc
        raise exc

    def _tls_pending(self) -> bool:
        # Once the socket is closed TLS output can never be written: a
        # record a signal left in the outgoing buffer would otherwise keep
        # _flush looping for ever.
        tls = self._tls
        out = tls is not None and not self._sock_closed and tls.has_output()
        self._engine.tls_out = out
        return out

    def _flush(self, blocking: bool, deadline: float | None = None, then: Any = None, wait: bool = True) -> bool:
        """Write the replies the protocol queued (and TLS output).

        Non-blocking: only if there is something to write and the send lock
        is free at once; its holder flushes otherwise (senders look again
        after releasing it).  Blocking: take the lock (waiting until
        ``deadline``) even with nothing queued, so that a write another
        thread is making (perhaps of the very reply it popped) is over, and
        call ``then()`` before releasing it.  False if the lock could not be
        had.  ``wait=False`` (the receive paths): write only if the socket
        takes bytes now, else leave the replies queued, so that answering a
        ping never makes a receive wait on a server that does not read."""
        lock = self._send_lock
        while blocking or self._pending or self._tls_pending():
            if blocking:
                if not _acquire(lock, deadline):
                    return False
            elif not lock.acquire(False):
                return True
            try:
                if not wait and not self._wpoll.wait(0.0):
                    return True  # not writable now: the replies wait (one pong at most)
                self._flush_locked(deadline)
                if then is not None:
                    then()
                    return True
            finally:
                lock.release()
            blocking = False
        return True

    def _flush_locked(self, deadline: float | None) -> None:
        if deadline is None:
            deadline = _deadline(self._send_timeout)
        try:
            data = self._proto.data_to_send()
            if data:
                self._write(data, deadline)
            if self._tls_pending():
                assert self._tls is not None
                try:
                    self._engine.write(self._tls.output(), deadline)
                except BaseException as exc:
                    self._write_failed(exc, True)
        except ConnectionClosed:
            pass  # the connection is gone: nothing more to write
        except _Stalled as exc:
            # A server that takes no pong or close frame within the send
            # timeout (or close_timeout) is gone: end TCP.
            self._proto.transport_failed(exc)
            self._abort(have_send_lock=True)

    def _abort(self, have_send_lock: bool = False) -> None:
        """Close the TCP connection now (idempotent)."""
        if self._sock_closed:
            return
        self._sock_closed = True
        self._proto.receive_eof()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("connection to %s ended: %s", _shown(self.url), self._proto.closed_exception())
        wait = 10.0 if self.close_timeout is None else self.close_timeout
        self._engine.close_socket(have_send_lock, _deadline(wait))


def _flush_out(shell: Writing | None, deadline: float | None) -> None:
    """The engine's ``flush_out``: what its TLS reads call when reading made
    TLS output (written now if the socket takes it; never waited for)."""
    if shell is not None:
        shell._flush(blocking=False, deadline=deadline, wait=False)


class Sending(Writing):
    """The sending calls of ``WsClient``."""

    # Set by WsClient.__init__ and _start (declared for the type checker).
    if TYPE_CHECKING:
        _send_data: Callable[..., int]

    def send(
        self,
        message: str | bytes | bytearray | memoryview | Iterable[str] | Iterable[bytes | bytearray | memoryview],
        compress: bool | None = None,
        timeout: float | None = None,
    ) -> None:
        """Send a text (str) or binary (bytes-like) message, or one message
        in pieces from an iterable.

        Args:
            message: str is sent as text (UTF-8), bytes-like as binary.  An
                iterable of str, or of bytes-like objects, is sent as one
                fragmented message (RFC 6455 §5.4): a frame per piece as it
                is taken, then an empty final frame, for payloads produced
                as a stream.  The send lock is held from the first frame to
                the last, so no other frame (a ping, another thread's
                message) comes between them; pongs the receiving thread
                owes wait until the end, and a send from the iterable
                itself raises RuntimeError (it would wait on that lock).  If the iterable raises, or a
                piece is of the other type, once a frame is out the message
                cannot be finished: the connection is failed (close 1011)
                and the exception raised.  An empty iterable sends nothing.
            compress: False sends this message uncompressed on a connection
                that negotiated permessage-deflate; None or True compress
                it when the connection does (RFC 7692 §6 lets any message
                go uncompressed).
            timeout: seconds to wait for the server to take the frame
                (default: the ``send_timeout`` option; None there means no
                limit).
            ``compress`` and ``timeout`` are meant to be passed by name but
            are not keyword-only: CPython fills a keyword-only default
            through a dict lookup, 260 instructions on every send()
            (valgrind, bench/icount.py: 4,853 against 4,589 per 64-byte
            send).

        Raises:
            TypeError: neither a str nor a bytes-like object.
            ConnectionClosed: the connection is closing or closed.
            WebSocketTimeout: the server did not take the frame in time.  If
                none of it was written, the connection stays usable; if part
                was, the stream cannot go on and the connection is closed
                (later calls raise ConnectionClosed, 1006).
        """
        cls = message.__class__
        if cls is bytes or cls is bytearray:  # exact types first: the hot path
            opcode = _BINARY
        elif cls is str:
            opcode = _TEXT
        elif _fragments(message):
            self._send_fragmented(message, compress, timeout)
            return
        else:
            opcode, message = _classify(message, "send()")
        # The hot path: one compiled call (Engine.send_data), over TLS too.
        status = self._send_data(opcode, message, compress, timeout)
        if status != 1:
            self._send_rest(status, opcode, message, compress, timeout, "send()")

    def _send_rest(self, status: int, opcode: int, message: Any, compress: object, timeout: object, what: str) -> None:
        """What Engine.send_data left (its ``status``): replies to write
        after the message, a failed write to decide, or the full send."""
        if status == 2:
            self._flush(blocking=False)  # replies queued meanwhile
        elif status < 0:
            failure = self._engine.send_failure
            assert failure is not None
            self._send_failed(failure)
        else:
            self._send_choosing(opcode, message, compress, timeout, what)

    def _send_fragmented(self, pieces: Iterable[Any], compress: object, timeout: object) -> None:
        """send() of an iterable: one message, a frame per piece (§5.4)."""
        if compress is not None:
            _check_compress(compress)
        compressed = self._proto.writer.compresses(compress)
        seconds = self._send_limit(timeout)
        deadline = _deadline(seconds)
        it = iter(pieces)
        try:
            first = next(it)
        except StopIteration:
            return
        opcode, piece = _classify(first, "send() (piece 0)")
        try:
            self._lock_for_send(deadline)
            lock = self._send_lock
            # The pieces are taken under the lock: a send from the iterable
            # itself (same thread) would wait on it for ever.
            self._send_lock = _FragmentGuard(lock, threading.get_ident())
            try:
                self._write_fragments(it, opcode, piece, compressed, deadline)
            finally:
                self._send_lock = lock
                lock.release()
        except _Stalled:
            raise self._stalled("send()", seconds) from None
        if self._pending or self._engine.tls_out:
            self._flush(blocking=False)

    def _write_fragments(
        self, it: Iterator[Any], opcode: int, piece: Any, compressed: bool, deadline: float | None
    ) -> None:
        """The frames of a fragmented message, made by the protocol's writer
        (``FrameWriter.begin``/``fragment``); the caller holds the send lock.

        Each piece is written before the next is taken (an iterable may
        refill one buffer), so the final frame is an empty one."""
        self._check_open()
        self._writable(deadline)
        writer = self._proto.writer
        writer.begin(opcode, compressed)
        index = 0
        sent = False  # a frame of the message is out: it must be finished
        final = False
        try:
            while True:
                frame = writer.fragment(b"" if final else piece, final)
                self._write(frame, deadline, committed=sent or compressed)
                sent = True
                if final:
                    return
                try:
                    item = next(it)
                except StopIteration:
                    final = True
                    continue
                index += 1
                piece = _next_piece(item, index, opcode)
        except BaseException as exc:
            writer.end_fragments()
            if sent and self._proto.is_open():
                # Half a message is on the wire: only a close can follow.
                self._proto.fail(1011, f"fragmented send() stopped: {type(exc).__name__}")
                self._flush_locked(deadline)
            raise

    def _send_choosing(self, opcode: int, payload: Any, compress: object, timeout: object, what: str = "send()") -> None:
        if compress is not None:
            _check_compress(compress)
        compressed = self._proto.writer.compresses(compress)
        seconds = self._send_limit(timeout)
        try:
            self._send_made(_deadline(seconds), compressed, self._proto.writer.message, opcode, payload, compressed)
        except _Stalled:
            raise self._stalled(what, seconds) from None

    def _send_limit(self, timeout: object) -> float | None:
        """The send timeout in force: the call's, else the connection's."""
        if timeout is None:
            return self._send_timeout
        return _check_timeout("timeout", timeout)

    def send_binary(
        self, data: Buffer | Iterable[int], compress: bool | None = None, timeout: float | None = None
    ) -> None:
        """Send a binary message from any bytes-like object or iterable of
        ints (``compress`` and ``timeout`` as for :meth:`send`)."""
        cls = data.__class__
        if cls is not bytes and cls is not bytearray and cls is not memoryview:
            try:
                data = memoryview(data)  # type: ignore[arg-type]  # TypeError handled below
            except TypeError:
                if isinstance(data, str):
                    raise TypeError("send_binary() takes bytes, not str; use send() for text") from None
                try:
                    data = bytes(data)
                except (TypeError, ValueError) as exc:
                    raise type(exc)(
                        f"send_binary() takes a bytes-like object or an iterable of ints "
                        f"0-255: {exc}"
                    ) from None
        status = self._send_data(_BINARY, data, compress, timeout)  # as send()
        if status != 1:
            self._send_rest(status, _BINARY, data, compress, timeout, "send_binary()")

    def ping(self, data: str | bytes = b"", timeout: float | None = None) -> threading.Event:
        """Send a ping (payload of at most 125 bytes; str is sent as UTF-8).

        Returns:
            A ``threading.Event`` set when the matching pong has been read
            (by whichever thread is in :meth:`receive`: pongs are read only
            there); ``ws.latency`` is then the round trip.  A pong answers
            every ping sent before it too (RFC 6455 §5.5.3 lets a server
            answer only the latest).

        Raises:
            WebSocketTimeout: ``timeout`` (or ``send_timeout``) passed before
                the server took the frame (see :meth:`send`).
        """
        payload = control_payload("ping", data)
        waiter = threading.Event()
        self._proto.ping_sent(payload, waiter, time.monotonic())
        try:
            self._send_control(_PING, payload, timeout, "ping()")
        except BaseException:
            self._proto.ping_cancelled(waiter)
            raise
        return waiter

    def pong(self, data: str | bytes = b"", timeout: float | None = None) -> None:
        """Send a pong, e.g. echoing a ping's data when auto_pong is off."""
        self._send_control(_PONG, control_payload("pong", data), timeout, "pong()")

    def _send_control(self, opcode: int, payload: bytes, timeout: object, what: str) -> None:
        seconds = self._send_limit(timeout)
        try:
            self._send_made(_deadline(seconds), False, self._proto.writer.control, opcode, payload)
        except _Stalled:
            raise self._stalled(what, seconds) from None

    @property
    def latency(self) -> float | None:
        """Seconds between the last answered ping (keepalive's or
        :meth:`ping`'s) and its pong; None before any."""
        return self._proto.latency  # type: ignore[no-any-return]

    def send_many(self, messages: Iterable[Any], compress: bool | None = None, timeout: float | None = None) -> None:
        """Send each item of ``messages`` as its own message, as send() would
        (str: text; bytes-like: binary), writing them together.

        Small messages are encoded into one buffer and written with one
        system call per 256 KiB instead of one each: many times the rate of
        a send() loop for messages of a few hundred bytes.  Nothing is
        delayed: every message is written before this returns.  Frames on
        the wire stay whole and in order.  Each item is encoded before the
        next is taken, so one buffer may be refilled and yielded again.  The
        iterable is consumed outside the send lock (the batch is masked with
        mask keys of its own), so it may itself call ``ping()`` or
        ``send()``.  If an item is neither str nor bytes-like, the messages
        before it are sent and TypeError names its index.  ``compress`` is
        as for :meth:`send`, for every message; compressed items are copied
        as they are taken and compressed in order under the send lock.
        ``timeout`` bounds the whole call: the batches written before it
        passed are sent, and a batch partly written closes the connection.

        Raises:
            TypeError: an item is neither a str nor a bytes-like object.
            ConnectionClosed: the connection is closing or closed.
            WebSocketTimeout: see :meth:`send`.
        """
        if compress is not None:
            _check_compress(compress)
        seconds = self._send_limit(timeout)
        deadline = _deadline(seconds)
        try:
            if self._proto.writer.compresses(compress):
                self._send_many_compressed(messages, deadline)
            else:
                self._send_many_plain(messages, deadline)
        except _Stalled:
            raise self._stalled("send_many()", seconds) from None

    def _send_many_plain(self, messages: Iterable[Any], deadline: float | None) -> None:
        # Framed as the items are taken, outside the send lock: with a
        # writer of its own (its own mask keys), never compressing.
        frame = self._proto.writer.batch().message
        out = bytearray()
        try:
            for index, message in enumerate(messages):
                cls = message.__class__
                if cls is bytes or cls is bytearray:
                    opcode = _BINARY
                else:
                    opcode, message = _classify(message, f"send_many() (item {index})")
                if len(message) >= _BATCH_BYTES:
                    # A big message gains nothing from the batch buffer.
                    if out:
                        self._send_made(deadline, False, _as_is, out)
                        out = bytearray()
                    self._send_made(deadline, False, self._proto.writer.message, opcode, message, False)
                    continue
                out += frame(opcode, message, False)
                if len(out) >= _BATCH_BYTES:
                    self._send_made(deadline, False, _as_is, out)
                    out = bytearray()
        except (TypeError, UnicodeEncodeError):
            if out and self._proto.is_open():  # the messages before the bad item
                self._send_made(deadline, False, _as_is, out)
            raise
        if out:
            self._send_made(deadline, False, _as_is, out)

    def _send_many_compressed(self, messages: Iterable[Any], deadline: float | None) -> None:
        batch: list[tuple[int, Any]] = []
        size = 0
        try:
            for index, message in enumerate(messages):
                opcode, message = _classify(message, f"send_many() (item {index})")
                if opcode == _TEXT:
                    # Encoded here, not when the batch is compressed: a str
                    # with no UTF-8 then fails before the items ahead of it
                    # are in the compressor's history (compressed, never
                    # sent, they would leave the server's decompressor
                    # behind ours).
                    message = message.encode("utf-8")
                elif message.__class__ is not bytes:
                    # A copy: the iterable may refill one buffer for the next item.
                    message = bytes(message)
                batch.append((opcode, message))
                size += len(message)
                if size >= _BATCH_BYTES:
                    self._send_made(deadline, True, self._compressed_batch, batch)
                    batch, size = [], 0
        except (TypeError, UnicodeEncodeError):
            if batch and self._proto.is_open():  # the messages before the bad item
                self._send_made(deadline, True, self._compressed_batch, batch)
            raise
        if batch:
            self._send_made(deadline, True, self._compressed_batch, batch)

    def _compressed_batch(self, batch: list[tuple[int, Any]]) -> bytearray:
        """The frames of ``batch``, compressed in order (under the send lock)."""
        frame = self._proto.writer.message
        out = bytearray()
        for opcode, payload in batch:
            out += frame(opcode, payload, True)
        return out
