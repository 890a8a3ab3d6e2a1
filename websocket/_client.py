"""WsClient: the blocking shell around the sans-I/O protocol core.

The shell owns the socket (TCP or TLS), the opening handshake, timeouts and
locks; :class:`~websocket._protocol.ClientProtocol` decides what the bytes
mean.  No socket timeout is ever set after the handshake, so a sender never
sees another thread's receive timeout: a plain TCP socket stays blocking
(waits with a deadline are ``poll()`` plus ``MSG_DONTWAIT``), a TLS socket is
non-blocking and every wait is a ``poll()``, so a receive with a timeout
never blocks inside a partial TLS record.  ``close()`` from another thread
shuts the socket down, which wakes a blocked ``receive()``.

Threads: one thread may block in :meth:`WsClient.receive` while others call
``send``, ``ping``, ``pong`` and ``close``.  Sends are serialized by a lock;
receives by another.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from typing import Iterable, Iterator, Mapping, Sequence

from ._codec import HAVE_FD_IO, FastLock
from ._exceptions import (
    ConnectionClosed,
    HandshakeError,
    MessageTooBig,
    ProtocolError,
    WebSocketTimeout,
)
from ._frames import CloseCode, Opcode, encode_close_frame
from ._handshake import (
    Headers,
    build_handshake_request,
    check_response,
    generate_key,
    parse_response_head,
)
from ._protocol import CLOSED, CLOSING, OPEN, ClientProtocol
from ._url import parse_url

__all__ = ["WsClient", "connect"]

#: The response head (status line and headers) may not exceed this.
MAX_RESPONSE_HEAD = 64 * 1024
#: How much of a refused handshake's body HandshakeError keeps.
BODY_HEAD = 1024
DEFAULT_MAX_SIZE = 64 * 1024 * 1024

_TEXT, _BINARY = int(Opcode.TEXT), int(Opcode.BINARY)
_PING, _PONG = int(Opcode.PING), int(Opcode.PONG)
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError)
# Without MSG_DONTWAIT (Windows), a recv() after poll() said "readable"
# returns at once anyway.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
# send_many() writes once this much is encoded: large enough that the
# system call costs little per message, small enough to stay in cache.
_BATCH_BYTES = 256 * 1024


def _check_timeout(name: str, value, allow_none: bool = True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if value < 0 or value != value:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return float(value)


def _classify(message, where: str) -> tuple:
    """(opcode, payload) for a message: text for str, binary for any
    bytes-like object; TypeError naming ``where`` otherwise."""
    if isinstance(message, str):
        return _TEXT, message
    if isinstance(message, (bytes, bytearray, memoryview)):
        return _BINARY, message
    try:
        return _BINARY, memoryview(message)
    except TypeError:
        raise TypeError(f"{where} takes a str or a bytes-like object, not {type(message).__name__}") from None


class _Poller:
    """Waits for one socket to become readable or writable."""

    def __init__(self, sock: socket.socket, write: bool) -> None:
        self._fd = sock.fileno()
        self._write = write
        if hasattr(select, "poll"):
            self._poll = select.poll()
            flags = select.POLLOUT if write else select.POLLIN | select.POLLPRI
            self._poll.register(self._fd, flags)
        else:  # Windows
            self._poll = None

    def wait(self, deadline: float | None) -> bool:
        """False if the deadline passed first."""
        if deadline is None:
            timeout = None
        else:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return False
        if self._poll is not None:
            ms = None if timeout is None else max(1, int(timeout * 1000 + 0.999))
            return bool(self._poll.poll(ms))
        fds = [self._fd]
        if self._write:
            return bool(select.select([], fds, fds, timeout)[1])
        return bool(select.select(fds, [], fds, timeout)[0])


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
        close_timeout: seconds ``close()`` waits for the server's close frame.
        max_size: largest message accepted, in bytes (None: no limit); a
            larger one closes the connection with 1009 and raises
            MessageTooBig.
        auto_pong: answer pings automatically (they are still returned by
            :meth:`receive`).
        ssl_context: for ``wss://``; defaults to
            ``ssl.create_default_context()``, which verifies the certificate
            and host name.

    Raises:
        InvalidURI: a bad URL.
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
        close_timeout: float = 10.0,
        max_size: int | None = DEFAULT_MAX_SIZE,
        auto_pong: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self._state = "connecting"
        parts = parse_url(url)
        self._timeout = _check_timeout("timeout", timeout)
        self.close_timeout = _check_timeout("close_timeout", close_timeout, allow_none=False)
        if ssl_context is not None:
            if not isinstance(ssl_context, ssl.SSLContext):
                raise TypeError(f"ssl_context must be an ssl.SSLContext, not {type(ssl_context).__name__}")
            if not parts["secure"]:
                raise ValueError(f"ssl_context given for {url!r}, which is not a wss:// URL")
        # Checked now, before any connection is made.
        self._proto = ClientProtocol(max_size=max_size, auto_pong=bool(auto_pong))
        # Bound once: the per-message paths call the codec directly.
        self._encode = self._proto.encoder.encode
        self._send_to = self._proto.encoder.send_to
        self._parser_next = self._proto.parser.next_message
        self._get_buffer = self._proto.parser.get_buffer
        self._buffer_updated = self._proto.parser.buffer_updated
        key = generate_key()
        default_port = 443 if parts["secure"] else 80
        request = build_handshake_request(
            parts["host"],
            parts["path"],
            key,
            port=None if parts["port"] == default_port else parts["port"],
            headers=headers,
            subprotocols=subprotocols,
            origin=origin,
        )
        self.subprotocol: str | None = None
        self.response_status: int | None = None
        self.response_headers: dict[str, str] = {}
        # Taken once per send() and receive(): the compiled FastLock is
        # cheaper to take than threading.Lock (see _speedups.FastLock).
        self._send_lock = FastLock()
        self._recv_lock = FastLock()
        self._done = False  # the close was reported; later calls raise
        self._sock_closed = False
        self._ssl_context = ssl_context
        self._sock = self._open_socket(parts)
        try:
            self._handshake(request, key, subprotocols)
        except BaseException:
            self._abort()
            raise
        # Plain TCP stays blocking: a receive without a timeout is then one
        # blocking recv() (the fewest system calls per round trip), and
        # waits with a deadline use poll() and MSG_DONTWAIT, which leave the
        # socket's mode, and so other threads' sends, alone.  TLS cannot take
        # per-call flags: its socket is non-blocking and every wait a poll().
        self._tls = isinstance(self._sock, ssl.SSLSocket)
        self._sock.setblocking(not self._tls)
        # Plain TCP: data frames are encoded and written by the codec in one
        # call (FrameEncoder.send_to), without the GIL while writing.
        self._fd = self._sock.fileno() if HAVE_FD_IO and not self._tls else -1
        self._rpoll = _Poller(self._sock, write=False)
        self._wpoll = _Poller(self._sock, write=True)
        self._state = "open"

    @classmethod
    def new(cls, url: str, **options) -> "WsClient":
        """Connect; the seed interface's spelling of ``WsClient(url)``."""
        return cls(url, **options)

    # -- opening --------------------------------------------------------------

    def _deadline(self) -> float | None:
        return None if self._timeout is None else time.monotonic() + self._timeout

    def _open_socket(self, parts: dict) -> socket.socket:
        host, port = parts["host"], parts["port"]
        self._open_deadline = self._deadline()
        try:
            sock = socket.create_connection((host, port), timeout=self._timeout)
        except socket.timeout:
            raise WebSocketTimeout(
                f"connecting to {host}:{port} timed out after {self._timeout} s"
            ) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts["secure"]:
                context = self._ssl_context or ssl.create_default_context()
                sock.settimeout(self._remaining("the TLS handshake"))
                sock = context.wrap_socket(sock, server_hostname=host)
        except socket.timeout:
            sock.close()
            raise WebSocketTimeout(
                f"TLS handshake with {host}:{port} timed out after {self._timeout} s"
            ) from None
        except BaseException:
            sock.close()
            raise
        return sock

    def _remaining(self, what: str) -> float | None:
        if self._open_deadline is None:
            return None
        left = self._open_deadline - time.monotonic()
        if left <= 0:
            raise WebSocketTimeout(f"{what} timed out after {self._timeout} s")
        return left

    def _handshake(self, request: str, key: str, offered: Sequence[str] | None) -> None:
        """RFC 6455 §4.1: send the upgrade request, read and check the answer."""
        sock = self._sock
        try:
            sock.settimeout(self._remaining("the opening handshake"))
            sock.sendall(request.encode("ascii"))
            head = bytearray()
            while True:
                end = head.find(b"\r\n\r\n", max(0, len(head) - 4096 - 3))
                if end >= 0:
                    break
                if len(head) > MAX_RESPONSE_HEAD:
                    raise HandshakeError(
                        f"response head exceeds {MAX_RESPONSE_HEAD} bytes without ending"
                    )
                sock.settimeout(self._remaining("the opening handshake"))
                chunk = sock.recv(4096)
                if not chunk:
                    raise HandshakeError(
                        f"connection closed during the handshake after {len(head)} bytes"
                        + (f": {bytes(head[:80])!r}" if head else "")
                    )
                head += chunk
        except socket.timeout:
            raise WebSocketTimeout(f"the opening handshake timed out after {self._timeout} s") from None
        rest = bytes(head[end + 4 :])
        status, _reason, headers = parse_response_head(bytes(head[:end]))
        self.response_status, self.response_headers = status, headers
        try:
            check_response(status, headers, key)
        except HandshakeError as exc:
            exc.body = self._body_head(rest, headers) if status != 101 else rest[:BODY_HEAD]
            raise
        extensions = headers.get("sec-websocket-extensions")
        if extensions is not None:
            raise HandshakeError(
                f"server accepted extension {extensions!r} that the client did not offer",
                status,
                headers,
            )
        chosen = headers.get("sec-websocket-protocol")
        if chosen is not None:
            if not offered or chosen not in offered:
                raise HandshakeError(
                    f"server chose subprotocol {chosen!r}, which the client did not offer"
                    + (f" ({', '.join(offered)})" if offered else ""),
                    status,
                    headers,
                )
            self.subprotocol = chosen
        if rest:  # frames the server sent right after its response
            self._proto.receive_data(rest)

    def _body_head(self, rest: bytes, headers: Mapping[str, str]) -> bytes:
        """The first bytes of a refused handshake's body, for the error."""
        try:
            wanted = min(int(headers.get("content-length", "0")), BODY_HEAD)
        except ValueError:
            wanted = 0
        body = rest
        try:
            while len(body) < wanted:
                self._sock.settimeout(min(1.0, self._remaining("reading the body") or 1.0))
                chunk = self._sock.recv(BODY_HEAD)
                if not chunk:
                    break
                body += chunk
        except (OSError, WebSocketTimeout):
            pass
        return body[:BODY_HEAD]

    # -- state ----------------------------------------------------------------

    def ready_state(self) -> str:
        """"connecting", "open", "closing" or "closed"."""
        if self._state == "connecting":
            return "connecting"
        if self._sock_closed:
            return "closed"
        return self._proto.state

    def __repr__(self) -> str:
        return f"<WsClient {self.url!r} {self.ready_state()}>"

    # -- sending --------------------------------------------------------------

    def send(self, message) -> None:
        """Send a text (str) or binary (bytes-like) message.

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
        lock = self._send_lock
        lock.acquire()
        try:
            if self._proto.state is not OPEN or self._sock_closed:
                raise self._proto.closed_exception()
            self._send_locked(opcode, message)
        finally:
            lock.release()

    def _send_locked(self, opcode: int, message) -> None:
        """Encode and write one frame; the caller holds the send lock and
        has checked the state.  Plain TCP: one call that masks and writes
        (send_to); TLS: one encode and one send()."""
        fd = self._fd
        if fd >= 0:
            try:
                self._send_to(fd, opcode, message)
            except OSError:
                self._proto.eof_received()
                raise self._proto.closed_exception() from None
            return
        data = self._encode(opcode, message)
        try:
            sent = self._sock.send(data)
        except OSError:
            sent = 0  # would block, or failed: _write sorts it out
        if sent != len(data):
            self._write(data, sent)

    def send_many(self, messages: Iterable) -> None:
        """Send each item of ``messages`` as its own message, as send() would
        (str: text; bytes-like: binary), writing them together.

        Small messages are encoded into one buffer and written with one
        system call per 256 KiB instead of one each: many times the rate of
        a send() loop for messages of a few hundred bytes.  Nothing is
        delayed: every message is written before this returns.  Frames on
        the wire stay whole and in order; if an item is neither str nor
        bytes-like, the messages before it are sent and TypeError names its
        index.

        Raises:
            TypeError: an item is neither a str nor a bytes-like object.
            ConnectionClosed: the connection is closing or closed.
        """
        encode, write = self._encode, self._write
        out = bytearray()
        with self._send_lock:
            if self._proto.state is not OPEN or self._sock_closed:
                raise self._proto.closed_exception()
            try:
                for index, message in enumerate(messages):
                    cls = message.__class__
                    if cls is bytes or cls is bytearray:
                        opcode = _BINARY
                    else:
                        opcode, message = _classify(message, f"send_many() (item {index})")
                    if len(message) >= _BATCH_BYTES:
                        # A big message gains nothing from the batch buffer:
                        # write what is queued, then the message as send() would.
                        if out:
                            write(out)
                            out.clear()
                        self._send_locked(opcode, message)
                        continue
                    out += encode(opcode, message)
                    if len(out) >= _BATCH_BYTES:
                        write(out)
                        out.clear()
            finally:
                if out and not self._sock_closed and self._proto.state is OPEN:
                    write(out)

    def send_binary(self, data) -> None:
        """Send a binary message from any bytes-like object or iterable of ints."""
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
        self._send_frame(_BINARY, data)

    def ping(self, data=b"") -> None:
        """Send a ping (payload of at most 125 bytes; str is sent as UTF-8)."""
        self._send_frame(_PING, self._control_payload("ping", data))

    def pong(self, data=b"") -> None:
        """Send a pong, e.g. echoing a ping's data when auto_pong is off."""
        self._send_frame(_PONG, self._control_payload("pong", data))

    @staticmethod
    def _control_payload(what: str, data) -> bytes:
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            data = bytes(memoryview(data))
        except TypeError:
            raise TypeError(f"{what} data must be bytes-like or str, not {type(data).__name__}") from None
        if len(data) > 125:
            raise ValueError(f"{what} payload of {len(data)} bytes exceeds 125")
        return data

    def _send_frame(self, opcode: int, payload) -> None:
        with self._send_lock:
            proto = self._proto
            if proto.state is not OPEN or self._sock_closed:
                raise proto.closed_exception()
            self._write(self._encode(opcode, payload))

    def _flush(self) -> None:
        """Write the replies (pongs, close frames) the protocol queued."""
        with self._send_lock:
            for data in self._proto.data_to_send():
                if self._sock_closed:
                    return
                self._write(data)

    def _write(self, data, done: int = 0) -> None:
        """Write ``data`` from offset ``done`` on; the caller holds the send lock."""
        sock = self._sock
        total = len(data)
        try:
            while done < total:
                try:
                    done += sock.send(memoryview(data)[done:] if done else data)
                except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    self._wpoll.wait(None)  # the socket buffer is full
        except (OSError, ValueError):  # reset, or closed by another thread
            self._proto.eof_received()
            raise self._proto.closed_exception() from None

    # -- receiving ------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> dict:
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
        if timeout is None:
            lock.acquire()
        else:
            timeout = _check_timeout("timeout", timeout)
            deadline = time.monotonic() + timeout
            if not lock.acquire(timeout=timeout):
                raise WebSocketTimeout(f"receive() timed out after {timeout} s (another thread is receiving)")
        try:
            proto = self._proto
            parser_next = self._parser_next
            while True:
                if self._done:
                    raise proto.closed_exception()
                # The protocol's next_message, inlined: a data message goes
                # straight from the parser to the caller; anything else
                # passes through the protocol.
                try:
                    msg = parser_next()
                    if msg.__class__ is dict:
                        return msg
                    if msg is not None:
                        msg = proto.control_message(msg)
                except (ProtocolError, MessageTooBig) as exc:
                    proto.parse_failed(exc)
                    self._done = True
                    self._finish(drain=True)
                    raise
                if msg is not None:
                    self._after_control()
                    return msg
                if proto.state is CLOSED:  # EOF, nothing buffered
                    self._done = True
                    self._finish(drain=False)
                    raise proto.closed_exception()
                if not self._fill(deadline):
                    raise WebSocketTimeout(f"receive() timed out after {timeout} s")
        finally:
            lock.release()

    def _after_control(self) -> None:
        """Send queued replies (pong, close); after a close, end TCP."""
        try:
            self._flush()
        except ConnectionClosed:
            pass  # the reply could not be sent; the message stands
        if self._proto.state is CLOSED:
            self._done = True
            self._finish(drain=True)

    def _fill(self, deadline: float | None) -> bool:
        """Receive more bytes into the protocol; False on timeout."""
        sock = self._sock
        if deadline is None or self._tls:
            flags = 0  # a blocking recv, or TLS (non-blocking, takes no flags)
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
                if not self._rpoll.wait(deadline):
                    return False
                continue
            except ssl.SSLWantWriteError:
                if not self._wpoll.wait(deadline):
                    return False
                continue
            except (OSError, ValueError):  # reset, or closed by close()
                n = 0
            if n:
                self._buffer_updated(n)
            else:
                self._proto.eof_received()
            return True

    def __iter__(self) -> Iterator[dict]:
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
        deadline = time.monotonic() + self.close_timeout
        if not self._send_lock.acquire(timeout=self.close_timeout):
            # Another thread is stuck sending to a server that stopped
            # reading: no close frame can be sent, end TCP (which wakes it).
            self._abort()
            return
        try:
            if self._proto.state is OPEN and not self._sock_closed:
                self._proto.send_close(code, reason)
                for data in self._proto.data_to_send():
                    try:
                        self._write(data)
                    except ConnectionClosed:
                        break
        finally:
            self._send_lock.release()
        if self._recv_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            try:
                self._await_close(deadline)
                self._done = True
                self._finish(drain=True, deadline=deadline)
            finally:
                self._recv_lock.release()
        else:
            # Another thread is blocked receiving and the server did not
            # answer in time: closing the socket wakes that thread.
            self._abort()

    def _await_close(self, deadline: float) -> None:
        """Read until the server's close frame, EOF or the deadline; data
        messages that arrive meanwhile are discarded."""
        proto = self._proto
        while proto.state is CLOSING:
            try:
                msg = proto.next_message()
            except (ProtocolError, MessageTooBig):
                return
            if msg is None and (self._sock_closed or not self._fill(deadline)):
                return

    def _flush_quietly(self) -> None:
        try:
            self._flush()
        except ConnectionClosed:
            pass

    def _finish(self, drain: bool, deadline: float | None = None) -> None:
        """Send what is queued (a close frame), then close TCP.

        With ``drain``, half-close first and read until the server's EOF
        (bounded by close_timeout): the server closes TCP first (RFC 6455
        §7.1.1), and closing with unread bytes would send a reset that can
        destroy our close frame in flight.
        """
        if self._sock_closed:
            return
        self._flush_quietly()
        if drain:
            if deadline is None:
                deadline = time.monotonic() + self.close_timeout
            try:
                self._sock.shutdown(socket.SHUT_WR)
                scratch = bytearray(65536)
                # poll() said readable: with no MSG_DONTWAIT (Windows) the
                # recv returns at once all the same.
                flags = 0 if self._tls else _DONTWAIT
                while self._rpoll.wait(deadline):
                    try:
                        if not self._sock.recv_into(scratch, 0, flags):
                            break
                    except _WOULD_BLOCK:
                        continue
            except (OSError, ValueError):
                pass
        self._abort()

    def _abort(self) -> None:
        """Close the TCP connection now (idempotent)."""
        if self._sock_closed:
            return
        self._sock_closed = True
        self._proto.eof_received()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes blocked threads
        except (OSError, ValueError):
            pass
        # Senders write to the raw descriptor: close it only once no send
        # is under way, so that a number reused by the OS is never written.
        locked = self._send_lock.acquire(timeout=self.close_timeout + 1.0)
        try:
            self._sock.close()
        finally:
            if locked:
                self._send_lock.release()

    def __enter__(self) -> "WsClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        sock = getattr(self, "_sock", None)
        if sock is not None and not getattr(self, "_sock_closed", True):
            sock.close()


def connect(url: str, **options) -> WsClient:
    """Open a WebSocket connection: the same as ``WsClient(url, **options)``."""
    return WsClient(url, **options)
