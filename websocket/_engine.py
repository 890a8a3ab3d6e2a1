"""The blocking engine's per-message paths: the receive and send locks, the
one call per message that reads or writes the socket, and the one write of
every other send.

A compiled room like the protocol (``_engine.pxd``): :class:`Transport`
is the socket as the full paths use it; :class:`Engine`, on it, holds a
connection's two :class:`~websocket._speedups.FastLock`\\ s and the fast
paths (a descriptor for plain TCP, the TLS layer's
``write_ready``/``read_ready`` otherwise), and asks the protocol
(``_protocol.py``), its parser (``_parser.py``) and its frame writer
(``_writer.py``) for every decision.  ``WsClient`` (``_client.py``) calls
:meth:`Engine.send_data` and :meth:`Engine.receive` first; when one of them
declines, its full send or receive goes on with the lock and the same
protocol, every byte the full sends write goes through
:meth:`Engine.write`, the full receive reads through :meth:`Engine.fill`
(plain TCP and TLS), and the socket is ended by :meth:`Engine.shutdown_write`
and :meth:`Engine.close_socket`.  Once the connection is open no other room
reads, writes or closes the socket (the opening room, ``_connect.py``, uses
it before: TCP, proxies, the TLS and upgrade handshakes).

Why a compiled room: ``WsClient``'s Python loop cost more than the parse
itself (a 64-byte ``receive()`` was 1,850 instructions of loop, locks and
attribute reads around 1,240 of parsing; ``bench/icount.py``).  Compiled,
no Python code runs between the state check and the read, so a ``close()``
in another thread, which marks the connection closed before it closes the
socket, never leaves a read on a descriptor that is no longer this
connection's.
"""

from __future__ import annotations

import time
from _thread import get_ident
from socket import SHUT_RDWR, SHUT_WR
from ssl import SSLError
from typing import Any

from ._exceptions import ConnectionClosed, MessageTooBig, ProtocolError
from ._frames import State
from ._parser import Message

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_engine.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403
from ._waiting import _DONTWAIT, _WOULD_BLOCK, _acquire, _Stalled

__all__ = ["Engine", "Transport"]

_OPEN = State.OPEN
#: The longest receive_ready(timeout) takes (a year); longer ones, and inf,
#: are the full receive's (no limit there).
_TIMEOUT_MAX = 365 * 24 * 3600.0


class Transport:
    """One open connection's socket as the full paths use it: every read
    (:meth:`fill`, plain TCP and TLS; :meth:`drain`), every write that is
    not a fast path's (:meth:`write`), the half-close and the close.  Only
    this class and its subclass :class:`Engine` touch the socket once the
    connection is open (``tests/test_engine.py`` checks the package).

    Attributes the shell sets once the socket is connected:
        sock: the socket.
        tls: the TLS layer over it (``TLSLayer``, _tls.py), or None.
        send_fd: its descriptor for writes in C (plain TCP), or -1.
        read_fd: the descriptor the receive fast path reads, or -1.
        wpoll, rpoll: ``_Poller`` objects that wait until it takes or has
            bytes; recv_now: its ``recv_into`` that does not wait
            (MSG_DONTWAIT), as one callable.
        flush_out: the shell's non-blocking flush of replies and TLS output
            (a function of the shell and a deadline), which TLS reads call.
        shell: a weak reference to the connection (``WsClient``).
    """

    def __init__(self, proto: Any) -> None:
        self.proto = proto
        self.parser = proto.parser
        #: Held by every write: the compiled FastLock is cheaper to take
        #: than threading.Lock (see _speedups.FastLock).
        self.send_lock = new_lock()
        self.send_fd = -1
        self.read_fd = -1
        self.sock: Any = None
        self.tls: Any = None
        self.flush_out: Any = None
        self.wpoll: Any = None
        self.rpoll: Any = None
        self.recv_now: Any = None
        self.shell: Any = None

    def fill(self, deadline: float | None) -> bool:
        """The full receive's read: bytes into the parser's buffer, waiting
        until ``deadline`` (None: as long as it takes); EOF or a socket
        error ends the connection (``receive_eof``).  With a deadline the
        socket (blocking since the handshake) must not block in
        ``recv()``: MSG_DONTWAIT, or where there is none (Windows) a poll
        first.  Over TLS, :meth:`_fill_tls`.

        Returns:
            True: bytes came (or the connection ended); False: the deadline
            passed with none.
        """
        if self.tls is not None:
            return self._fill_tls(deadline)
        rpoll = self.rpoll
        flags = 0  # no deadline: a blocking recv
        if deadline is not None:
            if _DONTWAIT:
                flags = _DONTWAIT
            elif not rpoll.wait(deadline):
                return False
        reader = self.recv_now if flags else self.sock.recv_into
        proto = self.proto
        while True:
            try:
                # Read and booked as one step a signal handler cannot split
                # (FrameParser.read_with).
                n = self.parser.read_with(reader)
            except _WOULD_BLOCK:
                if not rpoll.wait(deadline):
                    return False
                continue
            except (OSError, ValueError):  # reset, or closed by close()
                n = 0
            if not n:
                proto.receive_eof()
            elif proto.pings:  # when a pong among them came
                proto.data_received(time.monotonic())
            return True

    def _fill_tls(self, deadline: float | None) -> bool:
        """:meth:`fill` over TLS: what the TLS layer has decrypted goes into
        the parser's buffer first; else records are read from the socket
        into it.  Reading can make TLS output (a TLS 1.3 key update's
        answer, an alert): the shell's ``flush_out`` writes it between
        reads if the socket takes it at once.  A broken record ends the
        stream (1006, with the SSLError as cause)."""
        tls = self.tls
        proto = self.proto
        rpoll = self.rpoll
        flags = _DONTWAIT if deadline is not None else 0
        while True:
            try:
                n = self.parser.read_with(tls.read_into)  # as in fill()
            except SSLError as exc:
                proto.transport_failed(exc)
                return True
            if n == 0:
                proto.receive_eof()
            elif n is not None and proto.pings:  # as in fill()
                proto.data_received(time.monotonic())
            if tls.has_output():
                self.flush_out(self.shell(), deadline)
            if n is not None:
                return True
            if deadline is not None and not _DONTWAIT and not rpoll.wait(deadline):
                return False
            try:
                got = tls.fill(self.sock, flags)
            except _WOULD_BLOCK:
                if not rpoll.wait(deadline):
                    return False
                continue
            except (OSError, ValueError):
                got = 0
            if not got:
                tls.feed(b"")

    def shutdown_write(self) -> None:
        """Half-close: the server reads EOF after our close frame (RFC 6455
        §7.1.1: it then closes TCP first)."""
        try:
            self.sock.shutdown(SHUT_WR)
        except (OSError, ValueError):
            pass

    def close_socket(self, have_send_lock: bool, lock_deadline: float | None) -> None:
        """End TCP now.  The shell has marked the connection closed first,
        so no read or write of this engine starts on the descriptor after
        this.  A shutdown wakes threads blocked on the socket; the close
        waits for the send lock (until ``lock_deadline``), since senders
        write to the raw descriptor: never to a number the OS reused."""
        sock = self.sock
        if sock is None:
            return
        if self.tls is not None:
            self.tls.stop_reading()  # (before the descriptor can close)
        try:
            sock.shutdown(SHUT_RDWR)
        except (OSError, ValueError):
            pass
        lock = self.send_lock
        locked = have_send_lock or _acquire(lock, lock_deadline)
        self.send_fd = -1
        try:
            sock.close()
        finally:
            if locked and not have_send_lock:
                lock.release()

    def dropped(self) -> None:
        """The connection was garbage-collected unclosed: its receive call
        may still be running (the engine's, which holds no reference to the
        shell), so it must not read the number once the OS reuses it."""
        self.read_fd = self.send_fd = -1
        if self.sock is not None:
            self.sock.close()

    def drain(self, deadline: float | None) -> None:
        """Read and discard until the server's EOF, or until ``deadline``:
        the end of ``close()``, after the half-close.  The server closes
        TCP first (RFC 6455 §7.1.1), and closing with unread bytes would
        send a reset that can destroy our close frame in flight."""
        sock = self.sock
        rpoll = self.rpoll
        if sock is None or rpoll is None:
            return  # (never opened)
        scratch = bytearray(65536)
        try:
            # poll() said readable: with no MSG_DONTWAIT (Windows) the recv
            # returns at once all the same.
            while rpoll.wait(deadline):
                try:
                    if not sock.recv_into(scratch, 0, _DONTWAIT):
                        return
                except _WOULD_BLOCK:
                    continue
        except (OSError, ValueError):
            pass

    def write(self, data: Any, deadline: float | None) -> None:
        """Write ``data`` whole to ``sock``: the one write of the full sends
        (frames the protocol's writer made, its replies, TLS records); the
        caller holds ``send_lock``.  With a deadline the socket (blocking
        since the handshake) must not block in ``send()``: MSG_DONTWAIT,
        or where there is none (Windows) a poll first.  Without one, over
        plain TCP, ``send_all`` writes to ``send_fd``.

        Raises:
            _Stalled: the deadline passed, with ``written`` bytes out.
            OSError, ValueError: the socket failed or was closed.
        """
        if deadline is None and self.send_fd >= 0:
            # Plain TCP with no deadline: written in C without the GIL, as
            # on the fast path (a Python socket.send costs a method call
            # with argument parsing per write).
            send_all(self.send_fd, data)
            return
        sock = self.sock
        view = memoryview(data)
        total = len(view)
        done = 0
        flags = 0 if deadline is None else _DONTWAIT
        try:
            while done < total:
                if deadline is not None and not _DONTWAIT and not self.wpoll.wait(deadline):
                    raise _Stalled(done)
                try:
                    done += sock.send(view[done:] if done else view, flags)
                except _WOULD_BLOCK:
                    if not self.wpoll.wait(deadline):
                        raise _Stalled(done) from None
        finally:
            view.release()


class Engine(Transport):
    """One connection's locks and per-message fast paths, on its
    :class:`Transport`.

    Attributes the shell sets once the connection is open:
        plain: :meth:`send_data` may take the fast path: no send timeout
            in force (the ``send_timeout`` option), so it may write without
            a deadline, and frames are not traced (the writer's
            ``on_frame`` hook, which only the full send calls).
        tls_out: TLS output waits to be written (a receiver produced it).
        writer: without a ``send_fd``, a callable that writes one encoded
            frame whole (``TLSLayer.write_ready``, _tls.py), or None.
        reader: without a ``read_fd``, a callable with
            ``socket.recv_into``'s contract (0 meaning "leave it to the
            full receive"), or None: no read here.
    """

    def __init__(self, proto: Any) -> None:
        Transport.__init__(self, proto)
        #: Taken once per receive() (send_lock once per send()).
        self.recv_lock = new_lock()
        self.plain = False
        self.tls_out = False
        self.writer: Any = None
        self.reader: Any = None
        #: The thread whose receive call holds ``recv_lock`` (take(),
        #: receive_ready()), or 0.
        self.handed = 0
        #: When receive_ready(timeout) read and handed the lock over: the
        #: deadline its wait began (time.monotonic()), for the full
        #: receive; else -1.0.
        self.deadline = -1.0
        #: The exception send_ready() raised with ``send_lock`` still held,
        #: until the shell has handled it.  An exception that is not this
        #: one came after the call returned (a signal handler's, run once
        #: the call was done), when the frame was out and the lock released:
        #: perhaps taken since by another thread's send_ready, so a flag
        #: ("inside send_ready") would be that thread's, not ours.
        self.send_failure: BaseException | None = None
        #: The shell's full receive (the function WsClient._receive), which
        #: receive() calls on ``shell`` with the lock handed over.  ``shell``
        #: is a weak reference: the connection holds the engine, not the
        #: other way round, so that a dropped connection is closed at once.
        self.full_receive: Any = None
        #: Called with every message receive() returns, fast or full, just
        #: before it is returned (the frame trace's hook, _trace.py), or None.
        self.on_message: Any = None

    def send_ready(self, opcode: int, payload: Any, compress: bool = True) -> bool:
        """The send fast path: one data frame (compressed when ``compress``
        and deflate was agreed) framed and masked, then written, under
        ``send_lock`` (tried once, never waited for): to ``send_fd`` by the
        encoder's ``send_to``, else whole by ``writer``.  The frame is the
        one ``FrameWriter.message`` makes (``_writer.py``), written without
        a copy of it: :meth:`send_data` does not come here while frames
        are traced (``plain`` is then False).

        Returns:
            True once the frame is written; False when nothing was done
            (neither a descriptor nor a writer, as with TLS in TLS; the lock
            busy; the connection not open): the shell's full send then waits
            and decides.

        Raises:
            Whatever the write raises (OSError, a signal handler's
            exception), with ``send_lock`` still held and the exception kept
            in ``send_failure``: the shell decides under the lock whether the
            connection can go on (``encoder.partial``, or never once a TLS
            record was made or the compressor has taken the message), then
            clears ``send_failure`` and releases the lock.
        """
        fd = self.send_fd
        if (fd < 0 and self.writer is None) or not self.send_lock.acquire(False):
            return False
        proto = self.proto
        if proto.state is not _OPEN:
            self.send_lock.release()
            return False
        try:
            deflater = proto.writer.deflater
            compressed = False
            if deflater is not None and compress:
                compressed = True
                # RFC 7692 §7.2.1, under the lock: frames leave in the
                # compressor's order.
                payload = deflater.compress(payload)
            if fd >= 0:
                proto.encoder.send_to(fd, opcode, payload, True, compressed)
            else:
                self.writer(proto.encoder.encode(opcode, payload, True, compressed))
        except BaseException as exc:
            self.send_failure = exc
            raise
        self.send_lock.release()
        return True

    def send_data(self, opcode: int, payload: Any, compress: object, timeout: object) -> int:
        """The send funnel's first step for a whole data message (``send()``,
        ``send_binary()``, the compat layer's), in one compiled call:
        :meth:`send_ready` unless an option needs the shell's full send.

        Returns:
            1: sent.
            2: sent, and pong or close replies or TLS output wait: the
                shell writes them now.
            0: not sent, for the shell's full send: ``timeout`` given, a
                ``send_timeout`` in force, ``compress`` neither None nor a
                bool (the shell says what is wrong), or what makes
                :meth:`send_ready` decline.
            -1: the write failed with ``send_lock`` held and the exception
                in ``send_failure``, for the shell to decide.
        """
        if timeout is not None or not self.plain:
            return 0
        use = True  # None: compressed when deflate was agreed (RFC 7692 §6)
        if compress is not None:
            if compress is False:
                use = False
            elif compress is not True:
                return 0
        try:
            if not self.send_ready(opcode, payload, use):
                return 0
        except BaseException as exc:
            if exc is not self.send_failure:
                # A signal handler's, run as the call returned (plain
                # Python): the frame is out and the lock released, perhaps
                # held by another thread's send by now.
                raise
            return -1
        if self.proto.pending or self.tls_out:
            return 2
        return 1

    def take(self) -> bool:
        """Try ``recv_lock`` once; True if taken, and then ``handed`` is this
        thread's identity, set with it (in one step in the compiled build:
        no signal handler runs in between), which the shell's receive calls
        read to release it whatever interrupts them."""
        if self.recv_lock.acquire(False):
            self.handed = get_ident()
            return True
        return False

    def give_back(self) -> None:
        """Release ``recv_lock`` if this thread's receive call holds it
        (``handed``): called from the ``finally`` of every receive call,
        which a signal handler may interrupt before the lock was taken or
        after.  One compiled call: nothing runs between the check and the
        release."""
        if self.handed == get_ident():
            self.handed = 0
            self.recv_lock.release()

    def receive(self, timeout: object = None) -> Any:
        """``WsClient.receive()`` in one compiled call (the shell makes it
        the connection's own ``receive`` unless a subclass overrides it):
        :meth:`receive_ready`, else the shell's ``full_receive`` under the
        lock handed over.  The message is taken from the parser's ``held``
        as it is returned, with no Python code in between where a signal
        handler could run and lose it; an exception on the way (a signal
        handler's, between the two calls) gives the handed lock back."""
        try:
            try:
                msg = self.receive_ready(timeout)
            except (ProtocolError, MessageTooBig):
                msg = None  # raised again by the full receive, which ends the connection
            if not msg:
                # None: the lock is held for it; False: busy (or a timeout
                # the full receive checks).
                shell = self.shell()
                if shell is None:  # dropped while its receive was called
                    raise ConnectionClosed(1006, "the connection was dropped")
                msg = self.full_receive(shell, timeout, msg is None)
            if self.on_message is not None:
                self.on_message(msg)  # (if it raises, the message stays held)
        except BaseException:
            self.give_back()
            raise
        self.parser.held = None
        return msg

    def receive_ready(self, timeout: object = None) -> Message | bool | None:
        """The receive fast path: the next message when it is one whole data
        frame, taken under ``recv_lock`` while the connection is open.  The
        lock is tried once, never waited for.  ``timeout`` (seconds, a float
        or an int from 0 to a year; None for no limit) bounds its read;
        any other value is left to the full receive, which says what is
        wrong with it.

        Returns:
            The message, with the lock released again.
            False: the lock is busy (another thread receives, or close()
                waits for the server), or ``timeout`` is not one this path
                takes; nothing was done.
            None: anything else (closing, a control frame or a fragment,
                bytes still to read, EOF, a socket error).  The lock is
                then *still held*: the shell's full receive goes on under
                it.  Releasing it in between would let a close() waiting in
                another thread take the control frame this call just read
                (found by tests/test_cli.py: the close frame went to close()
                instead of the receiving thread).

        When nothing at all is buffered, one read into the parser's buffer
        is made here too (from ``read_fd``, else by ``reader``), so that a
        round trip's receive is also one call.  From ``read_fd`` it is the
        primitive ``recv_into``, called in C in the compiled build, into the
        buffer's free region with no view made (bench/README.md has the
        1,900 instructions a ``socket.recv_into`` of a view cost).  With
        keepalive (``ping_interval``) that read waits only until the next
        keepalive decision (``ClientProtocol._read_wait``); the decision
        itself, and any wait after it, are the full receive's.  Bytes it
        gets are reported (``data_received``) while keepalive is on or a
        ping waits for its pong.  It is only made with an empty buffer: a
        whole control frame or fragment waiting in it is the full receive's
        to take, without blocking.

        Raises:
            ProtocolError: the message's text is not UTF-8 (1007), with the
                lock still held; the parser raises it again from the
                shell's full receive, which ends the connection under it.
            Whatever ``reader`` raises other than OSError and ValueError (a
                signal handler's exception), with the lock released;
                nothing is lost, the bytes read so far stay buffered.
        """
        # (None tested here first: the plain-Python build pays a call to
        # seconds_of only for a timeout; compiled, it is inlined anyway.)
        seconds = -1.0 if timeout is None else seconds_of(timeout, _TIMEOUT_MAX)  # -1.0: no limit
        if seconds != -1.0:
            if seconds < 0.0:  # not one this path takes
                return False
            self.deadline = -1.0
        lock = self.recv_lock
        if not lock.acquire(False):
            return False
        proto = self.proto
        if proto.state is not _OPEN:
            # Returned or raised with the lock held, ``handed`` says so (the
            # holder's thread): the shell releases it if a signal handler
            # raises before its full receive took it over (WsClient.receive).
            self.handed = get_ident()
            return None
        parser = self.parser
        fd = self.read_fd
        reader = self.reader
        try:
            msg: Message | None = parser.next_whole()
            # parser.buffered == 0, in C: the property would be a Python
            # attribute lookup and an int per read in the compiled build.
            if (
                msg is None
                and (fd >= 0 or reader is not None)
                and parser._start == parser._end
                and parser._direct_filled == 0
            ):
                try:
                    if fd >= 0:
                        wait = seconds  # -1.0: as long as it takes
                        read = True
                        if proto.ping_interval is not None:
                            # Until the next keepalive decision at the latest.
                            keep = proto._read_wait(time.monotonic())
                            if keep == 0.0:
                                read = False  # due: the full receive's
                            elif wait < 0.0 or keep < wait:
                                wait = keep
                        if seconds >= 0.0:
                            self.deadline = time.monotonic() + seconds
                        at = parser._offer()
                        buf = parser._view
                        if at < 0:  # into a big frame's own memory
                            buf = parser.get_buffer()
                            at = 0
                        # Checked again right before the read: a close() in
                        # another thread marks the connection closed before
                        # it closes the socket, and in the compiled build no
                        # Python code runs from here to the recv() (no GIL
                        # switch), so ``fd`` is still this connection's.
                        n = 0
                        if read and proto.state is _OPEN:
                            n = recv_into(fd, buf, at, parser._offered, wait)
                        if n < 0:
                            n = 0  # nothing within the wait: the full receive's
                        elif n > 0 and (proto.ping_interval is not None or proto.pings):
                            proto.data_received(time.monotonic())
                    elif seconds < 0.0:  # (a reader blocks: not with a timeout)
                        n = reader(parser.get_buffer())
                        if n > 0 and proto.pings:
                            proto.data_received(time.monotonic())
                    else:
                        n = 0
                except (OSError, ValueError):
                    # A reset, or closed by close(): the full receive reads
                    # again and reports it.
                    n = 0
                except BaseException:
                    parser.buffer_updated(0)
                    raise
                parser.buffer_updated(n)
                if n != 0:  # (EOF: the full receive reads it again)
                    msg = parser.next_whole()
        except (ProtocolError, MessageTooBig):
            self.handed = get_ident()
            raise  # the lock stays held, as documented
        except BaseException:
            lock.release()
            raise
        if msg is not None:
            lock.release()
        else:
            self.handed = get_ident()
        return msg
