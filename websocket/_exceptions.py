"""The exception hierarchy of :mod:`websocket`.

Everything the package raises on purpose derives from :class:`WebSocketError`::

    WebSocketError
     ├── InvalidURI           (also ValueError)   bad ws:// / wss:// URL
     ├── HandshakeError                            the HTTP upgrade failed
     ├── ProxyError                                the proxy refused or failed the tunnel
     ├── ProtocolError                             the peer broke RFC 6455 (close 1002/1007)
     │    └── WebSocketPayloadException            invalid UTF-8 in a text message (1007)
     ├── IncompleteFrame                           decode_frame() got too few bytes
     ├── MessageTooBig                             a message exceeded max_size (close 1009)
     ├── BufferTooSmall       (also ValueError)    receive_into() got a buffer too small
     ├── ConnectionClosed                          the connection is closed
     ├── WebSocketTimeout     (also TimeoutError)  an operation timed out
     ├── ConcurrencyError     (also RuntimeError)  two threads receiving on one connection
     └── WebSocketAddressException (also socket.gaierror)  the host name did not resolve

websocket-client's names are these classes (bound at the end of this
module, which also answers at websocket-client's import path):
``WebSocketException`` is WebSocketError, ``WebSocketBadStatusException``
HandshakeError, ``WebSocketProxyException`` ProxyError,
``WebSocketProtocolException`` ProtocolError,
``WebSocketConnectionClosedException`` ConnectionClosed and
``WebSocketTimeoutException`` WebSocketTimeout, so that an ``except``
written for either library catches the same failures.

Bad arguments (wrong types, values out of range) raise the plain
``TypeError``/``ValueError`` Python users expect.  Messages are lowercase and
name the offending value.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

#: websocket-client's exception names: six are our classes under its names
#: (bound at the end), two are classes of ours that it names the same.
CLIENT_NAMES = [
    "WebSocketException",
    "WebSocketBadStatusException",
    "WebSocketConnectionClosedException",
    "WebSocketProtocolException",
    "WebSocketProxyException",
    "WebSocketTimeoutException",
    "WebSocketPayloadException",
    "WebSocketAddressException",
]
__all__ = [
    "WebSocketError",
    "InvalidURI",
    "HandshakeError",
    "ProxyError",
    "ProtocolError",
    "IncompleteFrame",
    "MessageTooBig",
    "BufferTooSmall",
    "ConnectionClosed",
    "WebSocketTimeout",
    "ConcurrencyError",
    # websocket-client's names (its websocket._exceptions), bound below.
    *CLIENT_NAMES,
]


class WebSocketError(Exception):
    """Base class of every exception raised by :mod:`websocket`."""


class InvalidURI(WebSocketError, ValueError):
    """A URL that is not a usable ``ws://`` or ``wss://`` URL (or proxy URL).

    Attributes:
        uri: the offending URL.
        msg: what is wrong with it.
        what: which kind of URL was expected ("websocket URI", "proxy URL").
    """

    def __init__(self, uri: object, msg: str, what: str = "websocket URI") -> None:
        self.uri = uri
        self.msg = msg
        self.what = what
        super().__init__(uri, msg)

    def __str__(self) -> str:
        return f"{self.uri!r} is not a valid {self.what}: {self.msg}"


class HandshakeError(WebSocketError):
    """The server did not accept the opening handshake (RFC 6455 §4.1).

    Attributes:
        msg: what was wrong.
        status: the HTTP status code, or None when no status line was read.
        headers: the response headers (lowercase names), possibly empty.
        body: the first bytes of the response body, possibly empty.

    ``status_code``, ``resp_headers`` and ``resp_body`` are the same
    values under websocket-client's names (``WebSocketBadStatusException``).
    """

    @property
    def status_code(self) -> int | None:
        return self.status

    @property
    def resp_headers(self) -> dict[str, str]:
        return self.headers

    @property
    def resp_body(self) -> bytes:
        return self.body

    def __init__(
        self,
        msg: str,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        self.msg = msg
        self.status = status
        self.headers = dict(headers or {})
        self.body = body
        super().__init__(msg, status)

    def __str__(self) -> str:
        if self.status is None:
            return self.msg
        return f"{self.msg} (HTTP {self.status})"


class ProxyError(WebSocketError):
    """The proxy did not open a tunnel to the server.

    An HTTP proxy answered CONNECT with a status other than 2xx, or a SOCKS
    proxy refused (or botched) the request.  Connection failures on the way
    to the proxy itself stay :class:`OSError` exceptions.

    Attributes:
        msg: what went wrong.
        proxy: the proxy's URL, without its password.
        status: the HTTP status of the CONNECT answer (e.g. 403, 407), or
            None for SOCKS and for answers that were not HTTP.
        headers: the answer's headers (lowercase names), possibly empty.
        body: the first bytes of the answer's body, possibly empty.
    """

    def __init__(
        self,
        msg: str,
        proxy: str = "",
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> None:
        self.msg = msg
        self.proxy = proxy
        self.status = status
        self.headers = dict(headers or {})
        self.body = body
        super().__init__(msg, proxy, status)

    def __str__(self) -> str:
        text = f"proxy {self.proxy}: {self.msg}" if self.proxy else self.msg
        if self.status is not None:
            text += f" (HTTP {self.status})"
        if self.body:
            text += f": {self.body[:80]!r}"
        return text


class ProtocolError(WebSocketError):
    """The peer violated RFC 6455 (or RFC 7692).

    Attributes:
        msg: what was wrong, naming the value.
        code: the close code this error causes (1002 protocol error,
            1007 invalid payload data, 1009 message too big, ...).
    """

    default_code = 1002

    def __init__(self, msg: str, code: int | None = None) -> None:
        self.msg = msg
        self.code = self.default_code if code is None else code
        super().__init__(msg, self.code)

    def __str__(self) -> str:
        return self.msg


class WebSocketPayloadException(ProtocolError):
    """A text message that is not valid UTF-8 (RFC 6455 §8.1: close 1007).

    Named as websocket-client names it; a :class:`ProtocolError`.
    """

    default_code = 1007


class IncompleteFrame(WebSocketError):
    """``decode_frame()`` was given fewer bytes than the frame needs.

    Attributes:
        needed: the total number of bytes the frame needs, when the header
            says so, else the bytes needed to finish reading the header.
        available: how many bytes were given.
    """

    def __init__(self, needed: int, available: int) -> None:
        self.needed = needed
        self.available = available
        super().__init__(needed, available)

    def __str__(self) -> str:
        return f"incomplete frame: need {self.needed} bytes, got {self.available}"


class MessageTooBig(WebSocketError):
    """A message exceeded ``max_size`` (close code 1009, RFC 6455 §7.4.1).

    Attributes:
        size: the size reached or announced, in bytes (for a fragmented
            message, its payload plus what its fragments are charged).
        max_size: the limit; None when there was none but the announced
            size could not be allocated.
        detail: how ``size`` was counted, when not simply the payload.
        code: 1009, the close code it causes.

    Not a :class:`ProtocolError`: the peer broke no rule, the message is
    only larger than this client accepts.
    """

    code = 1009

    def __init__(self, size: int, max_size: int | None, detail: str = "") -> None:
        self.size = size
        self.max_size = max_size
        self.detail = detail
        super().__init__(size, max_size)

    def __str__(self) -> str:
        if self.max_size is None:
            return f"message of {self.size} bytes cannot be allocated"
        text = f"message of {self.size} bytes exceeds max_size {self.max_size}"
        return f"{text} ({self.detail})" if self.detail else text


class BufferTooSmall(WebSocketError, ValueError):
    """``receive_into()``'s buffer cannot hold the message.

    Nothing is lost when the message came in one frame: it is left unread,
    for a larger buffer or ``receive()``.  A fragmented message's size shows
    only as it arrives: when it outgrows the buffer, its first bytes are in
    the buffer and the rest is discarded (``discarded`` is True).  The
    connection stays open either way.

    Attributes:
        size: the message's size (one frame), or the bytes it had reached.
        buffer_size: the buffer's size in bytes.
        discarded: the message was dropped (it was fragmented).
    """

    def __init__(self, size: int, buffer_size: int, discarded: bool) -> None:
        self.size = size
        self.buffer_size = buffer_size
        self.discarded = discarded
        super().__init__(size, buffer_size, discarded)

    def __str__(self) -> str:
        if self.discarded:
            return (
                f"fragmented message reached {self.size} bytes, more than the buffer's "
                f"{self.buffer_size}: its first {self.buffer_size} bytes are in the buffer "
                "and the rest was discarded"
            )
        return (
            f"message of {self.size} bytes does not fit the buffer's {self.buffer_size}; "
            "it is left unread"
        )


class ConnectionClosed(WebSocketError):
    """The connection is closed; raised by every call after the close.

    Attributes:
        code: the close code received (1005 when the peer sent none, 1006
            when the TCP connection dropped without a close frame).
        reason: the close reason received.
        sent_code: the close code we sent, or None.
    """

    def __init__(
        self, code: int = 1006, reason: str = "", sent_code: int | None = None
    ) -> None:
        self.code = code
        self.reason = reason
        self.sent_code = sent_code
        super().__init__(code, reason)

    def __str__(self) -> str:
        if self.code == 1006:
            return "connection closed abnormally (1006): no close frame received"
        text = f"connection closed with code {self.code}"
        if self.reason:
            text += f" and reason {self.reason!r}"
        return text


class WebSocketTimeout(WebSocketError, TimeoutError):
    """An operation did not finish in the time allowed.

    Attributes:
        msg: which operation, and the timeout in seconds.
    """

    def __init__(self, msg: str) -> None:
        self.msg = msg
        super().__init__(msg)

    def __str__(self) -> str:
        return self.msg


class ConcurrencyError(WebSocketError, RuntimeError):
    """A receive call while another thread is receiving on the same
    connection.

    Which thread would get the next message is a race, and a message split
    between two readers is lost to both, so the second call is refused at
    once and changes nothing: the first goes on undisturbed.  Sending from
    several threads is allowed (each ``send()`` writes whole frames); so is
    ``close()`` from any thread, which waits for a receiving thread instead
    of raising this.  websockets raises its ``ConcurrencyError`` in the
    same case.
    """


class WebSocketAddressException(WebSocketError, socket.gaierror):
    """The server's (or proxy's) host name did not resolve.

    Also a ``socket.gaierror`` (an ``OSError``), so ``except OSError``
    catches it as before; websocket-client's name for it.
    """


# websocket-client's names for the same classes: code that imports them from
# ``websocket._exceptions`` (its module) finds them here.
WebSocketException = WebSocketError
WebSocketBadStatusException = HandshakeError
WebSocketConnectionClosedException = ConnectionClosed
WebSocketProtocolException = ProtocolError
WebSocketProxyException = ProxyError
WebSocketTimeoutException = WebSocketTimeout
