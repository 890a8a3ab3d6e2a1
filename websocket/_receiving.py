"""Receiving, as part of ``WsClient``: ``receive``, ``receive_into``,
``receive_streaming`` and iteration (:class:`Receiving`), the waits for
bytes with their deadlines and keepalive, and :class:`MessageStream`.  The
per-message fast path is the engine's (``Engine.receive_ready``); what it
leaves (control frames, fragments, waiting, the end) comes here."""

from __future__ import annotations

import functools
import time
from _thread import get_ident
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic

from ._codec import parser as _parser_module
from ._codec import protocol as _protocol_module
from ._exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    MessageTooBig,
    ProtocolError,
    WebSocketError,
    WebSocketTimeout,
)
from ._frames import Opcode, State
from ._messages import Received, TextMessageT
from ._waiting import _check_timeout, _deadline, _Poller

if TYPE_CHECKING:
    from ._engine import Engine

_TEXT, _CLOSE = int(Opcode.TEXT), int(Opcode.CLOSE)


class Receiving(Generic[TextMessageT]):
    """The receiving calls of ``WsClient``."""

    # Set by WsClient.__init__ and _start (declared for the type checker).
    if TYPE_CHECKING:
        _done: bool
        _engine: Engine
        _is_closed: Callable[[], bool]
        _next_message: Callable[[], Any]
        _parser: Any
        _pending: Any
        _proto: Any
        _recv_lock: Any
        _rpoll: _Poller
        _sock_closed: bool
        close_timeout: float | None

        def _abort(self, have_send_lock: bool = False) -> None: ...

        def _finish(self, deadline: float | None) -> None: ...

        def _flush(self, blocking: bool, deadline: float | None = None, then: Any = None, wait: bool = True) -> bool: ...

        def _tls_pending(self) -> bool: ...

    def receive(self, timeout: float | None = None) -> Received[TextMessageT]:
        """Block until the next message and return it.

        Returns:
            ``{"type": "text", "data": str}``,
            ``{"type": "binary", "data": bytes}``,
            ``{"type": "ping"|"pong", "data": bytes}``, or
            ``{"type": "close", "code": int, "reason": str, "data": bytes}``
            (once; code 1005 when the server sent none).  Their types are
            :data:`Message`.

        Raises:
            WebSocketTimeout: nothing complete arrived within ``timeout``
                seconds; the connection stays usable and keeps what it read.
            ConnectionClosed: the connection is closed (code 1006 if TCP
                dropped without a close frame).
            ProtocolError: the server broke the protocol; the connection
                was closed with 1002 (or 1007 for invalid UTF-8).
            MessageTooBig: a message exceeded ``max_size`` (closed with 1009).
            ConcurrencyError: another thread is in a receive call on this
                connection (nothing is read or changed).
        """
        # One compiled call (Engine.receive; the connection's own receive
        # is that, unless a subclass overrides this): the fast path, a
        # message already buffered or one read (bounded by ``timeout``), on
        # plain TCP or over TLS without a timeout; else the full receive
        # (_receive).  Until it returns, the parser holds the message
        # (FrameParser.held): a call a signal handler interrupted after the
        # message was parsed leaves it to the next one.
        return self._engine.receive(timeout)  # type: ignore[no-any-return]

    def _receive(self, timeout: float | None, held: bool) -> Received[TextMessageT]:
        """receive() when the fast path has nothing: wait for bytes, take
        control frames, end a failed or closed connection.  ``held``: the
        receive lock is already this thread's (handed over by the fast
        path, with no gap in which a close() could take it)."""
        deadline = None
        try:
            if timeout is not None:
                if not held:
                    deadline = self._lock_receive(timeout, "receive()")
                elif self._engine.deadline >= 0.0:  # its read's
                    deadline = self._engine.deadline
                else:  # (a timeout the fast path took is a valid one)
                    deadline = time.monotonic() + float(timeout)
            elif not held and not self._engine.take():
                self._wait_receive(None, "receive()")
            # (held by the parser until receive() returns it)
            return self._await(self._next_message, False, deadline, timeout, "receive()")  # type: ignore[no-any-return]
        finally:
            self._engine.give_back()

    def _lock_receive(self, timeout: object, what: str) -> float | None:
        """Take the receive lock (``_wait_receive``); the deadline ``timeout``
        sets.  Called inside the receive call's ``try``, whose ``finally``
        releases it with ``self._engine.give_back()``: one
        compiled call, where a call to a Python method would let a signal
        handler raise as it starts, before the release (a leaked lock)."""
        seconds = _check_timeout("timeout", timeout)
        deadline = None if seconds is None else time.monotonic() + seconds
        if not self._engine.take():
            self._wait_receive(seconds, what)
        return deadline

    def _wait_receive(self, seconds: float | None, what: str) -> None:
        """The receive lock is taken.  While the connection is open only a
        receive call in another thread takes it: refuse this one, which
        would race it for the next message.  Once closing, close() takes it
        to wait for the server's close frame: wait for that (this call then
        raises ConnectionClosed), within ``seconds``."""
        if self._proto.state == State.OPEN:
            raise ConcurrencyError(
                f"{what} called while another thread is receiving on this connection: "
                "receive from one thread (hand messages to others with a queue)"
            )
        if seconds is None:
            self._recv_lock.acquire()
        elif not self._recv_lock.acquire(True, seconds):
            raise WebSocketTimeout(f"{what} timed out after {seconds} s (close() is waiting)")
        self._engine.handed = get_ident()

    def receive_into(self, buffer: Any, timeout: float | None = None) -> tuple[int, str]:
        """Receive the next text or binary message into ``buffer``.

        For feeds of many messages: the payload is copied once, from the
        receive buffer into yours (a ``bytearray``, a ``memoryview`` of
        one, a numpy array ...), and no object is made per message, so a
        handler can parse it in place.  Text arrives as its UTF-8 bytes,
        checked.  Pings are answered and pongs matched as by
        :meth:`receive`, but not returned.

        Returns:
            ``(size, type)``: the message is ``buffer[:size]``; type is
            "text" or "binary".

        Raises:
            BufferTooSmall: the message does not fit.  One that came in one
                frame (the usual case) is left unread: call again with a
                larger buffer, or :meth:`receive`.  A fragmented or
                compressed one shows its size only as it arrives: the
                buffer then holds its first bytes and the rest is
                discarded.  The connection stays open either way.
            WebSocketTimeout: nothing complete within ``timeout``.  Bytes
                of the message may be in the buffer already: call again
                with the same buffer to go on (another receive call
                discards that message).
            ConnectionClosed: the connection is closed, or closes now (the
                server's close frame is answered and raises this).
            ProtocolError, MessageTooBig, ConcurrencyError: as for
                :meth:`receive`.
        """
        if buffer is None:
            raise TypeError("receive_into() takes a writable bytes-like object, not None")
        parser = self._parser
        try:
            deadline = self._lock_receive(timeout, "receive_into()")
            # A whole frame already here: straight into the buffer.
            size = -1 if self._done else parser.whole_into(buffer)
            if size < 0:
                view = _parser_module._writable(buffer)  # one view for the whole call
                size = self._await(functools.partial(self._parser.next_piece_into, view), True, deadline, timeout, "receive_into()")
            kind = "text" if parser.last_opcode == _TEXT else "binary"
        finally:
            self._engine.give_back()
        parser.held_size = -1  # taken, with no call before the return (see receive())
        return size, kind

    def receive_streaming(self, timeout: float | None = None) -> MessageStream:
        """Receive the next text or binary message piece by piece, as its
        bytes arrive: a huge message never sits whole in memory.

        Waits for the message's first bytes, then returns a
        :class:`MessageStream`: its ``type`` is "text" or "binary", and
        iterating over it yields the pieces (``bytes``; ``str`` for text,
        or UTF-8 ``bytes`` with ``decode_text=False``).  UTF-8 is checked
        as the bytes arrive and ``max_size`` bounds the whole message (None
        for no limit); with permessage-deflate the pieces are decompressed.
        Pings and pongs are handled as for :meth:`receive_into`.

        ``timeout`` bounds each wait: for the first bytes here, for each
        piece when iterating (a WebSocketTimeout leaves the stream usable).
        Leaving the loop early, or calling another receive method, discards
        the rest of the message as it arrives.

        Raises:
            ConnectionClosed, ProtocolError, MessageTooBig, WebSocketTimeout,
                ConcurrencyError: as for :meth:`receive_into`.
        """
        try:
            deadline = self._lock_receive(timeout, "receive_streaming()")
            self._parser.discard_message()  # a stream left unfinished
            first = self._await(self._parser.next_piece, True, deadline, timeout, "receive_streaming()")
            parser = self._parser
            kind = "text" if parser.last_opcode == _TEXT else "binary"
            return MessageStream(self, kind, first, parser.piece_fin, parser.stream_serial, timeout)
        finally:
            self._engine.give_back()

    def _stream_piece(self, serial: int, timeout: float | None) -> tuple[Any, bool]:
        """MessageStream's next piece and whether it was the last."""
        try:
            deadline = self._lock_receive(timeout, "receive_streaming()")
            parser = self._parser
            if not parser.is_streaming(serial):
                if self._proto.state != State.OPEN:
                    raise self._proto.closed_exception()  # close() discarded it
                raise WebSocketError(
                    "this message stream was cut short: another receive call took the "
                    "connection and discarded the rest of the message"
                )
            piece = self._await(self._parser.next_piece, True, deadline, timeout, "receive_streaming()")
            return piece, parser.piece_fin
        finally:
            self._engine.give_back()

    def _discard_stream(self, serial: int) -> None:
        """A MessageStream left unfinished: drop the rest of its message.

        Never waits (it may run from a garbage collection in any thread):
        if the lock is taken, its holder is a receive call or close(),
        each of which discards the rest as it reads."""
        if self._recv_lock.acquire(False):
            try:
                if self._parser.stream_serial == serial:
                    self._parser.discard_message()
            finally:
                self._recv_lock.release()

    def _await(self, take: Callable[[], Any], pieces: bool, deadline: float | None, timeout: object, what: str) -> Any:
        """The full receive's loop, whatever the call: ``take()`` (the
        parser's ``next_message``, ``next_piece`` or ``next_piece_into``)
        until it gives a result, reading until ``deadline`` in between; a
        bad frame or EOF ends the connection.  A control frame's replies
        are written; receive() returns the frame (``pieces`` False), the
        piecewise reads take it and go on, and a close frame raises."""
        parser = self._parser
        first = True
        while True:
            if self._done:
                raise self._proto.closed_exception()
            try:
                result = take()
            except (ProtocolError, MessageTooBig):
                self._end(deadline)
                raise
            if result is not None:
                if parser.last_opcode < 8:
                    return result
                self._after_control(deadline)
                if not pieces:
                    return result
                parser.held = None  # a control frame, handled here
                if parser.last_opcode == _CLOSE:
                    raise self._proto.closed_exception()
                continue
            if self._is_closed():
                self._end(deadline)  # EOF, nothing buffered
                raise self._proto.closed_exception()
            if not self._fill(deadline, first):
                raise WebSocketTimeout(f"{what} timed out after {timeout} s")
            first = False

    def _after_control(self, deadline: float | None) -> None:
        """Send queued replies without waiting on a sender; after a close,
        end TCP."""
        if self._proto.is_open():
            self._flush(blocking=False, deadline=deadline, wait=False)
        elif self._is_closed():
            self._end(deadline)

    def _end(self, deadline: float | None) -> None:
        """The connection is closed: send what is queued (our close frame),
        then close TCP, all within ``deadline`` and close_timeout.

        Both bound it: a receive(timeout=60) that fails the connection
        must not spend 60 s draining a server that sends without end."""
        self._done = True
        if self._proto.unresponsive:
            # A peer that answers no ping answers no close either: send ours
            # if the socket takes it now, and end TCP without waiting.
            self._flush(blocking=False)
            self._abort()
            return
        limit = _deadline(self.close_timeout)
        if deadline is None or (limit is not None and limit < deadline):
            deadline = limit
        self._finish(deadline)

    def _fill(self, deadline: float | None, first: bool = False) -> bool:
        """Receive more bytes into the protocol; False on timeout (also
        when bytes keep arriving but no message completes in time).

        ``first``: the receive call's first read, which takes what the
        kernel already holds even when the deadline has passed
        (``timeout=0`` starts there): a timeout means nothing was there,
        never that bytes sat unread."""
        if deadline is not None and not first and time.monotonic() >= deadline:
            return False
        return self._engine.fill(deadline)

    def _fill_keepalive(self, deadline: float | None, first: bool = False) -> bool:
        """_fill with keepalive (set as ``self._fill`` when ping_interval is
        given): the wait for bytes is cut at the protocol's next keepalive
        decision, which may queue a ping or fail the connection (1011)."""
        proto = self._proto
        while True:
            now = time.monotonic()
            wait = proto.keepalive(now)
            if self._is_closed():
                return True  # failed (no pong): receive() reports it
            if self._pending:
                self._flush(blocking=False, wait=False)  # the keepalive ping
            until = None if wait is None else now + wait
            if until is None or (deadline is not None and deadline <= until):
                got = Receiving._fill(self, deadline, first)
                if got:
                    proto.data_received(time.monotonic())
                return got
            if Receiving._fill(self, until):
                proto.data_received(time.monotonic())
                return True

    def _await_close(self, deadline: float | None) -> None:
        """Read until the server's close frame, EOF or the deadline; data
        messages that arrive meanwhile are discarded."""
        proto = self._proto
        while proto.state == State.CLOSING and not self._sock_closed:
            try:
                msg = proto.next_message()
            except (ProtocolError, MessageTooBig):
                return
            self._parser.held = None  # discarded
            if msg is None and not self._fill(deadline):
                return

    def __iter__(self) -> Iterator[Received[TextMessageT]]:
        """Yield text and binary messages until the connection closes.

        Ends when the server's close frame arrives or after :meth:`close`;
        raises ConnectionClosed if the connection dropped (code 1006) or
        this client failed it (1011 when a keepalive ping went unanswered).
        """
        while True:
            try:
                msg = self.receive()
            except ConnectionClosed as exc:
                if _protocol_module.closed_quietly(self._proto, exc):
                    return
                raise
            kind = msg["type"]
            if kind == "text" or kind == "binary":
                yield msg
            elif kind == "close":
                return


class MessageStream:
    """One message read as it arrives: see :meth:`WsClient.receive_streaming`.

    Iterate over it for the pieces; ``type`` is "text" or "binary".
    ``close()`` (or leaving a ``with`` block) discards what is left.
    """

    __slots__ = ("type", "_ws", "_next", "_fin", "_serial", "_timeout")

    def __init__(
        self, ws: Receiving[Any], kind: str, first: Any, fin: bool, serial: int, timeout: float | None
    ) -> None:
        self.type = kind
        self._ws = ws
        self._next = first  # the piece receive_streaming() waited for
        self._fin = fin
        self._serial = serial
        self._timeout = timeout

    def __iter__(self) -> MessageStream:
        return self

    def __next__(self) -> Any:
        piece = self._next
        if piece is not None:
            self._next = None
            return piece
        if self._fin:
            raise StopIteration
        piece, self._fin = self._ws._stream_piece(self._serial, self._timeout)
        return piece

    def close(self) -> None:
        """Discard the rest of the message (as it arrives)."""
        if not self._fin:
            self._fin = True
            self._next = None
            self._ws._discard_stream(self._serial)

    def __enter__(self) -> MessageStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "complete" if self._fin else "arriving"
        return f"<MessageStream {self.type} {state}>"
