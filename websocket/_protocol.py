"""The sans-I/O core of a client connection (RFC 6455 §5-§7).

:class:`ClientProtocol` turns received bytes into messages and messages into
bytes to send; it never touches a socket.  The blocking shell
(``_client.py``) receives into ``protocol.parser.get_buffer()`` (bytes from
elsewhere go in through :meth:`ClientProtocol.receive_data`), calls
:meth:`ClientProtocol.next_message`, and writes what
:meth:`ClientProtocol.data_to_send` returns.  Frame-level rules (reserved
bits and opcodes, masking, control frames, continuation, ``max_size``,
UTF-8) are enforced by the codec's ``FrameParser``; this layer handles what
frames mean: pings, pongs and the closing handshake.
"""

from __future__ import annotations

from ._codec import FrameEncoder, FrameParser
from ._exceptions import ConnectionClosed, MessageTooBig, ProtocolError
from ._frames import CloseCode, Opcode, encode_close_frame, parse_close_frame

__all__ = ["ClientProtocol", "OPEN", "CLOSING", "CLOSED"]

CONNECTING, OPEN, CLOSING, CLOSED = "connecting", "open", "closing", "closed"

_CLOSE, _PING, _PONG = int(Opcode.CLOSE), int(Opcode.PING), int(Opcode.PONG)


class ClientProtocol:
    """Receive and close state of one open client connection.

    Args:
        max_size: largest message accepted, in bytes (None: no limit).
        auto_pong: answer pings with pongs (RFC 6455 §5.5.2).

    Attributes:
        state: "open", "closing" (we sent a close frame and wait for the
            peer's) or "closed".
        close_sent: ``(code, reason)`` of the close frame we sent, or None.
        close_received: ``(code, reason)`` of the peer's, or None.
    """

    def __init__(self, *, max_size: int | None = 64 * 1024 * 1024, auto_pong: bool = True) -> None:
        self.parser = FrameParser(max_size)
        self._parser_next = self.parser.next_message
        self.encoder = FrameEncoder(mask=True)
        self.auto_pong = auto_pong
        self.state = OPEN
        self.close_sent: tuple[int, str] | None = None
        self.close_received: tuple[int, str] | None = None
        self.failure: BaseException | None = None
        self._outgoing: list = []

    # -- receiving ------------------------------------------------------------

    def receive_data(self, data) -> None:
        """Copy received bytes in (for callers not using get_buffer)."""
        self.parser.feed(data)

    def next_message(self) -> dict | None:
        """The next message, or None until more bytes arrive.

        Returns a dict: ``{"type": "text"|"binary"|"ping"|"pong", "data":
        ...}`` or ``{"type": "close", "code", "reason", "data"}``.  Pings are
        answered here (when ``auto_pong``) and a close frame is answered
        with the same code: the replies wait in :meth:`data_to_send`.

        Raises:
            ProtocolError, MessageTooBig: the peer broke a rule or sent too
                much; a close frame with the matching code (1002, 1007,
                1009) waits in :meth:`data_to_send` and the state is closed.
        """
        try:
            msg = self._parser_next()
        except (ProtocolError, MessageTooBig) as exc:
            self.parse_failed(exc)
            raise
        # Data messages come from the parser ready-made (the hot path);
        # control frames come as (opcode, payload, compressed).
        if msg is None or msg.__class__ is dict:
            return msg
        return self.control_message(msg)

    def parse_failed(self, exc: ProtocolError | MessageTooBig) -> None:
        """The parser raised ``exc``: fail the connection with its close code.

        For shells that call ``parser.next_message`` themselves (the hot
        path) and route everything but a data message here and to
        :meth:`control_message`.
        """
        self.fail(exc.code, str(exc)[:123], exc)

    def control_message(self, frame: tuple) -> dict:
        """Turn a control frame from the parser, ``(opcode, payload,
        compressed)``, into its message; queue the pong or close reply.

        Raises:
            ProtocolError: a malformed close payload (the connection is
                failed with 1002 or 1007 first).
        """
        opcode, data = frame[0], frame[1]
        if opcode == _PING:
            if self.auto_pong and self.state is OPEN:
                self._outgoing.append(self.encoder.encode(_PONG, data))
            return {"type": "ping", "data": data}
        if opcode == _PONG:
            return {"type": "pong", "data": data}
        return self._close_received(data)

    def _close_received(self, payload: bytes) -> dict:
        try:
            info = parse_close_frame(payload)
        except ProtocolError as exc:
            self.fail(exc.code, exc.msg[:123], exc)
            raise
        code, reason = info["code"], info["reason"]
        self.close_received = (code, reason)
        if self.close_sent is None:
            # RFC 6455 §5.5.1: reply with a close frame, "typically echoing
            # the status code it received"; none when none was received.
            reply = b"" if code == CloseCode.NO_STATUS_RCVD else payload[:2]
            self._send_close(code, "", reply)
        self.state = CLOSED
        return {"type": "close", "code": code, "reason": reason, "data": payload}

    def eof_received(self) -> None:
        """The TCP connection ended (or failed): the connection is closed."""
        self.state = CLOSED

    # -- sending --------------------------------------------------------------

    def check_open(self) -> None:
        """Raise ConnectionClosed unless messages may still be sent."""
        if self.state is not OPEN:
            raise self.closed_exception()

    def send_frame(self, opcode: int, payload, fin: bool = True):
        """Encode one frame to send (a bytes-like object valid until the next
        call; see ``FrameEncoder``)."""
        return self.encoder.encode(opcode, payload, fin)

    def send_close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake (RFC 6455 §7.1.2); once only."""
        payload = encode_close_frame(code, reason)
        if self.close_sent is None and self.state is OPEN:
            self._send_close(code, reason, payload)
            self.state = CLOSING

    def _send_close(self, code: int, reason: str, payload: bytes) -> None:
        self.close_sent = (code, reason)
        self._outgoing.append(bytes(self.encoder.encode(_CLOSE, payload)))

    def fail(self, code: int, reason: str, exc: BaseException | None = None) -> None:
        """_Fail the WebSocket Connection_ (RFC 6455 §7.1.7): send a close
        frame with ``code`` unless one was sent, then the state is closed."""
        if self.failure is None:
            self.failure = exc
        if self.close_sent is None and self.state is not CLOSED:
            reason_bytes = reason.encode("utf-8")[:123].decode("utf-8", "ignore")
            self._send_close(code, reason, encode_close_frame(code, reason_bytes))
        self.state = CLOSED

    def data_to_send(self) -> list:
        """Frames waiting to be written, oldest first; empties the queue."""
        out, self._outgoing = self._outgoing, []
        return out

    def closed_exception(self) -> ConnectionClosed:
        """The ConnectionClosed that calls on a closed connection raise."""
        code, reason = self.close_received or (int(CloseCode.ABNORMAL_CLOSURE), "")
        sent = self.close_sent[0] if self.close_sent else None
        return ConnectionClosed(code, reason, sent)
