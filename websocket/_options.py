"""The options ``WsClient`` takes besides ``url`` and ``decode_text``, as a
``TypedDict`` for type checkers: ``connect()`` and ``reconnecting()`` pass
them on as ``**options``, and ``WsClient``'s overloads, which read the
type of text messages off ``decode_text``, take them the same way (PEP
692).  ``WsClient.__init__`` documents each one; tests/test_typing.py checks
that the two lists agree.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Literal, TypedDict

from ._handshake import Headers

__all__ = ["ClientOptions"]


class ClientOptions(TypedDict, total=False):
    headers: Headers | None
    origin: str | None
    subprotocols: Sequence[str] | None
    timeout: float | None
    close_timeout: float | None
    max_size: int | None
    auto_pong: bool
    ssl_context: ssl.SSLContext | None
    compression: Literal["deflate"] | None
    client_max_window_bits: int | None
    server_max_window_bits: int | None
    client_no_context_takeover: bool
    server_no_context_takeover: bool
    compression_level: int | None
    memory_level: int | None
    proxy: str | bool | None
    proxy_headers: Headers | None
    proxy_ssl_context: ssl.SSLContext | None
    max_redirects: int
    ping_interval: float | None
    ping_timeout: float | None
    send_timeout: float | None
    unix_socket: str | os.PathLike[str] | None
    sock: socket.socket | None
    socket_options: Iterable[tuple[int, int, int | bytes]] | None
    server_hostname: str | None
