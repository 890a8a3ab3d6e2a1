"""websocket-client's ``websocket._socket`` on this package: its socket
options, default timeout and plain-socket helpers.

``recv``, ``recv_line`` and ``send`` work on any connected socket and raise
this package's exceptions (under websocket-client's names): a timeout is a
WebSocketTimeoutException, an ended or missing socket a
WebSocketConnectionClosedException.
"""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Mapping
from typing import Any

from ._compat import getdefaulttimeout, setdefaulttimeout
from ._exceptions import WebSocketConnectionClosedException, WebSocketTimeoutException

__all__ = [
    "DEFAULT_SOCKET_OPTION",
    "sock_opt",
    "setdefaulttimeout",
    "getdefaulttimeout",
    "recv",
    "recv_line",
    "send",
]

#: The options websocket-client sets on every socket: no Nagle delay, and
#: TCP keepalive probes (after 30 s idle, every 10 s, 3 of them) where the
#: platform has them.  WsClient sets TCP_NODELAY itself; pass these as
#: ``sockopt=`` (or ``socket_options=``) for the probes too.
DEFAULT_SOCKET_OPTION: list[tuple[int, int, int]] = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
if hasattr(socket, "SO_KEEPALIVE"):
    DEFAULT_SOCKET_OPTION.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
if hasattr(socket, "TCP_KEEPIDLE"):
    DEFAULT_SOCKET_OPTION.append((socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 30))
if hasattr(socket, "TCP_KEEPINTVL"):
    DEFAULT_SOCKET_OPTION.append((socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 10))
if hasattr(socket, "TCP_KEEPCNT") and sys.platform != "win32":
    DEFAULT_SOCKET_OPTION.append((socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3))


class sock_opt:  # noqa: N801 - websocket-client's name
    """A connection's socket and TLS options, as websocket-client keeps them."""

    def __init__(self, sockopt: Any, sslopt: Mapping[str, Any] | None) -> None:
        self.sockopt = [] if sockopt is None else sockopt
        self.sslopt = {} if sslopt is None else dict(sslopt)
        self.timeout: float | None = None


def recv(sock: socket.socket | None, bufsize: int) -> bytes:
    """Up to ``bufsize`` bytes from ``sock``; never empty.

    Raises:
        WebSocketConnectionClosedException: no socket, or the peer closed it.
        WebSocketTimeoutException: the socket's timeout ran out.
    """
    if not sock:
        raise WebSocketConnectionClosedException(1006, "socket is already closed")
    try:
        data = sock.recv(bufsize)
    except (TimeoutError, ssl.SSLWantReadError) as exc:
        raise WebSocketTimeoutException(f"recv timed out: {exc}") from exc
    if not data:
        raise WebSocketConnectionClosedException(1006, "connection is already closed")
    return data


def recv_line(sock: socket.socket | None) -> bytes:
    """Bytes up to and including the next LF (read one at a time, so that
    nothing after the line is taken from the socket)."""
    line = bytearray()
    while not line.endswith(b"\n"):
        line += recv(sock, 1)
    return bytes(line)


def send(sock: socket.socket | None, data: str | bytes) -> int:
    """Send ``data`` (a str as UTF-8) with one ``sock.send``; the number of
    bytes it took.

    Raises:
        WebSocketConnectionClosedException: no socket.
        WebSocketTimeoutException: the socket's timeout ran out.
    """
    if not sock:
        raise WebSocketConnectionClosedException(1006, "socket is already closed")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        return sock.send(payload)
    except (TimeoutError, ssl.SSLWantWriteError) as exc:
        raise WebSocketTimeoutException(f"send timed out: {exc}") from exc
