"""WsClient: the blocking shell that moves bytes for the protocol core.

:class:`~websocket._protocol.ClientProtocol` makes every WebSocket decision
(handshake, framing, limits, pings, the closing handshake, when TCP ends);
this shell owns the socket, TLS, waits with deadlines and locks, and never
re-implements a protocol step.

- **Sockets** stay blocking after the handshake: a receive without a
  timeout is one blocking ``recv()``, waits with a deadline are ``poll()``
  plus ``MSG_DONTWAIT``, so no thread's timeout changes another's socket.
- **TLS** runs over ``ssl.MemoryBIO`` + ``SSLObject`` (as asyncio's SSL
  transport does): the SSL object is driven only under its own short lock,
  and raw socket I/O happens outside it, so a sender and a receiver never
  drive one OpenSSL object at once.
- **One send funnel.** Every frame (data, ping, pong, close, a batch) is
  written under the send lock, through :meth:`WsClient._write` (or, for
  one frame on plain TCP, the encoder's compiled ``send_to``).  Replies the protocol queues (pongs, close
  frames) are written by whoever holds the send lock: the receiving thread
  only tries the lock, and a sender re-checks the queue after releasing it,
  so a receive never waits on a sender for a pong.
- **A frame that was partly written** (an error or a signal mid-frame)
  fails the connection: the stream cannot go on (1006).

Threads: one thread may block in :meth:`WsClient.receive` while others
call ``send``, ``ping``, ``pong`` and ``close``.
"""

from __future__ import annotations

import dataclasses
import math
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ._codec import protocol
from ._deflate import DeflateSettings
from ._exceptions import (
    ConnectionClosed,
    MessageTooBig,
    ProtocolError,
    WebSocketTimeout,
)
from ._frames import Opcode, State, encode_close_frame
from ._handshake import Headers
from ._url import parse_url

if protocol.COMPILED:
    from ._speedups import HAVE_FD_IO, FastLock
else:
    from ._speedups_py import HAVE_FD_IO, FastLock  # type: ignore[assignment]

ClientProtocol = protocol.ClientProtocol
Message = dict[str, Any]

__all__ = ["WsClient", "connect"]

DEFAULT_MAX_SIZE = protocol.DEFAULT_MAX_SIZE

_TEXT, _BINARY = int(Opcode.TEXT), int(Opcode.BINARY)
_PING, _PONG = int(Opcode.PING), int(Opcode.PONG)
_WOULD_BLOCK = (BlockingIOError, InterruptedError)
# Without MSG_DONTWAIT (Windows), a recv() after poll() said "readable"
# returns at once anyway.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
# send_many() writes once this much is collected: large enough that the
# system call costs little per message, small enough to stay in cache.
_BATCH_BYTES = 256 * 1024
_TLS_READ = 256 * 1024
# poll() takes milliseconds in a C int.
_POLL_MAX_MS = 2**31 - 1


def _check_timeout(name: str, value: object) -> float | None:
    """Seconds as a float; None for no limit (None, inf, or beyond what the
    OS can wait for)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    if value != value or value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    if math.isinf(value) or value > threading.TIMEOUT_MAX:
        return None
    return float(value)


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _acquire(lock: Any, deadline: float | None) -> bool:
    if deadline is None:
        return bool(lock.acquire())
    return bool(lock.acquire(True, _remaining(deadline)))


def _deflate_settings(compression: object, **options: Any) -> DeflateSettings | None:
    """The permessage-deflate settings the options ask for (None: no offer)."""
    # Unset options (None, or False for the flags) keep DeflateSettings' defaults.
    given = {name: value for name, value in options.items() if value is not None and value is not False}
    if compression is None:
        if given:
            raise ValueError(f"{', '.join(sorted(given))} given without compression='deflate'")
        return None
    if compression != "deflate":
        raise ValueError(f"compression must be 'deflate' or None, not {compression!r}")
    return DeflateSettings(**given)


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
        raise TypeError(
            f"{where} takes a str or a bytes-like object, not {type(message).__name__}"
        ) from None


class _Poller:
    """Waits for one socket to become readable or writable."""

    def __init__(self, sock: socket.socket, write: bool) -> None:
        self._fd = sock.fileno()
        self._write = write
        self._poll: Any = None
        if hasattr(select, "poll"):
            self._poll = select.poll()
            flags = select.POLLOUT if write else select.POLLIN | select.POLLPRI
            self._poll.register(self._fd, flags)

    def wait(self, deadline: float | None) -> bool:
        """False if the deadline passed first."""
        while True:
            if deadline is None:
                timeout = None
            else:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    return False
            if self._poll is not None:
                ms = None if timeout is None else min(_POLL_MAX_MS, max(1, math.ceil(timeout * 1000)))
                if self._poll.poll(ms):
                    return True
                continue
            fds = [self._fd]  # Windows
            wait = None if timeout is None else min(timeout, 86400.0)
            if self._write:
                if select.select([], fds, fds, wait)[1]:
                    return True
            elif select.select(fds, [], fds, wait)[0]:
                return True


class _TLS:
    """TLS over memory BIOs: the SSL object is only touched under ``lock``,
    never while a socket call blocks."""

    def __init__(self, context: ssl.SSLContext, server_hostname: str) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_hostname=server_hostname)
        self.lock = threading.Lock()

    def output(self) -> bytes:
        with self.lock:
            return self.outgoing.read()

    def encrypt(self, data: Any) -> bytes:
        with self.lock:
            self.obj.write(data)
            return self.outgoing.read()

    def read_into(self, view: memoryview) -> int | None:
        """Plaintext into ``view``: its size, 0 at the end of the stream,
        None when more ciphertext must arrive first."""
        with self.lock:
            try:
                return int(self.obj.read(len(view), view))
            except ssl.SSLWantReadError:
                return None
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                # A close_notify, or the socket's real EOF fed in: the end.
                return 0

    def feed(self, data: bytes) -> None:
        with self.lock:
            if data:
                self.incoming.write(data)
            else:
                self.incoming.write_eof()


class WsClient:
    """A WebSocket client connection (RFC 6455).

    ``WsClient(url, **options)`` connects, performs the opening handshake
    and returns an open connection; it blocks until then.

    Args:
        url: a ``ws://`` or ``wss://`` URL.
        headers: extra request headers (mapping or (name, value) pairs).
        origin: the Origin header.
        subprotocols: subprotocols to offer; the chosen one is
            :attr:`subprotocol`.
        timeout: seconds for connecting plus the handshake (None: no limit).
        close_timeout: seconds ``close()`` waits for the server's close frame
            and end of TCP (None or inf: no limit).
        max_size: largest message accepted, in bytes (None: no limit); a
            larger one closes the connection with 1009 and raises
            MessageTooBig.
        auto_pong: answer pings automatically (they are still returned by
            :meth:`receive`).
        ssl_context: for ``wss://``; defaults to
            ``ssl.create_default_context()``, which verifies the certificate
            and host name.
        compression: "deflate" offers permessage-deflate (RFC 7692); None
            (the default) offers no compression.  ``max_size`` then bounds
            the decompressed size.
        client_max_window_bits: None lets the server choose the window this
            client compresses with (8-15 bits; with 8 messages go out
            uncompressed, as zlib cannot compress with it); 9-15 caps it.
        server_max_window_bits: ask the server to compress with at most
            this window (8-15); None asks nothing (up to 15).
        client_no_context_takeover: compress each message on its own.
        server_no_context_takeover: ask the server to do the same; no
            decompressor is then kept between messages.
        compression_level: zlib level 0-9 (-1: zlib's default, 6).
        memory_level: zlib memLevel 1-9 (the compressor's hash table).
        decode_text: True returns text messages as str; False as their
            UTF-8 bytes, still validated (for orjson, msgspec and other
            parsers that take bytes: no decoding and re-encoding).

    Raises:
        InvalidURI: a bad URL.
        TypeError, ValueError: a bad option (checked before connecting).
        HandshakeError: the server refused or botched the upgrade.
        WebSocketTimeout: connecting and the handshake took over ``timeout``.
        OSError: the TCP connection failed (refused, unreachable, DNS);
            ``ssl.SSLError`` for TLS failures such as a bad certificate.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Headers | None = None,
        origin: str | None = None,
        subprotocols: Sequence[str] | None = None,
        timeout: float | None = 10.0,
        close_timeout: float | None = 10.0,
        max_size: int | None = DEFAULT_MAX_SIZE,
        auto_pong: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        compression: str | None = None,
        client_max_window_bits: int | None = None,
        server_max_window_bits: int | None = None,
        client_no_context_takeover: bool = False,
        server_no_context_takeover: bool = False,
        compression_level: int | None = None,
        memory_level: int | None = None,
        decode_text: bool = True,
    ) -> None:
        self.url = url
        parts = parse_url(url)
        deflate = _deflate_settings(
            compression,
            client_max_window_bits=client_max_window_bits,
            server_max_window_bits=server_max_window_bits,
            client_no_context_takeover=client_no_context_takeover,
            server_no_context_takeover=server_no_context_takeover,
            compression_level=compression_level,
            memory_level=memory_level,
        )
        self._timeout = _check_timeout("timeout", timeout)
        self.close_timeout = _check_timeout("close_timeout", close_timeout)
        if ssl_context is not None:
            if not isinstance(ssl_context, ssl.SSLContext):
                raise TypeError(
                    f"ssl_context must be an ssl.SSLContext, not {type(ssl_context).__name__}"
                )
            if not parts["secure"]:
                raise ValueError(f"ssl_context given for {url!r}, which is not a wss:// URL")
        # Every option is checked here, before any connection is made.
        proto = ClientProtocol(
            parts["host"],
            parts["port"],
            parts["path"],
            secure=parts["secure"],
            headers=headers,
            subprotocols=subprotocols,
            origin=origin,
            max_size=max_size,
            auto_pong=auto_pong,
            deflate=deflate,
            decode_text=decode_text,
        )
        self._proto = proto
        self._parser = proto.parser
        self._encoder = proto.encoder
        self._encoder_class = type(proto.encoder)  # send_many() makes its own
        # Bound once: the per-message paths call them directly.
        # The parser's own next_message: the protocol hooks into the parser
        # for control frames and failures, so this skips one layer.
        self._next_message = proto.parser.next_message
        self._get_buffer = proto.parser.get_buffer
        self._buffer_updated = proto.parser.buffer_updated
        self._encode = proto.encoder.encode
        self._send_to = proto.encoder.send_to
        self._is_open = proto.is_open
        self._check_open = proto.check_open
        self._is_closed = proto.is_closed
        self._pending = proto.pending  # replies queued by the protocol
        # Taken once per send() and receive(): the compiled FastLock is
        # cheaper to take than threading.Lock (see _speedups.FastLock).
        self._send_lock = FastLock()
        self._recv_lock = FastLock()
        self._done = False  # the end was reported; later receives raise
        self._sock_closed = False
        self._tls: _TLS | None = None
        self._tls_out = False  # TLS output waits (a receiver produced it)
        self._fd = -1
        self._deflater: Any = None  # set after the handshake (see below)
        deadline = _deadline(self._timeout)
        self._sock = self._connect(parts, ssl_context, deadline)
        try:
            self._handshake(deadline)
        except BaseException:
            self._abort()
            raise
        self._sock.settimeout(None)  # blocking from now on (see the module doc)
        # Set once the handshake agreed on deflate (with a usable window).
        self._deflater = proto.deflater
        # Plain TCP: data frames are encoded and written by the codec in one
        # call (FrameEncoder.send_to), without the GIL while writing.
        if HAVE_FD_IO and self._tls is None:
            self._fd = self._sock.fileno()
        self._rpoll = _Poller(self._sock, write=False)
        self._wpoll = _Poller(self._sock, write=True)

    @classmethod
    def new(cls, url: str, **options: Any) -> WsClient:
        """Connect; the seed interface's spelling of ``WsClient(url)``."""
        return cls(url, **options)

    # -- opening --------------------------------------------------------------

    def _timed_out(self, what: str) -> WebSocketTimeout:
        return WebSocketTimeout(f"{what} timed out after {self._timeout} s")

    def _connect(
        self, parts: dict[str, Any], context: ssl.SSLContext | None, deadline: float | None
    ) -> socket.socket:
        host, port = parts["host"], parts["port"]
        try:
            sock = socket.create_connection((host, port), timeout=_remaining(deadline))
        except TimeoutError:
            raise self._timed_out(f"connecting to {host}:{port}") from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts["secure"]:
                self._tls = _TLS(context or ssl.create_default_context(), host)
                self._tls_handshake(sock, deadline)
        except TimeoutError:
            sock.close()
            raise self._timed_out(f"TLS handshake with {host}:{port}") from None
        except BaseException:
            sock.close()
            raise
        return sock

    def _tls_handshake(self, sock: socket.socket, deadline: float | None) -> None:
        tls = self._tls
        assert tls is not None
        while True:
            try:
                with tls.lock:
                    tls.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            finally:
                out = tls.output()
                if out:
                    sock.settimeout(_remaining(deadline))
                    sock.sendall(out)
            sock.settimeout(_remaining(deadline))
            tls.feed(sock.recv(_TLS_READ))

    def _handshake(self, deadline: float | None) -> None:
        """RFC 6455 §4.1: send the upgrade request; the protocol decides
        about the answer."""
        proto = self._proto
        sock = self._sock
        try:
            self._write(proto.connect_request(), deadline)
            while True:
                sock.settimeout(_remaining(deadline))
                data = self._recv_some(sock)
                if not data:
                    proto.receive_handshake_eof()
                if proto.receive_handshake(data):
                    return
        except TimeoutError:
            raise self._timed_out("the opening handshake") from None

    def _recv_some(self, sock: socket.socket) -> bytes:
        """The next bytes during the handshake (b"" at the end)."""
        tls = self._tls
        if tls is None:
            return sock.recv(4096)
        buf = bytearray(4096)
        while True:
            n = tls.read_into(memoryview(buf))
            if n is not None:
                return bytes(buf[:n])
            tls.feed(sock.recv(_TLS_READ))

    # -- state ----------------------------------------------------------------

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, or None."""
        return self._proto.subprotocol  # type: ignore[no-any-return]

    @property
    def compression(self) -> str | None:
        """"deflate" when the server accepted permessage-deflate, else None."""
        return None if self._proto.agreement is None else "deflate"

    @property
    def compression_params(self) -> dict[str, Any] | None:
        """The permessage-deflate parameters agreed (RFC 7692 §7.1), or None:
        ``client_max_window_bits``, ``server_max_window_bits``,
        ``client_no_context_takeover``, ``server_no_context_takeover``."""
        agreement = self._proto.agreement
        return None if agreement is None else dataclasses.asdict(agreement)

    @property
    def response_status(self) -> int | None:
        """The HTTP status of the handshake response."""
        return self._proto.response_status  # type: ignore[no-any-return]

    @property
    def response_headers(self) -> dict[str, str]:
        """The handshake response's headers (lowercase names)."""
        return self._proto.response_headers  # type: ignore[no-any-return]

    def ready_state(self) -> str:
        """"connecting", "open", "closing" or "closed" (the protocol's State)."""
        return self._proto.state.name.lower()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<WsClient {self.url!r} {self.ready_state()}>"

    # -- sending --------------------------------------------------------------

    def send(
        self, message: str | bytes | bytearray | memoryview, compress: bool | None = None
    ) -> None:
        """Send a text (str) or binary (bytes-like) message.

        Args:
            message: str is sent as text (UTF-8), bytes-like as binary.
            compress: False sends this message uncompressed on a connection
                that negotiated permessage-deflate; None or True compress
                it when the connection does (RFC 7692 §6 lets any message
                go uncompressed).  Not keyword-only, although meant to be
                passed by name: CPython fills a keyword-only default through
                a dict lookup, 260 instructions on every send() (valgrind,
                bench/icount.py: 4,853 against 4,589 per 64-byte send).

        Raises:
            TypeError: neither a str nor a bytes-like object.
            ConnectionClosed: the connection is closing or closed.
        """
        cls = message.__class__
        if cls is bytes or cls is bytearray:  # exact types first: the hot path
            opcode = _BINARY
        elif cls is str:
            opcode = _TEXT
        else:
            opcode, message = _classify(message, "send()")
        if compress is None and self._deflater is None:  # the hot path: two checks
            self._send_frame(opcode, message)
        else:
            self._send_choosing(opcode, message, compress)

    def _send_choosing(self, opcode: int, payload: Any, compress: object) -> None:
        if compress is not None:
            _check_compress(compress)
        if self._deflater is not None and compress is not False:
            self._send_compressed(opcode, payload)
        else:
            self._send_frame(opcode, payload)

    def send_binary(self, data: Any, compress: bool | None = None) -> None:
        """Send a binary message from any bytes-like object or iterable of
        ints (``compress`` as for :meth:`send`)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            try:
                data = memoryview(data)
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
        self._send_choosing(_BINARY, data, compress)

    def ping(self, data: str | bytes = b"") -> None:
        """Send a ping (payload of at most 125 bytes; str is sent as UTF-8)."""
        self._send_frame(_PING, self._control_payload("ping", data))

    def pong(self, data: str | bytes = b"") -> None:
        """Send a pong, e.g. echoing a ping's data when auto_pong is off."""
        self._send_frame(_PONG, self._control_payload("pong", data))

    @staticmethod
    def _control_payload(what: str, data: object) -> bytes:
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            payload = bytes(memoryview(data))  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(f"{what} data must be bytes-like or str, not {type(data).__name__}") from None
        if len(payload) > 125:
            raise ValueError(f"{what} payload of {len(payload)} bytes exceeds 125")
        return payload

    def send_many(self, messages: Iterable[Any], compress: bool | None = None) -> None:
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

        Raises:
            TypeError: an item is neither a str nor a bytes-like object.
            ConnectionClosed: the connection is closing or closed.
        """
        if compress is not None:
            _check_compress(compress)
        if self._deflater is not None and compress is not False:
            self._send_many_compressed(messages)
            return
        encode = self._encoder_class(True).encode
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
                        self._send_batch(out)
                        out = bytearray()
                    self._send_frame(opcode, message)
                    continue
                out += encode(opcode, message)
                if len(out) >= _BATCH_BYTES:
                    self._send_batch(out)
                    out = bytearray()
        except TypeError:
            if out and self._is_open():  # the messages before the bad item
                self._send_batch(out)
            raise
        if out:
            self._send_batch(out)

    # The funnel: every frame goes out through these, under the send lock.

    def _send_frame(self, opcode: int, payload: Any) -> None:
        # A bound cpdef call is cheaper than reading a compiled attribute
        # (27 against 44 ns): the state check is check_open().
        check_open = self._check_open
        lock = self._send_lock
        lock.acquire()
        try:
            check_open()
            fd = self._fd
            if fd < 0:
                self._write(self._encode(opcode, payload))
            else:
                # Plain TCP: one compiled call that masks and writes.
                try:
                    self._send_to(fd, opcode, payload)
                except BaseException as exc:
                    self._write_failed(exc, self._encoder.partial)
        finally:
            lock.release()
        # Replies another thread queued while we held the lock.
        if self._pending or self._tls_out:
            self._flush(blocking=False)

    def _send_many_compressed(self, messages: Iterable[Any]) -> None:
        batch: list[tuple[int, Any]] = []
        size = 0
        try:
            for index, message in enumerate(messages):
                opcode, message = _classify(message, f"send_many() (item {index})")
                if opcode == _BINARY and message.__class__ is not bytes:
                    # A copy: the iterable may refill one buffer for the next item.
                    message = bytes(message)
                batch.append((opcode, message))
                size += len(message)
                if size >= _BATCH_BYTES:
                    self._send_compressed_batch(batch)
                    batch, size = [], 0
        except TypeError:
            if batch and self._is_open():  # the messages before the bad item
                self._send_compressed_batch(batch)
            raise
        if batch:
            self._send_compressed_batch(batch)

    def _send_compressed(self, opcode: int, payload: Any) -> None:
        """One compressed message (RFC 7692 §7.2.1): compressed under the
        send lock, so that frames leave in the compressor's order."""
        lock = self._send_lock
        lock.acquire()
        try:
            self._check_open()
            data = self._compress(payload)
            fd = self._fd
            if fd < 0:
                self._write(self._encode(opcode, data, True, True), committed=True)
            else:
                try:
                    self._send_to(fd, opcode, data, True, True)
                except BaseException as exc:
                    self._write_failed(exc, True)
        finally:
            lock.release()
        if self._pending or self._tls_out:
            self._flush(blocking=False)

    def _send_compressed_batch(self, batch: list[tuple[int, Any]]) -> None:
        with self._send_lock:
            self._check_open()
            out = bytearray()
            for opcode, payload in batch:
                out += self._encode(opcode, self._compress(payload), True, True)
            self._write(out, committed=True)
        if self._pending or self._tls_out:
            self._flush(blocking=False)

    def _compress(self, payload: Any) -> Any:
        """The compressed payload; the caller holds the send lock.

        Every message compressed is in the compressor's history, so one
        that does not then go out whole (any exception from here on, a
        signal's too) leaves the server unable to decompress the next: the
        connection fails, as for a frame partly written."""
        deflater = self._deflater
        assert deflater is not None
        if isinstance(payload, str):  # outside the try: bad text is the caller's error
            payload = payload.encode("utf-8")
        try:
            return deflater.compress(payload)
        except BaseException as exc:
            self._write_failed(exc, True)
            raise  # unreachable: _write_failed raises

    def _send_batch(self, frames: bytearray) -> None:
        with self._send_lock:
            self._check_open()
            self._write(frames)
        if self._pending or self._tls_out:
            self._flush(blocking=False)

    def _write(self, data: Any, deadline: float | None = None, committed: bool = False) -> None:
        """Write ``data`` whole; the caller holds the send lock (or is the
        handshake).  ``committed``: a failure before any byte is written
        still fails the connection (compressed frames, see _compress)."""
        tls = self._tls
        started = committed
        try:
            if tls is not None:
                data = tls.encrypt(data)
            # From here on part of the frame may be in the stream: over TLS
            # it was encrypted, and a signal handler that raises runs as
            # send() returns, before its count is seen.
            started = True
            self._send_raw(data, deadline)
        except BaseException as exc:
            self._write_failed(exc, started)

    def _send_raw(self, data: Any, deadline: float | None) -> None:
        sock = self._sock
        view = memoryview(data)
        total = len(view)
        done = 0
        try:
            while done < total:
                try:
                    done += sock.send(view[done:] if done else view)
                except _WOULD_BLOCK:
                    self._wpoll.wait(deadline)
        finally:
            view.release()

    def _write_failed(self, exc: BaseException, partial: bool) -> None:
        """A write raised ``exc``; the caller holds the send lock.

        A socket error ends the connection (1006).  Anything else (a
        signal's exception) leaves it usable if no byte of the frame went
        out, and fails it if part did: the stream cannot be resumed."""
        if isinstance(exc, (OSError, ValueError)) or partial:
            self._proto.transport_failed(exc)
            self._abort(have_send_lock=True)
            if isinstance(exc, (OSError, ValueError)):
                raise self._proto.closed_exception() from exc
        raise exc

    def _tls_pending(self) -> bool:
        tls = self._tls
        self._tls_out = tls is not None and tls.outgoing.pending > 0
        return self._tls_out

    def _flush(self, blocking: bool, deadline: float | None = None, then: Any = None) -> bool:
        """Write the replies the protocol queued (and TLS output).

        Non-blocking: only if there is something to write and the send lock
        is free at once; its holder flushes otherwise (senders look again
        after releasing it).  Blocking: take the lock (waiting until
        ``deadline``) even with nothing queued, so that a write another
        thread is making (perhaps of the very reply it popped) is over, and
        call ``then()`` before releasing it.  False if the lock could not be
        had."""
        lock = self._send_lock
        while blocking or self._pending or self._tls_pending():
            if blocking:
                if not _acquire(lock, deadline):
                    return False
            elif not lock.acquire(False):
                return True
            try:
                self._flush_locked(deadline)
                if then is not None:
                    then()
                    return True
            finally:
                lock.release()
            blocking = False
        return True

    def _flush_locked(self, deadline: float | None) -> None:
        try:
            while (item := self._proto.pop_pending()) is not None:
                self._write(self._encode(item[0], item[1]))
            if self._tls_pending() and not self._sock_closed:
                assert self._tls is not None
                try:
                    self._send_raw(self._tls.output(), deadline)
                except BaseException as exc:
                    self._write_failed(exc, True)
        except ConnectionClosed:
            pass  # the connection is gone: nothing more to write

    # -- receiving ------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> Message:
        """Block until the next message and return it.

        Returns:
            ``{"type": "text", "data": str}``, ``{"type": "binary", "data":
            bytes}``, ``{"type": "ping"|"pong", "data": bytes}``, or
            ``{"type": "close", "code": int, "reason": str, "data": bytes}``
            (once; code 1005 when the server sent none).

        Raises:
            WebSocketTimeout: nothing complete arrived within ``timeout``
                seconds; the connection stays usable and keeps what it read.
            ConnectionClosed: the connection is closed (code 1006 if TCP
                dropped without a close frame).
            ProtocolError: the server broke the protocol; the connection
                was closed with 1002 (or 1007 for invalid UTF-8).
            MessageTooBig: a message exceeded ``max_size`` (closed with 1009).
        """
        lock = self._recv_lock
        deadline = None
        if timeout is None:  # first: the hot path
            lock.acquire()
        else:
            seconds = _check_timeout("timeout", timeout)
            if seconds is None:
                lock.acquire()
            else:
                deadline = time.monotonic() + seconds
                if not lock.acquire(True, seconds):
                    raise WebSocketTimeout(
                        f"receive() timed out after {timeout} s (another thread is receiving)"
                    )
        try:
            next_message = self._next_message
            parser = self._parser
            while True:
                if self._done:
                    raise self._proto.closed_exception()
                try:
                    msg = next_message()
                except (ProtocolError, MessageTooBig):
                    self._end(deadline)
                    raise
                if msg is not None:
                    if parser.last_opcode >= 8:  # a control frame
                        self._after_control(deadline)
                    return msg  # type: ignore[no-any-return]
                if self._is_closed():
                    self._end(deadline)  # EOF, nothing buffered
                    raise self._proto.closed_exception()
                if not self._fill(deadline):
                    raise WebSocketTimeout(f"receive() timed out after {timeout} s")
        finally:
            lock.release()

    def _after_control(self, deadline: float | None) -> None:
        """Send queued replies without waiting on a sender; after a close,
        end TCP."""
        if self._is_open():
            self._flush(blocking=False)
        elif self._is_closed():
            self._end(deadline)

    def _end(self, deadline: float | None) -> None:
        """The connection is closed: send what is queued (our close frame),
        then close TCP, all within ``deadline`` (or close_timeout)."""
        self._done = True
        if deadline is None:
            deadline = _deadline(self.close_timeout)
        self._finish(deadline)

    def _fill(self, deadline: float | None) -> bool:
        """Receive more bytes into the protocol; False on timeout (also
        when bytes keep arriving but no message completes in time)."""
        if deadline is not None and time.monotonic() >= deadline:
            return False
        if self._tls is not None:
            return self._fill_tls(deadline)
        sock = self._sock
        if deadline is None:
            flags = 0  # a blocking recv
        elif _DONTWAIT:
            flags = _DONTWAIT
        else:
            # No MSG_DONTWAIT (Windows): poll first, then the recv returns
            # at once instead of blocking past the deadline.
            if not self._rpoll.wait(deadline):
                return False
            flags = 0
        while True:
            try:
                n = sock.recv_into(self._get_buffer(), 0, flags)
            except _WOULD_BLOCK:
                self._buffer_updated(0)
                if not self._rpoll.wait(deadline):
                    return False
                continue
            except (OSError, ValueError):  # reset, or closed by close()
                self._buffer_updated(0)
                n = 0
            if n:
                self._buffer_updated(n)
            else:
                self._proto.receive_eof()
            return True

    def _fill_tls(self, deadline: float | None) -> bool:
        tls = self._tls
        assert tls is not None
        sock = self._sock
        while True:
            try:
                n = tls.read_into(self._get_buffer())
            except ssl.SSLError as exc:
                # A broken record: the stream cannot go on (1006, with cause).
                self._buffer_updated(0)
                self._proto.transport_failed(exc)
                return True
            self._buffer_updated(n or 0)
            if n == 0:
                self._proto.receive_eof()
            if self._tls_pending():  # reading can produce TLS output
                self._flush(blocking=False)
            if n is not None:
                return True
            flags = _DONTWAIT if deadline is not None else 0
            if deadline is not None and not _DONTWAIT and not self._rpoll.wait(deadline):
                return False
            try:
                data = sock.recv(_TLS_READ, flags)
            except _WOULD_BLOCK:
                if not self._rpoll.wait(deadline):
                    return False
                continue
            except (OSError, ValueError):
                data = b""
            tls.feed(data)

    def __iter__(self) -> Iterator[Message]:
        """Yield text and binary messages until the connection closes.

        Ends when the server's close frame arrives or after :meth:`close`;
        raises ConnectionClosed if the connection dropped (code 1006).
        """
        while True:
            try:
                msg = self.receive()
            except ConnectionClosed as exc:
                if self._proto.close_received or exc.sent_code is not None:
                    return
                raise
            kind = msg["type"]
            if kind == "text" or kind == "binary":
                yield msg
            elif kind == "close":
                return

    # -- closing --------------------------------------------------------------

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (RFC 6455 §7.1.2): send a close frame, wait
        up to ``close_timeout`` for the server's, then close TCP.

        Idempotent; messages that arrive meanwhile are discarded.  A close
        from another thread wakes a thread blocked in :meth:`receive`.

        Raises:
            ValueError, TypeError: a code not allowed on the wire or a reason
                over 123 bytes (checked even when already closed).
        """
        encode_close_frame(code, reason)
        deadline = _deadline(self.close_timeout)
        self._proto.send_close(code, reason)
        if not self._flush(blocking=True, deadline=deadline):
            # Another thread is stuck sending to a server that stopped
            # reading: no close frame can be sent, end TCP (which wakes it).
            self._abort()
            return
        if _acquire(self._recv_lock, deadline):
            try:
                self._await_close(deadline)
                self._done = True
                self._finish(deadline)
            finally:
                self._recv_lock.release()
        else:
            # Another thread is blocked receiving and the server did not
            # answer in time: closing the socket wakes that thread.
            self._abort()

    def _await_close(self, deadline: float | None) -> None:
        """Read until the server's close frame, EOF or the deadline; data
        messages that arrive meanwhile are discarded."""
        proto = self._proto
        while proto.state == State.CLOSING and not self._sock_closed:
            try:
                msg = proto.next_message()
            except (ProtocolError, MessageTooBig):
                return
            if msg is None and not self._fill(deadline):
                return

    def _finish(self, deadline: float | None) -> None:
        """Send what is queued (a close frame), then close TCP.

        Half-close first and read until the server's EOF (bounded by
        ``deadline``): the server closes TCP first (RFC 6455 §7.1.1), and
        closing with unread bytes would send a reset that can destroy our
        close frame in flight.
        """
        if self._sock_closed:
            return
        # Half-close under the send lock, after the queue: no write is under
        # way then, and none comes after (the state is no longer OPEN).
        if not self._flush(blocking=True, deadline=deadline, then=self._shutdown_write):
            self._abort()
            return
        try:
            scratch = bytearray(65536)
            # poll() said readable: with no MSG_DONTWAIT (Windows) the recv
            # returns at once all the same.
            while self._rpoll.wait(deadline):
                try:
                    if not self._sock.recv_into(scratch, 0, _DONTWAIT):
                        break
                except _WOULD_BLOCK:
                    continue
        except (OSError, ValueError):
            pass
        self._abort()

    def _shutdown_write(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except (OSError, ValueError):
            pass

    def _abort(self, have_send_lock: bool = False) -> None:
        """Close the TCP connection now (idempotent)."""
        if self._sock_closed:
            return
        self._sock_closed = True
        self._proto.receive_eof()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes blocked threads
        except (OSError, ValueError):
            pass
        # Senders write to the raw descriptor: close it only once no send
        # is under way, so that a number reused by the OS is never written.
        locked = have_send_lock or _acquire(self._send_lock, _deadline(self.close_timeout or 10.0))
        try:
            self._sock.close()
        finally:
            if locked and not have_send_lock:
                self._send_lock.release()

    def __enter__(self) -> WsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        sock = getattr(self, "_sock", None)
        if sock is not None and not getattr(self, "_sock_closed", True):
            sock.close()


def connect(url: str, **options: Any) -> WsClient:
    """Open a WebSocket connection: the same as ``WsClient(url, **options)``."""
    return WsClient(url, **options)
