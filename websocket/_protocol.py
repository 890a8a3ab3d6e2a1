"""The protocol: every state and decision of a client connection (RFC 6455).

A room of the sans-I/O core, written once in Python and compiled by Cython
from this same file through ``_protocol.pxd`` (with
``WEBSOCKET_NO_EXTENSIONS=1``, or on another interpreter, it runs as it is).

- :class:`ClientProtocol` owns the connection's :class:`State`: the opening
  handshake's request and every check of the response (§4.1), pings and
  pongs, the closing handshake (§7) and when TCP should end.  Received
  bytes go to its :class:`~websocket._parser.FrameParser`; permessage-deflate
  (RFC 7692) is ``_compression.py``'s, negotiated by ``_deflate.py``.
- :func:`encode_frame`, the stateless helper (``_parser.decode_frame`` is
  its reverse).
"""

from __future__ import annotations

import secrets
from collections import deque
from contextlib import AbstractContextManager, nullcontext
from typing import Any

try:
    import cython
except ImportError:  # a Cython-less install runs this file as plain Python
    from . import _cython_shim as cython

from ._compression import Deflater, Inflater
from ._deflate import Agreement, DeflateSettings
from ._exceptions import (
    ConnectionClosed,
    HandshakeError,
    MessageTooBig,
    ProtocolError,
)
from ._frames import CloseCode, State, as_buffer, encode_close_frame, parse_close_frame
from ._handshake import (
    Headers,
    build_handshake_request,
    check_response,
    generate_key,
    parse_response_head,
)
from ._limits import CONTROL_MAX
from ._parser import DEFAULT_MAX_SIZE, FrameParser, Message
from ._reader import _reserved

# The primitives' twins; the compiled build cimports the C ones under the
# same names instead (_protocol.pxd), which take precedence there.
from ._speedups_py import *  # noqa: F403
from ._writer import FrameWriter

#: Pings awaiting their pong that a connection remembers (the oldest are
#: forgotten past it).
MAX_PINGS = 256

#: True in the Cython build of this file.
COMPILED = bool(cython.compiled)

__all__ = [
    "COMPILED",
    "ClientProtocol",
    "MAX_PINGS",
    "encode_frame",
]

#: The response head (status line and headers) may not exceed this.
MAX_RESPONSE_HEAD = 64 * 1024
#: How much of a refused handshake's body HandshakeError keeps.
BODY_HEAD = 1024

_CONNECTING, _OPEN, _CLOSING, _CLOSED = State.CONNECTING, State.OPEN, State.CLOSING, State.CLOSED
#: The mutex of a protocol that one thread owns.
_NO_MUTEX: AbstractContextManager[None] = nullcontext()
_CLOSE, _PING, _PONG = 8, 9, 10


def _check_opcode(opcode: object) -> int:
    if not isinstance(opcode, int) or isinstance(opcode, bool):
        raise TypeError(f"opcode must be an int, not {type(opcode).__name__}")
    if not 0 <= opcode <= 0xF:
        raise ValueError(f"invalid opcode {opcode}: must be 0-15")
    if _reserved(opcode):
        raise ValueError(f"reserved opcode 0x{opcode:x}")
    return opcode


def encode_frame(
    opcode: int,
    payload: object,
    masked: bool = True,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask_key: object = None,
) -> bytes:
    """Encode one frame (RFC 6455 §5.2).

    Args:
        opcode: 0-2 or 8-10 (reserved opcodes raise ValueError).
        payload: str (sent as UTF-8) or any bytes-like object.
        masked: mask the payload, as a client must (RFC 6455 §5.3).
        fin, rsv1, rsv2, rsv3: the header bits.
        mask_key: 4 bytes; a fresh key from the OS CSPRNG when None.

    Raises:
        TypeError: a payload that is neither str nor bytes-like.
        ValueError: a reserved opcode, a fragmented control frame or one
            over 125 bytes, a mask key not 4 bytes long or given with
            ``masked=False``.
    """
    op = _check_opcode(opcode)
    data = as_buffer(payload.encode("utf-8") if isinstance(payload, str) else payload, "payload")
    n = len(data)
    if op >= 8:
        if n > CONTROL_MAX:
            raise ValueError(f"control frame payload of {n} bytes exceeds {CONTROL_MAX}")
        if not fin:
            raise ValueError(f"control frame 0x{op:x} must not be fragmented")
    b0 = op | (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0)
    b0 |= 0x10 if rsv3 else 0
    header = frame_header(b0, n, bool(masked))
    if not masked:
        if mask_key is not None:
            raise ValueError("mask_key given with masked=False")
        return header + data
    if mask_key is None:
        key = secrets.token_bytes(4)
    else:
        key = bytes(as_buffer(mask_key, "mask key"))
        if len(key) != 4:
            raise ValueError(f"mask key must be 4 bytes, got {len(key)}")
    return header + key + mask(data, key)


# -- the connection -----------------------------------------------------------


def _check_options(ping_interval: object, ping_timeout: object, deflate: object, decode_text: object) -> None:
    for name, value in (("ping_interval", ping_interval), ("ping_timeout", ping_timeout)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
        ):
            raise ValueError(f"{name} must be a number of seconds > 0 or None, got {value!r}")
    if deflate is not None and not isinstance(deflate, DeflateSettings):
        raise TypeError(f"deflate must be DeflateSettings or None, not {type(deflate).__name__}")
    if not isinstance(decode_text, bool):
        raise TypeError(f"decode_text must be a bool, not {type(decode_text).__name__}")


def _codecs(settings: DeflateSettings, agreement: Agreement) -> tuple[Inflater, Deflater | None]:
    """The inflater and the deflater an RFC 7692 agreement settles; no
    deflater (messages sent uncompressed) when the client window is one
    zlib cannot use (8 bits: zlib takes 9-15)."""
    inflater = Inflater(agreement.server_max_window_bits, agreement.server_no_context_takeover)
    if agreement.client_max_window_bits < 9:
        return inflater, None
    deflater = Deflater(
        settings.compression_level,
        agreement.client_max_window_bits,
        settings.memory_level,
        agreement.client_no_context_takeover,
    )
    return inflater, deflater


def closed_quietly(proto: ClientProtocol, exc: ConnectionClosed) -> bool:
    """Whether iterating over a connection ends quietly at ``exc`` (both
    faces' ``for``/``async for``): after the server's close, or ours from
    ``close()``.  A connection that failed (TCP dropped, a keepalive
    timeout, a protocol error) raises instead, so the caller reconnects."""
    return bool(proto.close_received) or (exc.sent_code is not None and proto.failed_with is None)


def _body_wanted(headers: dict[str, str]) -> int:
    """How much of a refusal's body to wait for (its Content-Length, up to
    BODY_HEAD)."""
    try:
        return min(int(headers.get("content-length", "0")), BODY_HEAD)
    except ValueError:
        return 0


class ClientProtocol:
    """Every state and decision of one client connection (RFC 6455), sans I/O.

    The engine sends :meth:`connect_request`, feeds the response to
    :meth:`receive_handshake` until it returns True, then receives into
    :attr:`parser`'s buffer and calls :meth:`next_message` (or
    ``parser.next_message``, which calls back here for control frames and
    failures); it writes what :meth:`data_to_send` returns and ends TCP
    when :attr:`state` is CLOSED.

    Threads: no lock of its own.  Its closing transitions (a close sent or
    received, a failure, the replies they queue) and its record of pings
    run inside ``mutex``, which its owner gives: the blocking client a
    lock, so a receiving and a closing thread never both send a close
    frame; one thread (an event loop) none.  The rest belongs to the
    receiving thread or the send lock.  (websockets' sync connection holds
    a mutex around every protocol call; a message's receive takes none.)

    Args:
        host, port, path, secure: where to connect (see ``parse_url``).
        headers, subprotocols, origin: the opening handshake's options,
            checked here (before any connection is made).
        max_size: largest message accepted, in bytes (None: no limit); with
            compression, the decompressed size.
        auto_pong: answer pings with pongs (RFC 6455 §5.5.2).
        deflate: offer permessage-deflate with these settings (RFC 7692);
            None offers no extension.
        decode_text: text messages as str (True) or as their UTF-8 bytes,
            still checked (False: for parsers that take bytes).
        mutex: a context manager (a lock) that serialises the transitions
            above between threads; None when one thread owns the protocol.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 80,
        path: str = "/",
        *,
        secure: bool = False,
        headers: Headers | None = None,
        subprotocols: Any = None,
        origin: str | None = None,
        max_size: int | None = DEFAULT_MAX_SIZE,
        auto_pong: bool = True,
        deflate: DeflateSettings | None = None,
        decode_text: bool = True,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
        mutex: AbstractContextManager[Any] | None = None,
    ) -> None:
        _check_options(ping_interval, ping_timeout, deflate, decode_text)
        self.parser = FrameParser(max_size, decode_text=decode_text)
        self.parser.on_control = self._control
        self.parser.on_error = self._parse_failed
        #: Makes every frame this side writes (_writer.py); its encoder
        #: is also the engine's fast path's (``encoder``).
        self.writer = FrameWriter(new_encoder(True))
        self.encoder = self.writer.encoder
        self.auto_pong = bool(auto_pong)
        self._key = generate_key()
        default_port = 443 if secure else 80
        request = build_handshake_request(
            host,
            path,
            self._key,
            port=None if port == default_port else port,
            headers=headers,
            subprotocols=subprotocols,
            origin=origin,
            extensions=None if deflate is None else deflate.offer(),
        )
        self._request = request.encode("ascii")
        self._deflate_settings = deflate
        #: The permessage-deflate parameters the handshake settled, or None.
        self.agreement: Agreement | None = None
        self._offered = list(subprotocols) if subprotocols else []
        self._head = bytearray()
        self._response: tuple[int, dict[str, str], int, str] | None = None
        #: The connection's State: CONNECTING, OPEN, CLOSING (we sent a
        #: close frame and wait for the peer's) or CLOSED.  Only this class
        #: changes it; the shell reads it (an identity check on the hot path).
        self.state = _CONNECTING
        self.subprotocol: str | None = None
        self.response_status: int | None = None
        self.response_headers: dict[str, str] = {}
        self.close_sent: tuple[int, str] | None = None
        self.close_received: tuple[int, str] | None = None
        self.failure: BaseException | None = None
        #: The close this side failed the connection with (fail()), if any.
        self.failed_with: tuple[int, str] | None = None
        #: The peer stopped answering (a keepalive ping went unanswered): the
        #: shell then waits for nothing more from it.
        self.unresponsive = False
        #: ``(opcode, payload)`` replies waiting to be written (see
        #: data_to_send); the shell may test its truth, never change it.
        self.pending: deque[tuple[int, bytes]] = deque()
        # The owner's mutex (see Threads above).
        self._mutex = _NO_MUTEX if mutex is None else mutex
        #: Pings awaiting their pong, oldest first: [payload, sent at
        #: (ping_sent's ``now``), waiter or None].
        self.pings: list[list[Any]] = []
        # Seconds between the last ping answered and its pong, or None
        # (read through the latency property).
        self._latency: float | None = None
        self.ping_interval = None if ping_interval is None else float(ping_interval)
        self.ping_timeout = None if ping_timeout is None else float(ping_timeout)
        self._last_received = -1.0  # set by data_received() (monotonic: >= 0)
        self._keepalive_ping: list[Any] | None = None

    # -- state ---------------------------------------------------------------

    def is_open(self) -> bool:
        """True while messages may be sent."""
        return self.state is _OPEN

    def is_closed(self) -> bool:
        """True once the state is CLOSED."""
        return self.state is _CLOSED

    # -- the opening handshake (RFC 6455 §4.1) ------------------------------

    def connect_request(self) -> bytes:
        """The upgrade request to send first."""
        return self._request

    def response_start(self) -> bytes:
        """The first bytes of the server's answer so far (for messages)."""
        return bytes(self._head[:16])

    def receive_handshake(self, data: bytes) -> bool:
        """Take bytes of the server's response; True once the connection is
        open (bytes after the response go to the parser).

        A refusal waits for the first bytes of its body (up to
        Content-Length, at most 1 KiB) to put them in the error.

        Raises:
            HandshakeError: the response refuses or botches the upgrade
                (the state is then CLOSED).
        """
        if self.state is not _CONNECTING:
            raise RuntimeError(f"receive_handshake() in state {self.state.name}")
        self._head += data
        if self._response is None:
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > MAX_RESPONSE_HEAD:
                    self._handshake_failed(
                        HandshakeError(f"response head exceeds {MAX_RESPONSE_HEAD} bytes without ending")
                    )
                return False
            try:
                status, _reason, headers, version = parse_response_head(bytes(self._head[:end]))
            except HandshakeError as exc:
                self._handshake_failed(exc)
            self.response_status, self.response_headers = status, headers
            self._response = (status, headers, end + 4, version)
        status, headers, body_at, _ = self._response
        if status != 101 and len(self._head) - body_at < _body_wanted(headers):
            return False
        return self._decide()

    def receive_handshake_eof(self) -> None:
        """The server closed TCP before the handshake completed.

        Raises:
            HandshakeError: always; a refusal whose body was cut short is
                reported as the refusal.
        """
        if self._response is not None:
            self._decide()
        head = bytes(self._head[:80])
        self._handshake_failed(
            HandshakeError(
                f"connection closed during the handshake after {len(self._head)} bytes"
                + (f": {head!r}" if head else "")
            )
        )

    def _decide(self) -> bool:
        assert self._response is not None
        status, headers, body_at, version = self._response
        rest = bytes(self._head[body_at:])
        try:
            self.subprotocol, agreement = check_response(
                status,
                headers,
                self._key,
                version=version,
                subprotocols=self._offered,
                deflate=self._deflate_settings,
            )
        except HandshakeError as exc:
            exc.body = rest[:BODY_HEAD]
            self._handshake_failed(exc)
        if agreement is not None:
            self.agreement = agreement
            assert self._deflate_settings is not None
            inflater, self.writer.deflater = _codecs(self._deflate_settings, agreement)
            self.parser.set_inflater(inflater)
        self._head = bytearray()
        self.state = _OPEN
        if rest:  # frames the server sent right after its response
            self.parser.feed(rest)
        return True

    def _handshake_failed(self, exc: HandshakeError) -> Any:
        self.state = _CLOSED
        self.failure = exc
        raise exc

    # -- receiving -----------------------------------------------------------

    def receive_data(self, data: object) -> None:
        """Copy received bytes in (for callers not using the parser's buffer)."""
        self.parser.feed(data)

    def receive_eof(self) -> None:
        """The TCP connection ended, or failed: the connection is CLOSED."""
        with self._mutex:
            self.state = _CLOSED
            self.pending.clear()

    def next_message(self) -> Message | None:
        """The next message, or None until more bytes arrive.

        Returns:
            ``{"type": "text"|"binary"|"ping"|"pong", "data": ...}`` or
            ``{"type": "close", "code", "reason", "data"}``.  Pings are
            answered (when ``auto_pong``) and a close frame is answered with
            the same code: the replies wait in :meth:`data_to_send`.

        Raises:
            ProtocolError, MessageTooBig: the peer broke a rule or sent too
                much; the connection is failed with the matching code
                (1002, 1007, 1009), whose close frame waits in
                :meth:`data_to_send`.
        """
        return self.parser.next_message()

    def _parse_failed(self, exc: ProtocolError | MessageTooBig) -> None:
        """The parser's on_error hook: fail with the error's close code."""
        self.fail(exc.code, str(exc), exc)

    def _control(self, opcode: int, msg: Message) -> bool:
        """The parser's on_control hook: answer pings, match pongs, take a
        close.  True consumes the frame: the pong of a keepalive ping is
        not returned to the caller, who never sent that ping."""
        if opcode == _PING:
            if self.auto_pong:
                with self._mutex:
                    if self.state is _OPEN:
                        self._queue_pong(msg["data"])
        elif opcode == _PONG:
            if self.pings:
                # When the bytes that brought it were read (data_received).
                return self._pong_received(msg["data"], self._last_received)
        elif opcode == _CLOSE:
            self._close_received(msg)
        return False

    # -- pings and keepalive (RFC 6455 §5.5.2, §5.5.3) -----------------------

    def _queue_pong(self, payload: bytes) -> None:
        """Queue the answer to a ping; the caller holds ``_mutex``.

        RFC 6455 §5.5.3: an endpoint that has not yet answered earlier pings
        "MAY elect to send a Pong frame for only the most recently processed
        Ping frame".  So one pong waits at most: a server that floods pings
        while the replies cannot be written (a sender holds the connection,
        or the server reads nothing) costs one pong, not one per ping.
        """
        pending = self.pending
        for i in range(len(pending)):
            if pending[i][0] == _PONG:
                del pending[i]
                break
        pending.append((_PONG, payload))

    def ping_sent(self, payload: bytes, waiter: Any, now: float) -> None:
        """Record a ping the shell is writing at ``now``, to match its pong.

        ``waiter`` (anything with ``set()``, e.g. a ``threading.Event``), if
        not None, is set when the pong arrives.  While pings wait for their
        pong, the engine reports every read (:meth:`data_received`): the
        latency is from ``now`` to the read that brought the pong.
        """
        entry = [payload, now, waiter]
        with self._mutex:
            pings = self.pings
            if len(pings) >= MAX_PINGS:
                # A server that answers no ping must not make this grow
                # without end: the oldest is forgotten (its waiter never set).
                drop = len(pings) - MAX_PINGS + 1
                if any(e is self._keepalive_ping for e in pings[:drop]):
                    self._keepalive_ping = None
                del pings[:drop]
            pings.append(entry)

    def ping_cancelled(self, waiter: Any) -> None:
        """The ping recorded with ``waiter`` was not sent after all."""
        with self._mutex:
            # In place: _control() tests the list's truth without the mutex,
            # so the list object itself is never replaced.
            self.pings[:] = [e for e in self.pings if e[2] is not waiter]

    def _pong_received(self, payload: bytes, now: float) -> bool:
        """§5.5.3: "A Pong frame sent in response to a Ping frame must have
        identical Application data"; a pong may answer only the latest of
        several pings, so it acknowledges every ping sent before the one it
        matches.  An unsolicited pong matches nothing and is ignored.
        True if it answers the keepalive ping (the frame is then consumed)."""
        with self._mutex:
            pings = self.pings
            index = next((i for i, e in enumerate(pings) if e[0] == payload), -1)
            if index < 0:
                return False
            entry = pings[index]
            done = pings[: index + 1]
            del pings[: index + 1]
            self._latency = now - entry[1]
            mine = entry is self._keepalive_ping
            if self._keepalive_ping is not None and any(e is self._keepalive_ping for e in done):
                self._keepalive_ping = None
        for entry in done:
            if entry[2] is not None:
                entry[2].set()
        return mine

    @property
    def latency(self) -> float | None:
        """Seconds between the last ping answered and its pong, or None;
        under the mutex (free-threaded Python: the receiving thread
        replaces the float object)."""
        with self._mutex:
            return self._latency

    def data_received(self, now: float) -> None:
        """Bytes arrived at ``now``: the connection is not silent, and a
        pong among them came then.  The engine reports each read while
        keepalive is on or :attr:`pings` is not empty."""
        self._last_received = now

    def _read_wait(self, now: float) -> float:
        """How long receive_ready's read may wait for bytes with keepalive
        on: until the next keepalive decision, which is the full
        receive's (:meth:`keepalive`); 0.0 when that is now, or while a
        keepalive ping waits for its pong."""
        interval = self.ping_interval
        if interval is None or self._keepalive_ping is not None or self._last_received < 0.0:
            return 0.0
        due: float = self._last_received + interval - now
        return due if due > 0.0 else 0.0

    def keepalive(self, now: float) -> float | None:
        """The keepalive decision at ``now`` (only while a receive waits).

        After ``ping_interval`` seconds with nothing received, a ping is
        queued (see :meth:`data_to_send`); when its pong has not come
        ``ping_timeout`` seconds after it was queued, the connection fails
        with 1011 (the state is then CLOSED and the close frame queued).

        Returns:
            Seconds until this must be called again (the longest the shell
            may wait for bytes), or None: no keepalive.
        """
        interval = self.ping_interval
        if interval is None or self.state is not _OPEN:
            return None
        with self._mutex:  # ping_sent() may drop it from another thread
            outstanding = self._keepalive_ping
        if outstanding is not None:
            timeout = self.ping_timeout
            if timeout is None:
                return None  # no limit on the pong: wait for bytes only
            late: float = outstanding[1] + timeout - now
            if late > 0:
                return late
            self.unresponsive = True
            self.fail(
                int(CloseCode.INTERNAL_ERROR),
                f"keepalive ping timeout: no pong within {timeout:g} s",
                None,
            )
            return 0.0
        if self._last_received < 0.0:
            self._last_received = now  # the first call starts the clock
        due = self._last_received + interval - now
        if due > 0:
            return due
        payload = secrets.token_bytes(4)
        entry = [payload, now, None]
        with self._mutex:
            if self.state is not _OPEN:
                return None
            self.pings.append(entry)
            self._keepalive_ping = entry
            self.pending.append((_PING, payload))
        return self.ping_timeout

    def _close_received(self, msg: Message) -> None:
        payload = msg["data"]
        info = parse_close_frame(payload)  # a ProtocolError fails it (on_error)
        code, reason = info["code"], info["reason"]
        msg["code"] = code
        msg["reason"] = reason
        with self._mutex:
            if self.close_received is not None:
                return  # a second close frame (§5.5.1: none may follow the first)
            self.close_received = (code, reason)
            if self.close_sent is None and self.state is _OPEN:
                # RFC 6455 §5.5.1: reply with a close frame, "typically
                # echoing the status code it received"; none when none was.
                reply = b"" if code == CloseCode.NO_STATUS_RCVD else payload[:2]
                self._queue_close(code, "", reply)
            self.state = _CLOSED

    # -- sending -------------------------------------------------------------

    def closed_exception(self) -> ConnectionClosed:
        """The ConnectionClosed that calls on a closed connection raise.

        It carries the close received; when we failed the connection and
        none came back, the close we sent (1002, 1007, 1009 ... with its
        reason); 1006 when TCP ended without either.
        """
        sent = self.close_sent[0] if self.close_sent else None
        if self.close_received is not None:
            code, reason = self.close_received
        elif self.failed_with is not None:
            code, reason = self.failed_with
        else:
            code, reason = int(CloseCode.ABNORMAL_CLOSURE), ""
        return ConnectionClosed(code, reason, sent)

    def check_open(self) -> None:
        """Raise ConnectionClosed unless messages may be sent."""
        if self.state is not _OPEN:
            raise self.closed_exception()

    def send_close(self, code: int = 1000, reason: str = "") -> bool:
        """Start the closing handshake (RFC 6455 §7.1.2); once only.

        Returns True if a close frame was queued (the state is then
        CLOSING), False if the connection was not open.
        """
        payload = encode_close_frame(code, reason)
        with self._mutex:
            if self.state is not _OPEN or self.close_sent is not None:
                return False
            self._queue_close(code, reason, payload)
            self.state = _CLOSING
            return True

    def _queue_close(self, code: int, reason: str, payload: bytes) -> None:
        # Called with the mutex held.
        self.close_sent = (code, reason)
        self.pending.append((_CLOSE, payload))

    def fail(self, code: int, reason: str, exc: BaseException | None = None) -> None:
        """_Fail the WebSocket Connection_ (RFC 6455 §7.1.7): queue a close
        frame with ``code`` unless one was sent, then the state is CLOSED."""
        text = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
        with self._mutex:
            if self.failure is None:
                self.failure = exc
            if self.close_sent is None and self.state is _OPEN:
                self._queue_close(code, text, encode_close_frame(code, text))
                self.failed_with = (code, text)
            self.state = _CLOSED

    def transport_failed(self, exc: BaseException | None = None) -> None:
        """A frame could not be written whole, or the socket failed: the
        stream cannot go on, nothing more is sent (the connection is CLOSED
        with 1006)."""
        with self._mutex:
            if self.failure is None:
                self.failure = exc
            self.state = _CLOSED
            self.pending.clear()

    def data_to_send(self) -> Any:
        """The replies queued (pongs, keepalive pings, a close), framed and
        masked, oldest first; b"" when none.

        Only the holder of the send lock calls it and writes the result
        before releasing the lock: replies leave in the order they were
        queued, and a close frame is last.
        """
        pending = self.pending
        if not pending:
            return b""
        out = bytearray()
        while True:
            try:  # (a receiving thread may queue or replace a pong meanwhile)
                opcode, payload = pending.popleft()
            except IndexError:
                return out
            out += self.writer.control(opcode, payload)
