"""Opening a connection: TCP, a Unix socket or a given socket, proxies
(HTTP CONNECT, SOCKS), the TLS handshake, the upgrade (RFC 6455 §4.1) and
redirects, each step bounded by the opening's deadline.

:class:`Opening` holds the options the opening uses; :class:`Connecting`
is the part of ``WsClient`` that runs it (``WsClient.__init__`` calls
``_connect``, ``_handshake`` and ``_follow``).  The proxies' exchanges
themselves are sans I/O (``_proxy.py``), as is the upgrade's decision
(``ClientProtocol.receive_handshake``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import ssl
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._codec import tls as _tls_module
from ._exceptions import (
    HandshakeError,
    ProxyError,
    WebSocketAddressException,
    WebSocketError,
    WebSocketTimeout,
)
from ._handshake import (
    SENSITIVE_HEADERS,
    Headers,
    redirect_location,
    resolve_redirect,
)
from ._proxy import (
    ConnectResponse,
    ProxySpec,
    SocksExchange,
    connect_request,
    parse_proxy_url,
    proxy_from_environment,
    socks_address,
)
from ._url import URLParts, parse_url

if TYPE_CHECKING:
    from ._tls import TLSLayer
_TLS: type[TLSLayer] = _tls_module.TLSLayer
_TLS_READ = _tls_module.READ_SIZE

__all__ = ["Connecting", "DEFAULT_MAX_REDIRECTS", "Opening"]

#: Redirects the opening handshake follows unless told otherwise.
DEFAULT_MAX_REDIRECTS = 10

logger = logging.getLogger("websocket")


def _time_left(deadline: float | None) -> float | None:
    """The socket timeout for the next step of the opening; TimeoutError
    once ``deadline`` has passed.  Never 0.0: ``settimeout(0.0)`` makes a
    socket non-blocking, and its connect or recv then raises
    BlockingIOError instead of timing out (stress/leaks.py found this with
    20 ms handshake timeouts)."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _check_unix_socket(path: object) -> str | None:
    if path is None:
        return None
    if not hasattr(socket, "AF_UNIX"):
        raise ValueError("unix_socket= needs a platform with Unix domain sockets")
    try:
        text = os.fspath(path)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"unix_socket must be a path, not {type(path).__name__}") from None
    if not isinstance(text, str) or not text:
        raise ValueError(f"unix_socket must be a non-empty str path, got {path!r}")
    return text


def _check_socket_options(options: object) -> list[tuple[int, int, Any]]:
    """(level, option, value) triples, as for ``socket.setsockopt``."""
    if options is None:
        return []
    try:
        items = list(options)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"socket_options must be an iterable of (level, option, value), not {type(options).__name__}"
        ) from None
    checked = []
    for item in items:
        if (
            not isinstance(item, tuple)
            or len(item) != 3
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in item[:2])
            or not isinstance(item[2], (int, bytes))
        ):
            raise TypeError(
                f"socket_options items must be (level, option, int or bytes value) tuples, got {item!r}"
            )
        checked.append(item)
    return checked


def _header_list(headers: Headers | None) -> list[tuple[str, str]]:
    """Headers as a list of pairs (checked by the handshake builder)."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    try:
        return list(headers)
    except TypeError:
        raise TypeError(
            f"headers must be a mapping or (name, value) pairs, not {type(headers).__name__}"
        ) from None


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()


def _shown(url: str) -> str:
    """``url`` without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.partition("@")
    if at and "/" not in userinfo:
        return f"{scheme}{sep}***@{host}"
    return url


class Opening:
    """The options that connecting (and following redirects) uses."""

    __slots__ = (
        "timeout", "unix_socket", "given_sock", "socket_options", "proxy", "proxy_from_env",
        "proxy_headers", "proxy_ssl_context", "ssl_context", "server_hostname", "max_redirects",
        "headers", "proto_options", "auth", "redirects", "proxy_headers_for",
    )

    def __init__(self) -> None:
        self.timeout: float | None = None
        self.unix_socket: str | None = None
        self.given_sock: socket.socket | None = None
        self.socket_options: list[tuple[int, int, Any]] = []
        self.proxy: ProxySpec | None = None
        self.proxy_from_env = False
        self.proxy_headers: list[tuple[str, str]] = []
        #: The proxy (scheme, host, port) that proxy_headers were first sent
        #: to: their credentials go to no other (a redirect may change proxy).
        self.proxy_headers_for: tuple[str, str, int] | None = None
        self.proxy_ssl_context: ssl.SSLContext | None = None
        self.ssl_context: ssl.SSLContext | None = None
        self.server_hostname: str | None = None
        self.max_redirects = DEFAULT_MAX_REDIRECTS
        self.headers: list[tuple[str, str]] = []
        self.proto_options: dict[str, Any] = {}
        self.auth: tuple[str, str] | None = None
        #: The redirects followed by the handshake, in order: (status, URL).
        self.redirects: list[tuple[int, str]] = []


class Connecting:
    """The opening, as part of ``WsClient`` (which holds these attributes)."""

    url: str
    _opening: Opening
    _sock: socket.socket
    _tls: TLSLayer | None
    _proto: Any

    # -- what the opening settled ------------------------------------------------

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

    @property
    def request_head(self) -> str:
        """The upgrade request this connection sent (its request line and
        headers), as text."""
        return self._proto.connect_request().decode("latin-1")  # type: ignore[no-any-return]

    # -- opening ----------------------------------------------------------------

    def _follow(self, url: str, parts: URLParts, exc: HandshakeError) -> tuple[str, URLParts]:
        """The next URL when ``exc`` is a redirect to follow; else raise."""
        location = redirect_location(exc.status, exc.headers)
        if location is None or self._opening.max_redirects == 0:
            raise exc
        if self._opening.given_sock is not None or self._opening.unix_socket is not None:
            raise HandshakeError(
                f"redirect to {location!r} not followed: the connection was given "
                "(sock= or unix_socket=)",
                exc.status,
                exc.headers,
                exc.body,
            )
        if len(self._opening.redirects) >= self._opening.max_redirects:
            raise HandshakeError(
                f"too many redirects: {self._opening.max_redirects} followed, the next to {location!r}",
                exc.status,
                exc.headers,
                exc.body,
            )
        target = resolve_redirect(url, location, exc.status)
        new = parse_url(target)
        if (new["host"], new["port"]) != (parts["host"], parts["port"]):
            # Credentials were meant for the first host only.
            self._opening.headers = [(n, v) for n, v in self._opening.headers if n.lower() not in SENSITIVE_HEADERS]
            self._opening.auth = None
            self._opening.server_hostname = None
        if "username" in new:
            self._opening.auth = (new["username"], new["password"])
        self._opening.redirects.append((int(exc.status or 0), target))
        logger.info("redirect %s from %s to %s", exc.status, _shown(url), _shown(target))
        return target, new

    def _timed_out(self, what: str) -> WebSocketTimeout:
        return WebSocketTimeout(f"{what} timed out after {self._opening.timeout} s")

    def _connect(self, parts: URLParts, deadline: float | None) -> socket.socket:
        """The transport to the server, TLS included; closed on failure."""
        host, port = parts["host"], parts["port"]
        where = f"{host}:{port}"
        proxy = self._opening.proxy
        if self._opening.proxy_from_env:
            env = proxy_from_environment(parts["secure"], host, port)
            proxy = None if env is None else parse_proxy_url(env)
        if logger.isEnabledFor(logging.DEBUG):
            through = "" if proxy is None else f" through proxy {proxy.url}"
            logger.debug("connecting to %s%s", where, through)
        sock: socket.socket | None = None
        try:
            if self._opening.given_sock is not None:
                sock = self._opening.given_sock
            elif self._opening.unix_socket is not None:
                where = self._opening.unix_socket
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._apply_options(sock)
                sock.settimeout(_time_left(deadline))
                sock.connect(self._opening.unix_socket)
            elif proxy is None:
                sock = self._tcp(host, port, deadline)
            elif proxy.is_socks:
                where = f"{host}:{port} through {proxy.url}"
                sock = self._tcp(proxy.host, proxy.port, deadline)
                self._tunnel(sock, SocksExchange(proxy, socks_address(proxy, host, port), port), deadline)
            else:
                where = f"{host}:{port} through {proxy.url}"
                sock = self._tcp(proxy.host, proxy.port, deadline)
                if proxy.scheme == "https":
                    context = self._opening.proxy_ssl_context or ssl.create_default_context()
                    self._tls = _TLS(context, proxy.host, sock)
                    self._tls_handshake(sock, deadline)
                request = connect_request(host, port, proxy, self._proxy_headers(proxy))
                self._tunnel(sock, ConnectResponse(proxy, request), deadline)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts["secure"]:
                context = self._opening.ssl_context or ssl.create_default_context()
                name = self._opening.server_hostname or host
                self._tls = _TLS(context, name, sock, under=self._tls)
                self._tls_handshake(sock, deadline)
        except WebSocketTimeout:
            _close(sock)
            raise
        except TimeoutError:
            _close(sock)
            raise self._timed_out(f"connecting to {where}") from None
        except OSError as exc:
            _close(sock)
            if exc.errno is None or isinstance(exc, (WebSocketError, ssl.SSLError)) or exc.filename:
                raise
            # A refused or reset connection names what it was for (same type).
            through = "" if where == f"{host}:{port}" else f" ({where})"
            raise type(exc)(exc.errno, f"{exc.strerror}: {_shown(self.url)}{through}") from exc
        except BaseException:
            _close(sock)
            raise
        return sock

    def _apply_options(self, sock: socket.socket) -> None:
        for level, option, value in self._opening.socket_options:
            try:
                sock.setsockopt(level, option, value)
            except OSError as exc:
                raise OSError(
                    exc.errno, f"socket option ({level}, {option}, {value!r}): {exc.strerror}"
                ) from None

    def _tcp(self, host: str, port: int, deadline: float | None) -> socket.socket:
        """A TCP connection to the first address of ``host`` that answers,
        with ``socket_options`` applied before connecting (a receive buffer
        size must be set before the handshake to count)."""
        error: OSError | None = None
        try:
            addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise WebSocketAddressException(exc.errno, f"{exc.strerror}: {host!r}") from exc
        for family, kind, proto, _name, address in addresses:
            sock = socket.socket(family, kind, proto)
            try:
                self._apply_options(sock)
                sock.settimeout(_time_left(deadline))
                sock.connect(address)
                return sock
            except TimeoutError:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                error = exc
        if error is None:
            raise OSError(f"no address found for {host!r}")
        raise error

    def _proxy_headers(self, proxy: ProxySpec) -> list[tuple[str, str]]:
        """``proxy_headers`` for a CONNECT to ``proxy``: all of them for the
        first proxy used, none of their credentials for another one (a
        redirect from ws:// to wss:// moves from HTTP_PROXY to HTTPS_PROXY)."""
        opening = self._opening
        where = (proxy.scheme, proxy.host, proxy.port)
        if opening.proxy_headers_for is None:
            opening.proxy_headers_for = where
        if where == opening.proxy_headers_for:
            return opening.proxy_headers
        return [(n, v) for n, v in opening.proxy_headers if n.lower() not in SENSITIVE_HEADERS]

    def _tunnel(
        self, sock: socket.socket, exchange: ConnectResponse | SocksExchange, deadline: float | None
    ) -> None:
        """A tunnel through ``exchange.proxy``: the exchange (HTTP CONNECT or
        SOCKS, without I/O, _proxy.py) says what to write and takes what
        arrives, each read bounded by what is left of ``deadline``."""
        while True:
            out = exchange.output()
            if out:
                self._send_blocking(sock, out, deadline)
            try:
                data = self._recv_some(sock, deadline)
            except ConnectionResetError:
                data = b""  # a refusing proxy may reset: report its answer
            if exchange.feed(data):
                break
        if exchange.rest:
            raise ProxyError(
                f"{len(exchange.rest)} bytes arrived through the tunnel before the request",
                exchange.proxy.url,
            )

    def _send_blocking(self, sock: socket.socket, data: bytes, deadline: float | None) -> None:
        """Write during the opening (the socket has a timeout then)."""
        if self._tls is not None:
            data = self._tls.encrypt(data)
        sock.settimeout(_time_left(deadline))
        sock.sendall(data)

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
                    sock.settimeout(_time_left(deadline))
                    sock.sendall(out)
            sock.settimeout(_time_left(deadline))
            tls.feed(sock.recv(_TLS_READ))

    def _handshake(self, deadline: float | None) -> None:
        """RFC 6455 §4.1: send the upgrade request; the protocol decides
        about the answer."""
        proto = self._proto
        sock = self._sock
        logger.debug("opening handshake with %s", _shown(self.url))
        try:
            self._send_blocking(sock, proto.connect_request(), deadline)
            while True:
                data = self._recv_some(sock, deadline)
                if not data:
                    proto.receive_handshake_eof()
                if proto.receive_handshake(data):
                    # Handed to the engine blocking: its reads and writes
                    # keep their deadlines themselves (MSG_DONTWAIT, polls).
                    sock.settimeout(None)
                    return
        except TimeoutError:
            raise WebSocketTimeout(
                f"the opening handshake timed out after {self._opening.timeout} s: {_shown(self.url)}"
            ) from None
        except HandshakeError as exc:
            if exc.status is not None:
                raise  # the server's answer: it names itself
            raise HandshakeError(
                f"{exc} from {_shown(self.url)}{self._tls_hint()}", exc.status, exc.headers, exc.body
            ) from None
        except OSError as exc:
            if exc.errno is None or isinstance(exc, (WebSocketError, ssl.SSLError)):
                raise
            where = f"during the handshake with {_shown(self.url)}{self._tls_hint()}"
            raise type(exc)(exc.errno, f"{exc.strerror} {where}") from exc

    def _tls_hint(self) -> str:
        """For an opening that got no HTTP answer: a ws:// URL answered with
        nothing, a reset or TLS records most likely names a TLS port."""
        start = self._proto.response_start()
        if self.url.startswith("ws://") and (not start or start[:1] in (b"\x15", b"\x16")):
            return " (a TLS port? try wss://)"
        return ""

    def _recv_some(self, sock: socket.socket, deadline: float | None) -> bytes:
        """The next bytes during the opening (b"" at the end), by
        ``deadline``."""
        tls = self._tls
        if tls is None:
            sock.settimeout(_time_left(deadline))
            return sock.recv(4096)
        buf = bytearray(4096)
        while True:
            n = tls.read_into(memoryview(buf))
            if n is not None:
                return bytes(buf[:n])
            # Each read of a TLS record gets what is left, not the whole.
            sock.settimeout(_time_left(deadline))
            tls.feed(sock.recv(_TLS_READ))
