"""AsyncWsClient: the asyncio client's public API, on the same sans-I/O
protocol as the blocking ``WsClient`` (``_protocol.py``) and its own engine
(``_connection.py``)."""

from __future__ import annotations

import asyncio
import ssl as _ssl
import time
from collections.abc import AsyncIterator, Generator, Iterable
from types import TracebackType
from typing import Any

from .._client import _deflate_settings
from .._codec import protocol as _protocol_module
from .._exceptions import ConnectionClosed, WebSocketTimeout
from .._frames import Opcode
from .._handshake import Headers
from .._parser import DEFAULT_MAX_SIZE
from .._sending import _check_compress, _classify, _fragments, _next_piece
from .._url import parse_url
from .._waiting import _check_timeout
from .._writer import control_payload
from ._connection import Connection

__all__ = ["AsyncWsClient", "connect"]

_TEXT, _BINARY = int(Opcode.TEXT), int(Opcode.BINARY)
_PING, _PONG = int(Opcode.PING), int(Opcode.PONG)


class AsyncWsClient:
    """An open WebSocket connection on asyncio (made by :func:`connect`).

    Messages are the same dicts as ``WsClient.receive()``'s, and the same
    exceptions are raised.  One task may receive while any number send.
    """

    def __init__(self, conn: Connection, url: str, close_timeout: float | None) -> None:
        self._conn = conn
        self._proto = conn.proto
        self.url = url
        self.close_timeout = close_timeout
        # Held while a message is sent in pieces: no other message's frames
        # may come between them (control frames may, §5.4).
        self._pieces = asyncio.Lock()

    # -- state -----------------------------------------------------------------

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, or None."""
        return self._proto.subprotocol  # type: ignore[no-any-return]

    @property
    def response_headers(self) -> dict[str, str]:
        """The handshake response's headers (names in lower case)."""
        return self._proto.response_headers  # type: ignore[no-any-return]

    @property
    def latency(self) -> float | None:
        """Seconds between the last ping answered and its pong, or None."""
        return self._proto.latency  # type: ignore[no-any-return]

    def ready_state(self) -> str:
        """"connecting", "open", "closing" or "closed"."""
        return str(self._proto.state.name.lower())

    # -- receiving -------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        """The next message; returns at once when one is already buffered.

        Cancelling it loses no message.  Raises ConnectionClosed once the
        connection is closed (after its close message was returned),
        ProtocolError or MessageTooBig when the server broke the protocol.
        """
        conn = self._conn
        while True:
            messages = conn.messages
            if messages:
                msg = messages.popleft()
                conn.taken()
                return msg  # type: ignore[no-any-return]
            if self._proto.is_closed() or conn.closed.done():
                raise conn.closed_error()
            await conn.wait_message()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        """Text and binary messages until the connection closes; ends on a
        close, raises ConnectionClosed when it failed (as WsClient's)."""
        while True:
            try:
                msg = await self.receive()
            except ConnectionClosed as exc:
                if _protocol_module.closed_quietly(self._proto, exc):
                    return
                raise
            kind = msg["type"]
            if kind == "text" or kind == "binary":
                yield msg
            elif kind == "close":
                return

    # -- sending ---------------------------------------------------------------

    async def send(self, message: Any, compress: bool | None = None) -> None:
        """Send a text (str) or binary (bytes-like) message, or one message
        in pieces from an iterable or async iterable (RFC 6455 §5.4).

        A whole message is handed to the transport as one frame, so a
        cancelled send sent all of it or none; then it waits while the
        transport's buffer is full.  Pieces: a frame per piece as it is
        taken, then an empty final frame; no other message's frames come
        between them.  If the pieces raise, are of the other type, or the
        send is cancelled once a frame is out, the message cannot be
        finished: the connection is failed (close 1011).  ``compress``:
        False sends it uncompressed even when deflate was agreed.
        """
        cls = message.__class__
        if cls is str:
            opcode, payload = _TEXT, message
        elif cls is bytes or cls is bytearray or cls is memoryview:
            opcode, payload = _BINARY, message
        elif _fragments(message) or hasattr(message, "__aiter__"):
            await self._send_pieces(message, compress)
            return
        else:
            opcode, payload = _classify(message, "send()")
        await self._send_whole(opcode, payload, compress)

    async def send_binary(self, data: Any, compress: bool | None = None) -> None:
        """Send ``data`` (any bytes-like object) as a binary message."""
        try:
            payload = memoryview(data)
        except TypeError:
            raise TypeError(f"send_binary() takes a bytes-like object, not {type(data).__name__}") from None
        await self._send_whole(_BINARY, payload, compress)

    async def _send_whole(self, opcode: int, payload: Any, compress: bool | None) -> None:
        if compress is not None:
            _check_compress(compress)
        if self._pieces.locked():  # a message in pieces is being sent
            async with self._pieces:
                self._write_message(opcode, payload, compress)
        else:
            self._write_message(opcode, payload, compress)
        if self._conn.write_paused:  # (no coroutine made when not)
            await self._conn.drain()

    def _write_message(self, opcode: int, payload: Any, compress: bool | None) -> None:
        proto = self._proto
        proto.check_open()
        writer = proto.writer
        self._conn.write(writer.message(opcode, payload, writer.compresses(compress)))

    async def _send_pieces(self, pieces: Any, compress: bool | None) -> None:
        if compress is not None:
            _check_compress(compress)
        items = pieces.__aiter__() if hasattr(pieces, "__aiter__") else _AsyncPieces(iter(pieces))
        async with self._pieces:
            proto = self._proto
            writer = proto.writer
            try:
                first = await items.__anext__()
            except StopAsyncIteration:
                return  # an empty iterable sends nothing
            opcode, piece = _classify(first, "send() (piece 0)")
            proto.check_open()
            writer.begin(opcode, writer.compresses(compress))
            index = 0
            try:
                while True:
                    proto.check_open()  # (the server may have closed meanwhile)
                    self._conn.write(writer.fragment(piece, False))
                    await self._conn.drain()
                    try:
                        item = await items.__anext__()
                    except StopAsyncIteration:
                        break
                    index += 1
                    piece = _next_piece(item, index, opcode)
                proto.check_open()
                self._conn.write(writer.fragment(b"", True))
            except BaseException as exc:
                writer.end_fragments()
                if proto.is_open():
                    # Half a message is on the wire: only a close can follow.
                    proto.fail(1011, f"fragmented send() stopped: {type(exc).__name__}")
                    self._conn.flush_replies()
                raise
        await self._conn.drain()

    async def ping(self, data: str | bytes = b"") -> float:
        """Send a ping and wait for its pong (RFC 6455 §5.5.2); returns the
        round trip in seconds.  Raises ConnectionClosed if the connection
        closes first."""
        payload = control_payload("ping", data)
        proto = self._proto
        proto.check_open()
        pong = asyncio.Event()
        sent = time.monotonic()
        proto.ping_sent(payload, pong, sent)
        try:
            self._conn.write(proto.writer.control(_PING, payload))
            closed = self._conn.closed
            waiting = asyncio.ensure_future(pong.wait())
            try:
                await asyncio.wait((waiting, closed), return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
            if not pong.is_set():
                raise self._conn.closed_error()
        except BaseException:
            proto.ping_cancelled(pong)
            raise
        return time.monotonic() - sent

    async def pong(self, data: str | bytes = b"") -> None:
        """Send an unsolicited pong (a one-way heartbeat, §5.5.3)."""
        payload = control_payload("pong", data)
        self._proto.check_open()
        self._conn.write(self._proto.writer.control(_PONG, payload))
        await self._conn.drain()

    # -- closing (RFC 6455 §7) -------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame, wait for the server's (at most
        ``close_timeout``), then end TCP.  Safe to call more than once."""
        conn = self._conn
        if self._proto.send_close(code, reason):
            conn.flush_replies()
        if not conn.closed.done():
            try:
                await asyncio.wait_for(asyncio.shield(conn.closed), self.close_timeout)
            except asyncio.TimeoutError:
                conn.abort()
            except asyncio.CancelledError:
                conn.abort()
                raise

    async def __aenter__(self) -> AsyncWsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncWsClient {self.url!r} {self.ready_state()}>"


class _AsyncPieces:
    """An iterator's pieces, taken as an async iterator's."""

    def __init__(self, it: Any) -> None:
        self._it = it

    async def __anext__(self) -> Any:
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None


class connect:  # noqa: N801  (a function to its callers, as websockets' connect)
    """Open a connection: ``ws = await connect(url)`` or ``async with
    connect(url) as ws:``.

    Options as ``WsClient``'s: ``headers``, ``origin``, ``subprotocols``,
    ``timeout`` (the opening: TCP, TLS and the upgrade together),
    ``close_timeout``, ``max_size``, ``auto_pong``, ``decode_text``,
    ``compression`` ("deflate" or None) and its parameters
    (``client_max_window_bits``, ``server_max_window_bits``,
    ``client_no_context_takeover``, ``server_no_context_takeover``,
    ``compression_level``, ``memory_level``), ``ssl_context``,
    ``server_hostname``, ``ping_interval`` and ``ping_timeout`` (keepalive:
    after ``ping_interval`` seconds with nothing received a ping is sent,
    and a pong later than ``ping_timeout`` fails the connection with 1011,
    on a loop timer, whether or not a task is receiving).
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Headers | None = None,
        origin: str | None = None,
        subprotocols: Iterable[str] | None = None,
        timeout: float | None = 10.0,
        close_timeout: float | None = 10.0,
        max_size: int | None = DEFAULT_MAX_SIZE,
        auto_pong: bool = True,
        decode_text: bool = True,
        compression: str | None = None,
        client_max_window_bits: int | None = None,
        server_max_window_bits: int | None = None,
        client_no_context_takeover: bool = False,
        server_no_context_takeover: bool = False,
        compression_level: int | None = None,
        memory_level: int | None = None,
        ssl_context: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        ping_interval: float | None = None,
        ping_timeout: float | None = 20.0,
    ) -> None:
        self._url = url
        self._parts = parse_url(url)
        self._timeout = _check_timeout("timeout", timeout)
        self._close_timeout = _check_timeout("close_timeout", close_timeout)
        if ssl_context is not None and not isinstance(ssl_context, _ssl.SSLContext):
            raise TypeError(f"ssl_context must be an ssl.SSLContext, not {type(ssl_context).__name__}")
        if ssl_context is not None and not self._parts["secure"]:
            raise ValueError(f"ssl_context given for a ws:// URL: {url}")
        self._ssl_context = ssl_context
        self._server_hostname = server_hostname
        parts = self._parts
        # The protocol checks the rest before any connection is made.
        self._proto = _protocol_module.ClientProtocol(
            parts["host"],
            parts["port"],
            parts["path"],
            secure=parts["secure"],
            headers=headers,
            subprotocols=subprotocols,
            origin=origin,
            max_size=max_size,
            auto_pong=auto_pong,
            deflate=_deflate_settings(
                compression,
                client_max_window_bits=client_max_window_bits,
                server_max_window_bits=server_max_window_bits,
                client_no_context_takeover=client_no_context_takeover,
                server_no_context_takeover=server_no_context_takeover,
                compression_level=compression_level,
                memory_level=memory_level,
            ),
            decode_text=decode_text,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
        )
        self._client: AsyncWsClient | None = None

    async def _open(self) -> AsyncWsClient:
        loop = asyncio.get_running_loop()
        parts = self._parts
        conn = Connection(self._proto, loop)
        ssl: Any = None
        if parts["secure"]:
            ssl = self._ssl_context or _ssl.create_default_context()
        host = parts["host"].strip("[]")
        try:
            await asyncio.wait_for(self._handshake(loop, conn, host, ssl), self._timeout)
        except asyncio.TimeoutError:
            conn.abort()
            raise WebSocketTimeout(f"the opening handshake timed out after {self._timeout} s: {self._url}") from None
        except BaseException:
            conn.abort()
            raise
        return AsyncWsClient(conn, self._url, self._close_timeout)

    async def _handshake(self, loop: asyncio.AbstractEventLoop, conn: Connection, host: str, ssl: Any) -> None:
        hostname = (self._server_hostname or host) if ssl is not None else None
        await loop.create_connection(lambda: conn, host, self._parts["port"], ssl=ssl, server_hostname=hostname)
        await conn.opened

    def __await__(self) -> Generator[Any, None, AsyncWsClient]:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncWsClient:
        self._client = await self._open()
        return self._client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.close()
