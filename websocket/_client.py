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

import functools
import logging
import os
import socket
import ssl
import sys
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, overload

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
    ConnectionClosed,
    HandshakeError,
    WebSocketTimeout,
)
from ._frames import Opcode, State, encode_close_frame
from ._handshake import (
    Headers,
    _header_items,
)
from ._messages import TextBytesMessage, TextMessage, TextMessageT
from ._options import ClientOptions
from ._proxy import (
    basic_credentials,
    parse_proxy_url,
)
from ._receiving import MessageStream, Receiving
from ._sending import Sending, _flush_out
from ._trace import frames_logger, trace_frames
from ._url import URLParts, parse_url
from ._waiting import (
    _DONTWAIT,
    _acquire,
    _check_timeout,
    _deadline,
    _Poller,
)

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
    from typing_extensions import Unpack

    from ._tls import TLSLayer
_TLS: type[TLSLayer] = _tls_module.TLSLayer

__all__ = ["WsClient", "MessageStream", "connect"]

DEFAULT_MAX_SIZE = _parser_module.DEFAULT_MAX_SIZE

logger = logging.getLogger("websocket")

_TEXT, _BINARY = int(Opcode.TEXT), int(Opcode.BINARY)
_PING, _PONG, _CLOSE = int(Opcode.PING), int(Opcode.PONG), int(Opcode.CLOSE)
_TLS_READ = _tls_module.READ_SIZE


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


class WsClient(Receiving[TextMessageT], Sending, Connecting):
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
        # What only connecting uses (the opening room's state, _connect.py).
        # The per-message state is in the compiled Engine's typed
        # attributes, so this class's attribute count costs nothing there.
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
            # The engine ends this socket (Engine.close_socket) from now on.
            self._engine.sock = self._sock
            self._engine.tls = self._tls
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
        # The full sends' writes and the full receive's reads are the
        # engine's (Engine.write, Engine.fill).
        self._engine.flush_out = _flush_out
        self._engine.wpoll = self._wpoll
        self._engine.rpoll = self._rpoll
        # A read that does not wait (for a fill with a deadline), as one C
        # callable that FrameParser.read_with can call.
        self._engine.recv_now = functools.partial(self._sock.recv_into, nbytes=0, flags=_DONTWAIT)
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
            trace_frames(self)  # the writer's and the engine's hooks (see _trace)
        if type(self).receive is Receiving.receive:
            # receive() is the engine's: one compiled call, no Python frame
            # before it (Receiving.receive says the same, one call later).
            self.receive = self._engine.receive  # type: ignore[method-assign]

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
            mutex=speedups.FastLock(),  # receive() and close() run in any threads
            **self._opening.proto_options,
        )
        self._proto = proto
        self._parser = proto.parser
        # Results stay in the parser until a receive call returns them (see
        # receive()): what a signal handler interrupts is not lost.
        proto.parser.hold = True
        # Bound once: the per-message paths call them directly.
        # The parser's own next_message: the protocol hooks into the parser
        # for control frames and failures, so this skips one layer.
        self._next_message = proto.parser.next_message
        self._check_open = proto.check_open
        self._is_closed = proto.is_closed
        self._pending = proto.pending  # replies queued by the protocol
        # The locks and the per-message fast paths (no descriptor until the
        # connection is open: they decline until then).
        self._engine = engine = Engine(proto)
        self._send_lock = engine.send_lock
        self._recv_lock = engine.recv_lock
        self._send_data = engine.send_data
        engine.full_receive = type(self)._receive
        engine.shell = weakref.ref(self)
        self._done = False  # the end was reported; later receives raise
        self._sock_closed = False
        self._tls: TLSLayer | None = None
        self._engine.tls_out = False  # TLS output waits (a receiver produced it)
        self._fd = -1
        self._engine.plain = False

    @classmethod
    def new(cls, url: str, **options: Any) -> WsClient:
        """Connect; the seed interface's spelling of ``WsClient(url)``."""
        return cls(url, **options)

    # -- state ----------------------------------------------------------------

    @property
    def close_received(self) -> tuple[int, str] | None:
        """The server's close frame: ``(code, reason)``, or None (none came,
        or not yet)."""
        return self._proto.close_received  # type: ignore[no-any-return]

    @property
    def ended(self) -> ConnectionClosed | None:
        """How the connection ended, once it is closed: the ConnectionClosed
        that calls on it raise (the close received; else the close this
        side failed it with; else 1006), with ``__cause__`` the error that
        ended it, if one did (a socket error, a protocol violation, a
        keepalive timeout).  None while it is not closed."""
        if self._proto.state is not State.CLOSED:
            return None
        exc: ConnectionClosed = self._proto.closed_exception()
        exc.__cause__ = self._proto.failure
        return exc

    @property
    def sock(self) -> socket.socket | None:
        """The connection's socket (TCP or Unix; under TLS the raw one), for
        ``select`` and socket options; None once TCP is closed.  Read and
        write through this object only: bytes taken from the socket are
        lost to the connection."""
        return None if self._sock_closed else self._sock

    def fileno(self) -> int:
        """The socket's descriptor (-1 once closed), for ``select``."""
        return -1 if self._sock_closed else self._sock.fileno()

    def ready_state(self) -> str:
        """"connecting", "open", "closing" or "closed" (the protocol's State)."""
        return self._proto.state.name.lower()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<WsClient {self.url!r} {self.ready_state()}>"

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

    def abort(self) -> None:
        """End the TCP connection now, without a close frame (the state is
        CLOSED, 1006): threads blocked in a receive or a send wake with
        ConnectionClosed.  For a peer that must not be waited for; use
        :meth:`close` otherwise."""
        self._abort()

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
        if not self._flush(blocking=True, deadline=deadline, then=self._engine.shutdown_write):
            self._abort()
            return
        self._engine.drain(deadline)
        self._abort()

    def __enter__(self) -> WsClient[TextMessageT]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        engine = getattr(self, "_engine", None)
        if engine is not None and not getattr(self, "_sock_closed", True):
            engine.dropped()


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
