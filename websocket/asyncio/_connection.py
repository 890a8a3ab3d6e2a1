"""The asyncio engine: one connection's bytes between asyncio's transport
and the sans-I/O protocol (``_protocol.py``), which makes every decision.

:class:`Connection` is an :class:`asyncio.BufferedProtocol`: the event loop
reads straight into the parser's receive buffer (``get_buffer`` /
``buffer_updated``, the same buffer the blocking engine reads into), and
every complete message is taken out at once, in the loop's callback: pings
are answered there and then, and ``receive()`` finds a message already
taken without suspending.  Writes are whole frames handed to the transport
in one ``write()``: a cancelled ``send()`` never leaves half a frame.

One thread (the loop's) owns the protocol, so it gets no mutex
(``ClientProtocol(mutex=None)``).  RFC 6455 references are to sections of
https://www.rfc-editor.org/rfc/rfc6455.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from .._exceptions import HandshakeError, MessageTooBig, ProtocolError

__all__ = ["Connection"]

#: Messages taken from the buffer but not yet received: past this many,
#: reading pauses until receive() takes them (RFC 6455 leaves flow control
#: to TCP: a paused transport stops reading, and the server's sends block).
HIGH_WATER = 256
#: Reading resumes when this many or fewer wait.
LOW_WATER = 64
#: The response head is read into this much at a time.
_HANDSHAKE_READ = 4096


class Connection(asyncio.BufferedProtocol):
    """The asyncio engine of one connection (see the module doc).

    Attributes:
        proto: the :class:`~websocket._protocol.ClientProtocol`.
        messages: messages taken from the buffer, oldest first.
        opened: a future set once the opening handshake is done (its
            exception: the handshake's failure).
        closed: a future set when the transport is gone.
    """

    def __init__(self, proto: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.proto = proto
        self.parser = proto.parser
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.messages: deque[Any] = deque()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        #: The transport's write buffer is over its high water (send()
        #: then waits in drain()).
        self.write_paused = False
        self._drained: asyncio.Future[None] | None = None
        self._head = bytearray(_HANDSHAKE_READ)
        # The next keepalive decision (ping_interval), a loop timer.
        self._keepalive_timer: asyncio.TimerHandle | None = None
        #: Reads are reported to the protocol (its keepalive and latency).
        self._report_reads = proto.ping_interval is not None

    # -- asyncio.BufferedProtocol ---------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not asyncio.Transport subclasses.)
        self.transport = transport  # type: ignore[assignment]
        self.write(self.proto.connect_request())

    def get_buffer(self, sizehint: int) -> Any:
        if not self.opened.done():
            return self._head
        return self.parser.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        if not self.opened.done():
            self._handshake_data(bytes(self._head[:nbytes]))
            return
        self.parser.buffer_updated(nbytes)
        if self._report_reads or self.proto.pings:  # (keepalive, latency)
            self.proto.data_received(time.monotonic())
        self._take()

    def eof_received(self) -> bool:
        self._ended(None)
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        if self._keepalive_timer is not None:
            self._keepalive_timer.cancel()
            self._keepalive_timer = None
        self._ended(exc)
        self._wake(self._drained)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake(self._drained)

    # -- the opening handshake (RFC 6455 §4.1) --------------------------------

    def _handshake_data(self, data: bytes) -> None:
        try:
            if not self.proto.receive_handshake(data):
                return
        except HandshakeError as exc:
            self._fail_open(exc)
            return
        self.opened.set_result(None)
        if self._report_reads:
            self.proto.data_received(time.monotonic())
            self._keepalive()
        self._take()  # frames that came with the response

    def _fail_open(self, exc: BaseException) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
            self.opened.exception()  # (retrieved: the opener raises it)
        if self.transport is not None:
            self.transport.abort()

    # -- receiving -------------------------------------------------------------

    def _take(self) -> None:
        """Take every complete message out of the buffer (the protocol queues
        its replies meanwhile: pongs, the close reply), write the replies,
        and pause reading while too many wait."""
        proto = self.proto
        try:
            while True:
                msg = proto.next_message()
                if msg is None:
                    break
                self.messages.append(msg)
        except (ProtocolError, MessageTooBig):
            # The protocol failed the connection (1002, 1007, 1009), kept
            # the error (proto.failure, which receive() raises once the
            # messages before it are taken) and queued its close frame:
            # written below, then TCP ends.
            pass
        self.flush_replies()
        if proto.is_closed():
            self._close_transport()
        elif len(self.messages) >= HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake(self._waiter)

    def taken(self) -> None:
        """receive() took a message: resume reading below the low water."""
        if self._paused and len(self.messages) <= LOW_WATER and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    async def wait_message(self) -> None:
        """Until a message is taken or the connection ends.  Cancelling it
        loses nothing: messages wait in ``messages``."""
        waiter = self.loop.create_future()
        self._waiter = waiter
        try:
            await waiter
        finally:
            if self._waiter is waiter:
                self._waiter = None

    def _ended(self, exc: BaseException | None) -> None:
        if not self.opened.done():
            if exc is None:
                try:
                    self.proto.receive_handshake_eof()
                except HandshakeError as failure:
                    exc = failure
            self._fail_open(exc if exc is not None else HandshakeError("connection closed during the handshake"))
        self.proto.receive_eof()
        self._wake(self._waiter)

    # -- keepalive (RFC 6455 §5.5.2) ------------------------------------------

    def _keepalive(self) -> None:
        """The protocol's keepalive decision, on a loop timer: it may queue
        a ping (written now) or fail the connection (1011) when the last
        ping's pong is late; a peer that answers no ping answers no close
        either, so TCP then ends at once."""
        self._keepalive_timer = None
        proto = self.proto
        wait = proto.keepalive(time.monotonic())
        self.flush_replies()
        if proto.is_closed():
            if proto.unresponsive:
                self.abort()
            self._wake(self._waiter)
            return
        if wait is not None:
            self._keepalive_timer = self.loop.call_later(wait, self._keepalive)

    # -- sending ---------------------------------------------------------------

    def write(self, data: Any) -> None:
        """Hand one or more whole frames to the transport (never a part)."""
        assert self.transport is not None
        self.transport.write(data)

    def flush_replies(self) -> None:
        """Write the replies the protocol queued (pongs, a close frame)."""
        data = self.proto.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is over its high water
        (``pause_writing``), or until the connection is gone."""
        while self.write_paused and not self.closed.done():
            drained = self.loop.create_future()
            self._drained = drained
            await drained

    def _close_transport(self) -> None:
        """The protocol is CLOSED: end TCP.  The server closes first (RFC
        6455 §7.1.1); after our close reply a half-close tells it to."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if transport.can_write_eof():
            transport.write_eof()
        else:
            transport.close()

    def abort(self) -> None:
        """End TCP now."""
        self.proto.receive_eof()
        if self.transport is not None:
            self.transport.abort()

    def closed_error(self) -> BaseException:
        """What receive() and send() raise once the connection is closed."""
        failure = self.proto.failure
        if isinstance(failure, (ProtocolError, MessageTooBig)):
            return failure
        closed: BaseException = self.proto.closed_exception()
        return closed

    @staticmethod
    def _wake(future: asyncio.Future[None] | None) -> None:
        if future is not None and not future.done():
            future.set_result(None)

