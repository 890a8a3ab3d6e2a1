"""WsClient: the blocking client's public API, and its full send and receive.

:class:`~websocket._protocol.ClientProtocol` makes every WebSocket decision
(handshake, framing, limits, pings, the closing handshake, when TCP ends);
the engine (``_engine.py``) holds the locks and makes the one call per
message that reads or writes; the opening is ``_connect.py``'s.  This
module owns the options, timeouts turned into deadlines, the waits, and
what the fast paths leave: it never re-implements a protocol step.

- **Sockets** stay blocking after the handshake: a receive without a
  timeout is one blocking ``recv()``, waits with a deadline are ``poll()``
  plus ``MSG_DONTWAIT``, so no thread's timeout changes another's socket.
- **TLS** runs over ``ssl.MemoryBIO`` + ``SSLObject`` (as asyncio's SSL
  transport does), in :class:`~websocket._tls.TLSLayer` (``_tls.py``,
  compiled like the protocol): the SSL object is driven only under its
  own short lock, and raw socket I/O happens outside it, so a sender and
  a receiver never drive one OpenSSL object at once.  This shell makes
  the handshake and the waits.
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
import functools
import logging
import math
import os
import select
import socket
import ssl
import sys
import threading
import time
from _thread import get_ident
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, ParamSpec, overload

from ._codec import engine as _engine_module
from ._codec import parser as _parser_module
from ._codec import protocol, speedups
from ._codec import tls as _tls_module
from ._connect import (
    DEFAULT_MAX_REDIRECTS,
    Connecting,
    Opening,
    _check_socket_options,
    _check_unix_socket,
    _header_list,
    _shown,
)
from ._deflate import DeflateSettings
from ._exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    HandshakeError,
    MessageTooBig,
    ProtocolError,
    WebSocketError,
    WebSocketTimeout,
)
from ._frames import Opcode, State, encode_close_frame
from ._handshake import (
    Headers,
    _header_items,
)
from ._messages import Received, TextBytesMessage, TextMessage, TextMessageT
from ._options import ClientOptions
from ._proxy import (
    basic_credentials,
    parse_proxy_url,
)
from ._trace import frames_logger, trace_frames
from ._url import URLParts, parse_url

HAVE_FD_IO: bool = speedups.HAVE_FD_IO

# receive()'s fast path reads the descriptor itself (recv_into, set up in
# __init__) in the compiled build with a GIL only: there no thread runs
# between its check that the connection is open and its recv(), so a
# close() in another thread cannot close the descriptor (and the OS give
# its number to another socket) in between.  Pure Python and free-threaded
# builds could switch threads there; they read through socket.recv_into,
# which takes the descriptor from the socket object at the system call.
_FD_READS = HAVE_FD_IO and protocol.COMPILED and getattr(sys, "_is_gil_enabled", lambda: True)()

ClientProtocol = protocol.ClientProtocol
Engine = _engine_module.Engine
if TYPE_CHECKING:
    from typing_extensions import Buffer, Unpack

    from ._tls import TLSLayer
_TLS: type[TLSLayer] = _tls_module.TLSLayer

__all__ = ["WsClient", "MessageStream", "connect"]

DEFAULT_MAX_SIZE = _parser_module.DEFAULT_MAX_SIZE

logger = logging.getLogger("websocket")

_TEXT, _BINARY = int(Opcode.TEXT), int(Opcode.BINARY)
_PING, _PONG, _CLOSE = int(Opcode.PING), int(Opcode.PONG), int(Opcode.CLOSE)
_WOULD_BLOCK = (BlockingIOError, InterruptedError)
# Without MSG_DONTWAIT (Windows), a recv() after poll() said "readable"
# returns at once anyway.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
# send_many() writes once this much is collected: large enough that the
# system call costs little per message, small enough to stay in cache.
_BATCH_BYTES = 256 * 1024
_TLS_READ = _tls_module.READ_SIZE
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


def _check_context(name: str, context: object) -> None:
    if context is not None and not isinstance(context, ssl.SSLContext):
        raise TypeError(f"{name} must be an ssl.SSLContext, not {type(context).__name__}")


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
        hint = " (to send JSON, json.dumps() it first)" if isinstance(message, Mapping) else ""
        raise TypeError(
            f"{where} takes a str or a bytes-like object, not {type(message).__name__}{hint}"
        ) from None


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


class _Stalled(Exception):
    """A write's deadline passed (turned into WebSocketTimeout by the
    public method that knows its name and timeout)."""

    def __init__(self, written: int = 0) -> None:
        super().__init__(written)
        self.written = written


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
            # Past the deadline, one look without waiting: ready now is ready.
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._poll is not None:
                ms = None if timeout is None else min(_POLL_MAX_MS, math.ceil(timeout * 1000))
                if self._poll.poll(ms):
                    return True
            else:
                fds = [self._fd]  # Windows
                wait = None if timeout is None else min(timeout, 86400.0)
                if self._write:
                    if select.select([], fds, fds, wait)[1]:
                        return True
                elif select.select(fds, [], fds, wait)[0]:
                    return True
            if timeout == 0.0:
                return False


class WsClient(Connecting, Generic[TextMessageT]):
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
        proxy: True (the default) takes a proxy from the environment
            (``HTTPS_PROXY`` for wss, ``HTTP_PROXY`` for ws, ``ALL_PROXY``,
            ``NO_PROXY``); a URL (``http://``, ``https://``, ``socks4://``,
            ``socks4a://``, ``socks5://``, ``socks5h://``, with optional
            ``user:password@``) uses that proxy; None uses none.
        proxy_headers: extra headers for the proxy's CONNECT request.
        proxy_ssl_context: for an ``https://`` proxy (default: verifying).
        max_redirects: redirects (301, 302, 303, 307, 308) the handshake
            follows; 0 makes a redirect a HandshakeError.
        ping_interval: keepalive: after this many seconds with nothing
            received, a waiting :meth:`receive` sends a ping (None: off).
        ping_timeout: with ``ping_interval``, no pong within this many
            seconds fails the connection with 1011 (None: no limit).
        send_timeout: seconds a send may wait for the server to take its
            frame (None: no limit); see :meth:`send`.
        unix_socket: connect to this Unix domain socket path instead.
        sock: a connected socket to use instead of connecting.
        socket_options: ``(level, option, value)`` triples set on the
            socket before it connects.
        server_hostname: the name TLS sends and verifies (default: the
            URL's host).

    Attributes:
        url: the URL connected to, after any redirects.

    Raises:
        InvalidURI: a bad URL.
        TypeError, ValueError: a bad option (checked before connecting).
        HandshakeError: the server refused or botched the upgrade (or
            redirected too often, or from wss:// to ws://).
        ProxyError: the proxy refused the tunnel.
        WebSocketTimeout: connecting and the handshake took over ``timeout``.
        OSError: the TCP connection failed (refused, unreachable, DNS);
            ``ssl.SSLError`` for TLS failures such as a bad certificate.
    """

    # What receive() returns for text, read off decode_text by a checker
    # (WsClient[TextMessage] by default): the options themselves are
    # ClientOptions', and the signature below is the one that runs.
    @overload
    def __init__(
        self: WsClient[TextMessage], url: str, *, decode_text: Literal[True] = True, **options: Unpack[ClientOptions]
    ) -> None: ...
    @overload
    def __init__(
        self: WsClient[TextBytesMessage], url: str, *, decode_text: Literal[False], **options: Unpack[ClientOptions]
    ) -> None: ...
    @overload
    def __init__(
        self: WsClient[TextMessage | TextBytesMessage], url: str, *, decode_text: bool, **options: Unpack[ClientOptions]
    ) -> None: ...

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
        compression: Literal["deflate"] | None = None,
        client_max_window_bits: int | None = None,
        server_max_window_bits: int | None = None,
        client_no_context_takeover: bool = False,
        server_no_context_takeover: bool = False,
        compression_level: int | None = None,
        memory_level: int | None = None,
        decode_text: bool = True,
        proxy: str | bool | None = True,
        proxy_headers: Headers | None = None,
        proxy_ssl_context: ssl.SSLContext | None = None,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        ping_interval: float | None = None,
        ping_timeout: float | None = 20.0,
        send_timeout: float | None = None,
        unix_socket: str | os.PathLike[str] | None = None,
        sock: socket.socket | None = None,
        socket_options: Iterable[tuple[int, int, int | bytes]] | None = None,
        server_hostname: str | None = None,
    ) -> None:
        self.url = url  # the final URL once redirects were followed
        # What only connecting uses, in one attribute: over 30 instance
        # attributes, CPython 3.11 stops sharing the instances' dict keys and
        # every attribute read on the hot paths gets slower (+10% per
        # message, bench/icount.py).
        self._opening = Opening()
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
        self._opening.timeout = _check_timeout("timeout", timeout)
        self.close_timeout = _check_timeout("close_timeout", close_timeout)
        self._send_timeout = _check_timeout("send_timeout", send_timeout)
        _check_context("ssl_context", ssl_context)
        _check_context("proxy_ssl_context", proxy_ssl_context)
        if ssl_context is not None and not parts["secure"]:
            raise ValueError(f"ssl_context given for {url!r}, which is not a wss:// URL")
        if server_hostname is not None:
            if not isinstance(server_hostname, str) or not server_hostname:
                raise TypeError(f"server_hostname must be a non-empty str, not {server_hostname!r}")
            if not parts["secure"]:
                raise ValueError(f"server_hostname given for {url!r}, which is not a wss:// URL")
        if isinstance(max_redirects, bool) or not isinstance(max_redirects, int):
            raise TypeError(f"max_redirects must be an int, not {type(max_redirects).__name__}")
        if max_redirects < 0:
            raise ValueError(f"max_redirects must be >= 0, got {max_redirects}")
        self._opening.unix_socket = _check_unix_socket(unix_socket)
        if sock is not None and not isinstance(sock, socket.socket):
            raise TypeError(f"sock must be a socket.socket, not {type(sock).__name__}")
        if sock is not None and self._opening.unix_socket is not None:
            raise ValueError("give either sock= or unix_socket=, not both")
        self._opening.given_sock = sock
        self._opening.socket_options = _check_socket_options(socket_options)
        # proxy=True: from the environment, decided per host (redirects).
        if proxy is True:
            self._opening.proxy_from_env = sock is None and self._opening.unix_socket is None
        elif isinstance(proxy, str):
            if sock is not None or self._opening.unix_socket is not None:
                raise ValueError("proxy= cannot be used with sock= or unix_socket=")
            self._opening.proxy = parse_proxy_url(proxy)
        elif proxy is not None and proxy is not False:
            raise TypeError(f"proxy must be a URL str, True (environment) or None, not {proxy!r}")
        if proxy_headers is not None and proxy in (None, False):
            raise ValueError("proxy_headers given with proxy=None")
        self._opening.proxy_headers = _header_list(proxy_headers)
        _header_items(self._opening.proxy_headers)  # checked now, as connect_request will
        self._opening.proxy_ssl_context = proxy_ssl_context
        self._opening.ssl_context = ssl_context
        self._opening.server_hostname = server_hostname
        self._opening.max_redirects = max_redirects
        self._opening.headers = _header_list(headers)
        self._opening.proto_options = dict(
            subprotocols=subprotocols,
            origin=origin,
            max_size=max_size,
            auto_pong=auto_pong,
            deflate=deflate,
            decode_text=decode_text,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
        )
        self._opening.auth = (parts["username"], parts["password"]) if "username" in parts else None
        # Every option is checked by now (the protocol checks its own),
        # before any connection is made.
        deadline = _deadline(self._opening.timeout)
        while True:
            self._start(parts)
            self._sock = self._connect(parts, deadline)
            try:
                self._handshake(deadline)
                break
            except HandshakeError as exc:
                self._abort()
                url, parts = self._follow(url, parts, exc)
                self.url = url
            except BaseException:
                self._abort()
                raise
        proto = self._proto
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "connected to %s (subprotocol %s, compression %s)",
                _shown(self.url),
                proto.subprotocol,
                self.compression,
            )
        self._sock.settimeout(None)  # blocking from now on (see the module doc)
        # Set once the handshake agreed on deflate (with a usable window).
        self._deflater: Any = proto.deflater
        # send() takes its fast path (send_ready, compressing too) when no
        # send timeout is in force.
        self._engine.plain = self._send_timeout is None
        # Plain TCP: data frames are encoded and written by the codec in one
        # call (FrameEncoder.send_to), without the GIL while writing.
        if HAVE_FD_IO and self._tls is None:
            self._fd = self._sock.fileno()
            self._engine.send_fd = self._fd
        elif self._tls is not None and self._tls.under is None:
            # TLS: the frame is encoded by the same call, then encrypted and
            # written by TLSLayer.write_ready (to the descriptor, in C, in the
            # compiled build; reads too where _FD_READS allows).
            self._tls.use_descriptor(HAVE_FD_IO and protocol.COMPILED, _FD_READS)
            self._engine.writer = self._tls.write_ready
        self._rpoll = _Poller(self._sock, write=False)
        self._wpoll = _Poller(self._sock, write=True)
        # A read that does not wait (for _fill with a deadline), as one C
        # callable that FrameParser.read_with can call.
        self._recv_now = functools.partial(self._sock.recv_into, nbytes=0, flags=_DONTWAIT)
        if proto.ping_interval is not None:
            # Keepalive runs inside receive(): its waits are cut at the next
            # keepalive decision (see _fill_keepalive).  No thread.
            proto.data_received(time.monotonic())
            self._fill = self._fill_keepalive  # type: ignore[method-assign]
        # When nothing is buffered, the fast path also makes receive()'s
        # blocking read (see receive_ready); with keepalive only from the
        # descriptor, whose read it bounds by the next keepalive decision.
        tls = self._tls
        fd = -1
        reader: Any = None  # TLS in TLS: the full receive
        if tls is None:
            if _FD_READS:
                # The read is made on the descriptor, in C (see _FD_READS):
                # close() (_abort) marks the connection closed before it
                # closes the socket.
                fd = self._fd
            elif proto.ping_interval is None:
                reader = self._sock.recv_into
        elif tls.under is None and proto.ping_interval is None:
            reader = tls.read_ready
        self._engine.read_fd = fd
        self._engine.reader = reader
        if frames_logger.isEnabledFor(logging.DEBUG):
            trace_frames(self)  # rebinds the per-message callables (see _trace)

    def _start(self, parts: URLParts) -> None:
        """A fresh protocol (and connection state) for one attempt."""
        headers = self._opening.headers
        if self._opening.auth is not None and not any(n.lower() == "authorization" for n, _ in headers):
            headers = [*headers, ("Authorization", basic_credentials(*self._opening.auth))]
        proto = ClientProtocol(
            parts["host"],
            parts["port"],
            parts["path"],
            secure=parts["secure"],
            headers=headers,
            **self._opening.proto_options,
        )
        self._proto = proto
        self._parser = proto.parser
        # Results stay in the parser until a receive call returns them (see
        # receive()): what a signal handler interrupts is not lost.
        proto.parser.hold = True
        self._encoder_class = type(proto.encoder)  # send_many() makes its own
        # Bound once: the per-message paths call them directly.
        # The parser's own next_message: the protocol hooks into the parser
        # for control frames and failures, so this skips one layer.
        self._next_message = proto.parser.next_message
        self._encode = proto.encoder.encode
        self._send_to = proto.encoder.send_to
        self._check_open = proto.check_open
        self._is_closed = proto.is_closed
        self._pending = proto.pending  # replies queued by the protocol
        # The locks and the per-message fast paths (no descriptor until the
        # connection is open: they decline until then).
        self._engine = engine = Engine(proto)
        self._send_lock = engine.send_lock
        self._recv_lock = engine.recv_lock
        self._send_data = engine.send_data
        self._receive_ready = engine.receive_ready
        self._done = False  # the end was reported; later receives raise
        self._sock_closed = False
        self._tls: TLSLayer | None = None
        self._engine.tls_out = False  # TLS output waits (a receiver produced it)
        self._fd = -1
        self._deflater = None  # set after the handshake
        self._engine.plain = False

    @classmethod
    def new(cls, url: str, **options: Any) -> WsClient:
        """Connect; the seed interface's spelling of ``WsClient(url)``."""
        return cls(url, **options)

    # -- state ----------------------------------------------------------------

    @property
    def redirects(self) -> list[tuple[int, str]]:
        """The redirects the opening handshake followed, in order:
        ``(status, URL)``; :attr:`url` is the last URL."""
        return list(self._opening.redirects)

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
        compressed = self._deflater is not None and compress is not False
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
        """The frames of a fragmented message; the caller holds the send lock.

        Each piece is written before the next is taken (an iterable may
        refill one buffer), so the final frame is an empty one."""
        self._check_open()
        self._writable(deadline)
        deflater = self._deflater
        kind = opcode
        index = 0
        sent = False  # a frame of the message is out: it must be finished
        final = False
        try:
            while True:
                data = b"" if final else piece
                if compressed:
                    # One deflate stream for the whole message, RSV1 on its
                    # first frame (RFC 7692 §6.1, §7.2.1).
                    assert deflater is not None
                    data = deflater.compress(data, final)
                frame = self._encode(opcode, data, final, compressed and not sent)
                self._write(frame, deadline, committed=sent or compressed)
                sent = True
                if final:
                    return
                opcode = 0  # continuation frames from here on
                try:
                    item = next(it)
                except StopIteration:
                    final = True
                    continue
                index += 1
                got, piece = _classify(item, f"send() (piece {index})")
                if got != kind:
                    raise TypeError(
                        f"send() piece {index} is {type(item).__name__} but the message is "
                        f"{'text' if kind == _TEXT else 'binary'}: pieces are all str or all bytes-like"
                    )
        except BaseException as exc:
            if sent and self._proto.is_open():
                # Half a message is on the wire: only a close can follow.
                self._proto.fail(1011, f"fragmented send() stopped: {type(exc).__name__}")
                self._flush_locked(deadline)
            raise

    def _send_choosing(self, opcode: int, payload: Any, compress: object, timeout: object, what: str = "send()") -> None:
        if compress is not None:
            _check_compress(compress)
        compressed = self._deflater is not None and compress is not False
        seconds = self._send_limit(timeout)
        if seconds is None and not compressed:
            self._send_frame(opcode, payload)
        else:
            self._send_slow(opcode, payload, compressed, seconds, what)

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
        payload = self._control_payload("ping", data)
        waiter = threading.Event()
        self._proto.ping_sent(payload, waiter, time.monotonic())
        try:
            self._send_choosing(_PING, payload, False, timeout, "ping()")
        except BaseException:
            self._proto.ping_cancelled(waiter)
            raise
        return waiter

    def pong(self, data: str | bytes = b"", timeout: float | None = None) -> None:
        """Send a pong, e.g. echoing a ping's data when auto_pong is off."""
        self._send_choosing(_PONG, self._control_payload("pong", data), False, timeout, "pong()")

    @property
    def latency(self) -> float | None:
        """Seconds between the last answered ping (keepalive's or
        :meth:`ping`'s) and its pong; None before any."""
        return self._proto.latency  # type: ignore[no-any-return]

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
            if self._deflater is not None and compress is not False:
                self._send_many_compressed(messages, deadline)
            else:
                self._send_many_plain(messages, deadline)
        except _Stalled:
            raise self._stalled("send_many()", seconds) from None

    def _send_many_plain(self, messages: Iterable[Any], deadline: float | None) -> None:
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
                        self._send_batch(out, deadline)
                        out = bytearray()
                    if deadline is None:
                        self._send_frame(opcode, message)
                    else:
                        self._send_batch(encode(opcode, message), deadline)
                    continue
                out += encode(opcode, message)
                if len(out) >= _BATCH_BYTES:
                    self._send_batch(out, deadline)
                    out = bytearray()
        except (TypeError, UnicodeEncodeError):
            if out and self._proto.is_open():  # the messages before the bad item
                self._send_batch(out, deadline)
            raise
        if out:
            self._send_batch(out, deadline)

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
                    self._write_failed(exc, self._proto.encoder.partial)
        finally:
            lock.release()
        # Replies another thread queued while we held the lock.
        if self._pending or self._engine.tls_out:
            self._flush(blocking=False)

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
                    self._send_compressed_batch(batch, deadline)
                    batch, size = [], 0
        except (TypeError, UnicodeEncodeError):
            if batch and self._proto.is_open():  # the messages before the bad item
                self._send_compressed_batch(batch, deadline)
            raise
        if batch:
            self._send_compressed_batch(batch, deadline)

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

    def _send_slow(self, opcode: int, payload: Any, compressed: bool, seconds: float | None, what: str) -> None:
        """One message with a send timeout, compression, or both.

        Compressed (RFC 7692 §7.2.1): under the send lock, so that frames
        leave in the compressor's order."""
        deadline = _deadline(seconds)
        try:
            self._lock_for_send(deadline)
            try:
                self._check_open()
                self._writable(deadline)
                if compressed:
                    data = self._compress(payload)
                    fd = self._fd
                    if fd >= 0 and deadline is None:
                        try:
                            self._send_to(fd, opcode, data, True, True)
                        except BaseException as exc:
                            self._write_failed(exc, True)
                    else:
                        self._write(self._encode(opcode, data, True, True), deadline, True)
                else:
                    self._write(self._encode(opcode, payload), deadline)
            finally:
                self._send_lock.release()
        except _Stalled:
            raise self._stalled(what, seconds) from None
        if self._pending or self._engine.tls_out:
            self._flush(blocking=False)

    def _send_compressed_batch(self, batch: list[tuple[int, Any]], deadline: float | None) -> None:
        self._lock_for_send(deadline)
        try:
            self._check_open()
            self._writable(deadline)
            out = bytearray()
            for opcode, payload in batch:
                out += self._encode(opcode, self._compress(payload), True, True)
            self._write(out, deadline, committed=True)
        finally:
            self._send_lock.release()
        if self._pending or self._engine.tls_out:
            self._flush(blocking=False)

    def _compress(self, payload: Any) -> Any:
        """The compressed payload; the caller holds the send lock.

        Every message compressed is in the compressor's history, so one
        that does not then go out whole (any exception from here on, a
        signal's too) leaves the server unable to decompress the next: the
        connection fails, as for a frame partly written."""
        deflater = self._deflater
        assert deflater is not None
        try:
            return deflater.compress(payload)
        except BaseException as exc:
            # A str with no UTF-8 fails before the compressor takes any of
            # it: the caller's error (_write_failed re-raises it).
            self._write_failed(exc, not isinstance(exc, UnicodeEncodeError))
            raise  # unreachable: _write_failed raises

    def _send_batch(self, frames: Any, deadline: float | None = None) -> None:
        self._lock_for_send(deadline)
        try:
            self._check_open()
            self._writable(deadline)
            self._write(frames, deadline)
        finally:
            self._send_lock.release()
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
            self._send_raw(data, deadline)
        except _Stalled as exc:
            if exc.written == 0 and tls is None and not committed:
                raise  # not a byte of the frame went out: still usable
            self._write_failed(exc, True)
        except BaseException as exc:
            self._write_failed(exc, started)

    def _send_raw(self, data: Any, deadline: float | None) -> None:
        sock = self._sock
        view = memoryview(data)
        total = len(view)
        done = 0
        # With a deadline the socket (blocking since the handshake) must not
        # block in send(): MSG_DONTWAIT, or on Windows a poll first.
        flags = 0 if deadline is None else _DONTWAIT
        try:
            while done < total:
                if deadline is not None and not _DONTWAIT and not self._wpoll.wait(deadline):
                    raise _Stalled(done)
                try:
                    done += sock.send(view[done:] if done else view, flags)
                except _WOULD_BLOCK:
                    if not self._wpoll.wait(deadline):
                        raise _Stalled(done) from None
        finally:
            view.release()

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
            self._fd < 0 or self._deflater is not None or self._proto.encoder.partial
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
            while (item := self._proto.pop_pending()) is not None:
                self._write(self._encode(item[0], item[1]), deadline)
            if self._tls_pending():
                assert self._tls is not None
                try:
                    self._send_raw(self._tls.output(), deadline)
                except BaseException as exc:
                    self._write_failed(exc, True)
        except ConnectionClosed:
            pass  # the connection is gone: nothing more to write
        except _Stalled as exc:
            # A server that takes no pong or close frame within the send
            # timeout (or close_timeout) is gone: end TCP.
            self._proto.transport_failed(exc)
            self._abort(have_send_lock=True)

    # -- receiving ------------------------------------------------------------

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
        try:
            # The hot path, one compiled call (Engine.receive_ready): a
            # message already buffered or one read (bounded by ``timeout``),
            # on plain TCP, or over TLS without a timeout.
            try:
                msg = self._receive_ready(timeout)
            except (ProtocolError, MessageTooBig):
                msg = None  # raised again below, which ends the connection
            if not msg:
                # None: the fast path holds the receive lock for us; False:
                # busy (or a timeout the full receive checks).
                msg = self._receive(timeout, msg is None)
        except BaseException:
            # A signal handler's exception between the fast path and the
            # full receive's try: the lock handed over is released here.
            self._engine.give_back()
            raise
        # Taken: a store and the return, where no signal handler runs.  Until
        # here the parser holds the message (FrameParser.held), and a call
        # that a handler interrupted after it was parsed (as a call above
        # returned) leaves it to the next one.
        self._parser.held = None
        return msg  # type: ignore[no-any-return]

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
            next_message = self._next_message
            parser = self._parser
            first = True
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
                    return msg  # type: ignore[no-any-return]  # (held until receive() returns it)
                if self._is_closed():
                    self._end(deadline)  # EOF, nothing buffered
                    raise self._proto.closed_exception()
                if not self._fill(deadline, first):
                    raise WebSocketTimeout(f"receive() timed out after {timeout} s")
                first = False
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
                size = self._await_piece(view, deadline, timeout, "receive_into()")
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
            first = self._await_piece(None, deadline, timeout, "receive_streaming()")
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
            piece = self._await_piece(None, deadline, timeout, "receive_streaming()")
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

    def _await_piece(self, into: Any, deadline: float | None, timeout: object, what: str) -> Any:
        """receive()'s loop for the parser's piecewise reads: control frames
        are answered and not returned; a close frame raises."""
        parser = self._parser
        first = True
        while True:
            if self._done:
                raise self._proto.closed_exception()
            try:
                result = parser.next_piece() if into is None else parser.next_piece_into(into)
            except (ProtocolError, MessageTooBig):
                self._end(deadline)
                raise
            if result is not None:
                if parser.last_opcode < 8:
                    return result
                self._after_control(deadline)
                parser.held = None  # a control frame, handled here
                if parser.last_opcode == _CLOSE:
                    raise self._proto.closed_exception()
                continue
            if self._is_closed():
                self._end(deadline)
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
        reader = self._recv_now if flags else sock.recv_into
        while True:
            try:
                # Read and booked as one step a signal handler cannot split
                # (FrameParser.read_with).
                n = self._parser.read_with(reader)
            except _WOULD_BLOCK:
                if not self._rpoll.wait(deadline):
                    return False
                continue
            except (OSError, ValueError):  # reset, or closed by close()
                n = 0
            if not n:
                self._proto.receive_eof()
            elif self._proto.pings:  # when a pong among them came
                self._proto.data_received(time.monotonic())
            return True

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
                got = WsClient._fill(self, deadline, first)
                if got:
                    proto.data_received(time.monotonic())
                return got
            if WsClient._fill(self, until):
                proto.data_received(time.monotonic())
                return True

    def _fill_tls(self, deadline: float | None) -> bool:
        tls = self._tls
        assert tls is not None
        sock = self._sock
        while True:
            try:
                n = self._parser.read_with(tls.read_into)  # as in _fill
            except ssl.SSLError as exc:
                # A broken record: the stream cannot go on (1006, with cause).
                self._proto.transport_failed(exc)
                return True
            if n == 0:
                self._proto.receive_eof()
            elif n is not None and self._proto.pings:  # as in _fill
                self._proto.data_received(time.monotonic())
            if self._tls_pending():  # reading can produce TLS output
                self._flush(blocking=False, deadline=deadline, wait=False)
            if n is not None:
                return True
            flags = _DONTWAIT if deadline is not None else 0
            if deadline is not None and not _DONTWAIT and not self._rpoll.wait(deadline):
                return False
            try:
                got = tls.fill(sock, flags)
            except _WOULD_BLOCK:
                if not self._rpoll.wait(deadline):
                    return False
                continue
            except (OSError, ValueError):
                got = 0
            if not got:
                tls.feed(b"")

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
                # The server's close, or ours from close(), ends the loop; a
                # connection that failed (a dropped TCP connection, a
                # keepalive timeout) raises, so that the caller reconnects.
                proto = self._proto
                if proto.close_received or (exc.sent_code is not None and proto.failed_with is None):
                    return
                raise
            kind = msg["type"]
            if kind == "text" or kind == "binary":
                yield msg
            elif kind == "close":
                return

    # -- closing --------------------------------------------------------------

    def send_close(self, code: int = 1000, reason: str = "", timeout: float | None = None) -> None:
        """Start the closing handshake without waiting for its end (RFC
        6455 §7.1.2): send a close frame, and return.

        :meth:`receive` then goes on returning what the server sent before
        its close frame, then that close; :meth:`close` ends it all (waits
        for the server's close, then closes TCP).  A command-line client
        uses this at the end of its input, so that replies still on their
        way are shown.  Does nothing once a close frame was sent.

        Raises:
            ValueError, TypeError: as for :meth:`close`.
            WebSocketTimeout: the close frame could not be written within
                ``timeout`` (default ``send_timeout``): the connection is
                then ended.
        """
        encode_close_frame(code, reason)
        seconds = self._send_limit(timeout)
        self._proto.send_close(code, reason)
        if not self._flush(blocking=True, deadline=_deadline(seconds)):
            self._abort()  # a sender stuck on a server that does not read
            raise WebSocketTimeout(
                f"send_close() timed out after {seconds} s waiting for another thread's send; "
                "the connection was ended (1006)"
            )

    def close(self, code: int = 1000, reason: str = "", timeout: float | None = None) -> None:
        """Close the connection (RFC 6455 §7.1.2): send a close frame, wait
        up to ``timeout`` (default ``close_timeout``) for the server's, then
        close TCP.  Writing the close frame counts against it too: a server
        that takes nothing gets its TCP connection ended.

        Idempotent; messages that arrive meanwhile are discarded.  A close
        from another thread wakes a thread blocked in :meth:`receive`.

        Raises:
            ValueError, TypeError: a code not allowed on the wire, a reason
                over 123 bytes (checked even when already closed), or a bad
                timeout.
        """
        encode_close_frame(code, reason)
        seconds = self.close_timeout if timeout is None else _check_timeout("timeout", timeout)
        deadline = _deadline(seconds)
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
            self._parser.held = None  # discarded
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
        if self._tls is not None:
            self._tls.stop_reading()  # (before the descriptor can close)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("connection to %s ended: %s", _shown(self.url), self._proto.closed_exception())
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes blocked threads
        except (OSError, ValueError):
            pass
        # Senders write to the raw descriptor: close it only once no send
        # is under way, so that a number reused by the OS is never written.
        wait = 10.0 if self.close_timeout is None else self.close_timeout
        locked = have_send_lock or _acquire(self._send_lock, _deadline(wait))
        try:
            self._sock.close()
        finally:
            if locked and not have_send_lock:
                self._send_lock.release()

    def __enter__(self) -> WsClient[TextMessageT]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        sock = getattr(self, "_sock", None)
        if sock is not None and not getattr(self, "_sock_closed", True):
            sock.close()


class MessageStream:
    """One message read as it arrives: see :meth:`WsClient.receive_streaming`.

    Iterate over it for the pieces; ``type`` is "text" or "binary".
    ``close()`` (or leaving a ``with`` block) discards what is left.
    """

    __slots__ = ("type", "_ws", "_next", "_fin", "_serial", "_timeout")

    def __init__(
        self, ws: WsClient[Any], kind: str, first: Any, fin: bool, serial: int, timeout: float | None
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


_P = ParamSpec("_P")


def _takes_the_arguments_of(
    cls: Callable[_P, WsClient],
) -> Callable[[Callable[..., WsClient]], Callable[_P, WsClient]]:
    """Gives a ``(url, **options)`` function the signature of ``cls``, for
    type checkers (ParamSpec) and for ``help()``/Sphinx (``__wrapped__``)."""

    def apply(function: Callable[..., WsClient]) -> Callable[_P, WsClient]:
        function.__wrapped__ = cls  # type: ignore[attr-defined]
        return function

    return apply


if TYPE_CHECKING:
    # The class itself to a checker: its overloads (decode_text decides
    # the type of text messages) and the options' types, in one place.
    connect = WsClient
else:

    @_takes_the_arguments_of(WsClient)
    def connect(url: str, **options: Any) -> WsClient:
        """Open a WebSocket connection: the same as ``WsClient(url,
        **options)``, with the same arguments (a type checker checks them as
        it does for :class:`WsClient`)."""
        return WsClient(url, **options)
