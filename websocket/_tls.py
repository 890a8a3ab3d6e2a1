"""TLS for the client over memory BIOs, written once and compiled like the
protocol.

:class:`TLSLayer` holds one TLS session (``ssl.SSLObject`` between two
``ssl.MemoryBIO``): the shell (``_client.py``) feeds it the socket's bytes
and writes what it produces, and the protocol's fast paths
(``ClientProtocol.receive_ready`` and ``send_ready``) call its
``read_ready`` and ``write_ready`` for one message or frame each.  The
SSL object is only touched under the layer's lock and never while a socket
call blocks, so one thread may receive while another sends (an
``SSLSocket`` would run ``SSL_read`` and ``SSL_write`` on one SSL object at
once).

Like ``_protocol.py``, this file runs as plain Python in the pure build
and is compiled by Cython in the other, through ``_tls.pxd``.  Why: the
fast paths were Python code around a few C calls, about 6,800 of the
41,300 instructions of a 64-byte round trip over TLS (``bench/README.md``,
``bench/peer_icount.py``).  Compiled, and reading and writing the
descriptor in C (``_speedups.recv_into`` and ``send_all``) where the pure
build calls the socket's methods, a round trip went from 38,597 to
32,375 instructions (``bench/icount.py --modes tls-rtt``).
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_tls.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403

__all__ = ["READ_SIZE", "TLSLayer"]

#: The most one read of the socket for TLS takes: ciphertext goes through
#: ``scratch``.
READ_SIZE = 256 * 1024
#: ... which starts at this, two full TLS records (RFC 8446 §5.1: 16 KiB of
#: plaintext each), and doubles while reads fill it: an idle connection
#: keeps 32 KiB instead of 256, a busy one reads as much per system call.
READ_FIRST = 32 * 1024


class TLSLayer:
    """TLS over memory BIOs: the SSL object is only touched under ``lock``,
    never while a socket call blocks.

    ``under`` is the TLS session with an ``https://`` proxy, when this one
    runs inside it (TLS in TLS): bytes from the socket are decrypted by it
    first, and what this layer writes is encrypted again by it.  Both
    layers share one lock.
    """

    def __init__(
        self, context: ssl.SSLContext, server_hostname: str, sock: socket.socket, under: TLSLayer | None = None
    ) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_hostname=server_hostname)
        #: The C object that ssl.SSLObject's read(), write() and pending()
        #: pass through to unchanged (read in CPython 3.10-3.13): one Python call
        #: less per record and per frame on the hot paths.
        self.sslobj: Any = getattr(self.obj, "_sslobj", self.obj)
        self.under = under
        # Taken with acquire() and release(), not ``with``, on the hot paths:
        # a with-statement made two bound methods and parsed acquire()'s
        # arguments, four times per round trip (bench/icount.py).
        self.lock: Any = under.lock if under is not None else new_lock()
        #: The receiving thread's buffer for ciphertext from the socket
        #: (recv() would allocate a new object per read), ``read_size``
        #: bytes: READ_FIRST, doubled by each read that fills it (_grow).
        self.read_size = READ_FIRST
        self.scratch = bytearray(READ_FIRST)
        self._scratch = memoryview(self.scratch)
        #: The socket of write_ready() and read_ready(), the fast paths'
        #: writer and reader (bound methods, no functools.partial).
        self.sock = sock
        #: The descriptor write_ready() writes to in C, and read_ready()
        #: reads from (-1: the socket's methods instead).  The shell sets
        #: them once the connection is open (``use_descriptor``).
        self.write_fd = -1
        self.read_fd = -1
        #: How the plaintext stream ended, once it has: every later read
        #: reports the same (read_ready hands the end over to the full
        #: receive by reading it twice).
        self.ended = False
        self.error: ssl.SSLError | None = None

    def use_descriptor(self, write: bool, read: bool) -> None:
        """Let the fast paths write (``write``) and read (``read``) the
        socket's descriptor in C.  Writes are made under the shell's send
        lock, which ``_abort`` takes before it closes the socket.  Reads
        are safe only where no other thread can run between the check of
        ``read_fd`` and the ``recv`` (the compiled build with a GIL, as
        ``_client._FD_READS``): ``stop_reading`` clears it before the
        socket closes, so that a number the OS gave to another socket is
        never read (reads then go through the socket object, which knows
        it is closed)."""
        fd = self.sock.fileno()
        self.write_fd = fd if write else -1
        self.read_fd = fd if read else -1

    def stop_reading(self) -> None:
        """The socket is about to close: read_ready() reads its descriptor
        no more, only through the socket object."""
        self.read_fd = -1

    def _wrap(self, data: Any) -> bytes:
        # The lock is held: plaintext in, bytes for the socket out.
        if data:
            self.sslobj.write(data)
        out: bytes = self.outgoing.read()
        return out if self.under is None else self.under._wrap(out)

    def output(self) -> bytes:
        """What the SSL objects produced for the socket (handshake, alerts)."""
        with self.lock:
            return self._wrap(b"")

    def encrypt(self, data: Any) -> bytes:
        with self.lock:
            return self._wrap(data)

    def write_ready(self, data: Any) -> None:
        """send()'s writer on its fast path (ClientProtocol.send_ready, one
        encoded frame, the send lock held): encrypt it, with any output
        waiting, and write it whole to the socket.  Not for TLS in TLS.

        Why: send() over TLS went through _send_frame, _write, encrypt,
        _wrap and _send_raw around these three calls: 56,024 -> 50,576
        instructions per 64-byte round trip (bench/icount.py --modes
        tls-rtt), 47,288 with the calls on ``sslobj``.  A signal handler
        that raises here fails the connection, as any failure once the
        frame is encrypted (WsClient._send_failed)."""
        lock = self.lock
        lock.acquire()
        try:
            self.sslobj.write(data)
            out = self.outgoing.read()
        finally:
            lock.release()
        if self.write_fd >= 0:
            send_all(self.write_fd, out)
        else:
            self.sock.sendall(out)

    def has_output(self) -> bool:
        return self.outgoing.pending > 0 or (self.under is not None and self.under.has_output())

    def read_into(self, view: memoryview) -> int | None:
        """Plaintext into ``view``: its size, 0 at the end of the stream,
        None when more ciphertext must arrive first."""
        lock = self.lock
        lock.acquire()
        try:
            return self._read(view)
        finally:
            lock.release()

    def _read(self, view: Any) -> int | None:
        """read_into() with the lock held.

        Every whole record buffered is read, up to the view's end: a feed of
        4 KiB messages is one record each, and a read per record cost the
        receive a pass through its Python loop per message.  An end or a
        failure met after some plaintext is reported by the next call
        (kept in ``ended`` and ``error``).

        ``read()`` runs pending signal handlers after ``SSL_read``, and an
        exception they raise discards what that call decrypted, so signals
        are held meanwhile (``hold_signals``: the compiled build, in the
        main thread).  If a handler's exception gets through anyway (a
        signal another thread took, or the plain-Python build), the layer
        fails for good: a stream with a hole in it is never delivered."""
        if self.error is not None:
            raise self.error
        if self.ended:
            return 0
        incoming = self.incoming
        obj = self.sslobj
        size = len(view)
        n = 0
        held = hold_signals()
        try:
            # Nothing to decrypt (no ciphertext, no record part read): the
            # read could only raise SSLWantReadError, an exception per
            # message on the hot path.
            while n < size and (incoming.pending or incoming.eof or obj.pending()):
                try:
                    # Given a buffer, read() returns the count.
                    got = obj.read(size - n, view[n:] if n else view)
                except ssl.SSLWantReadError:
                    break  # half a record
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    # A close_notify, or the socket's real EOF fed in.
                    self.ended = True
                    break
                except ssl.SSLError as exc:
                    self.error = exc
                    if n:
                        break
                    raise
                except BaseException as exc:
                    self.error = ssl.SSLError(
                        f"{type(exc).__name__} raised while a TLS record was decrypted:"
                        " its plaintext may be lost, so the stream cannot go on"
                    )
                    raise
                if not got:  # a close_notify (_ssl returns 0 for it)
                    self.ended = True
                    break
                n += got
        finally:
            if held:
                release_signals()
        return n if n or self.ended else None

    def read_ready(self, view: Any) -> int:
        """ClientProtocol.receive_ready's reader over TLS (no proxy layer,
        no keepalive): plaintext into ``view``, after one blocking read of
        the socket if no whole record is buffered.  0 leaves the rest to the
        full receive (Engine._fill_tls), which reads again and sees the
        same: output to send first (a key update's answer), the end of the
        stream, half a record, a socket error.  A broken record raises
        SSLError, an OSError: receive_ready hands that to the full receive
        too, where read_into raises it again.

        Why: a 4 KiB message over TLS cost 4.27 µs of client CPU against
        picows's 3.26 (bench/RESULTS.md); most of the gap was the full
        receive's Python loop around one record per message.  The socket
        read and the decryption after it are one lock hold, not fill() and
        read_into()'s two (bench/icount.py --modes tls-rtt)."""
        if self.outgoing.pending or self.ended or self.error is not None:
            return 0
        incoming = self.incoming
        lock = self.lock
        lock.acquire()
        try:
            if incoming.pending or incoming.eof or self.sslobj.pending():
                n = self._read(view)
                if n is not None:
                    return n
        finally:
            lock.release()
        size = self.read_size
        # Checked right before the read, with no Python code in between in
        # the compiled build: the acquire above may have waited, and a
        # close() in another thread meanwhile (see use_descriptor).
        fd = self.read_fd
        if fd >= 0:
            got = recv_into(fd, self.scratch, 0, size)
        else:
            got = self.sock.recv_into(self.scratch, size)
        if not got:
            return 0  # EOF: the full receive reads it again
        lock.acquire()
        try:
            incoming.write(self._scratch[:got])
            self._grow(got, size)
            return self._read(view) or 0
        finally:
            lock.release()

    def fill(self, sock: socket.socket, flags: int = 0) -> int:
        """One read of the socket into ``scratch``, fed in: its size.  0 is
        the socket's end, not fed: the caller decides (feed(b""))."""
        size = self.read_size
        got = sock.recv_into(self.scratch, size, flags)
        if got:
            with self.lock:
                self._feed(self._scratch[:got])
                self._grow(got, size)
        return got

    def _grow(self, got: int, size: int) -> None:
        """After a read of ``got`` bytes into ``size`` offered (now in the
        BIO): one that filled ``scratch`` means more was waiting, so read
        twice as much next time (up to READ_SIZE)."""
        if got == size and self.read_size < READ_SIZE:
            self.read_size *= 2
            self.scratch = bytearray(self.read_size)
            self._scratch = memoryview(self.scratch)

    def feed(self, data: bytes | memoryview) -> None:
        """Bytes from the socket (b"" at its end)."""
        with self.lock:
            self._feed(data)

    def _feed(self, data: bytes | memoryview) -> None:
        under = self.under
        if under is None:
            if data:
                self.incoming.write(data)
            else:
                self.incoming.write_eof()
            return
        under._feed(data)
        # The proxy layer's plaintext is this layer's ciphertext.
        while True:
            try:
                chunk = under.obj.read(READ_SIZE)
            except ssl.SSLWantReadError:
                return
            except ssl.SSLError:
                # The proxy's session ended or broke: so does ours (a
                # broken record then reads as an unexpected EOF).
                chunk = b""
            if not chunk:
                self.incoming.write_eof()
                return
            self.incoming.write(chunk)
