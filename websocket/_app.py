"""websocket-client's callback API on this package: :class:`WebSocketApp`
(``run_forever()`` with its callbacks, pings and reconnects) and the
default reconnect delay, at the path websocket-client keeps them
(``websocket._app``).  It drives a :class:`~websocket._compat.WebSocket`,
so everything on the wire goes through :class:`~websocket.WsClient`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from . import _compat
from ._abnf import ABNF
from ._compat import WebSocket, getdefaulttimeout
from ._exceptions import (
    ConnectionClosed,
    WebSocketConnectionClosedException,
    WebSocketError,
    WebSocketException,
    WebSocketTimeout,
    WebSocketTimeoutException,
)
from ._messages import Message
from ._reconnect import _final

__all__ = ["WebSocketApp", "setReconnect", "set_reconnect"]

logger = logging.getLogger("websocket")

#: run_forever()'s reconnect delay when it is given none (set_reconnect()).
_reconnect_default = 0


def set_reconnect(seconds: int) -> None:
    """The reconnect delay of every ``run_forever()`` not given one
    (websocket-client's ``setReconnect``)."""
    global _reconnect_default
    _reconnect_default = seconds


setReconnect = set_reconnect  # noqa: N816 - websocket-client's name


class WebSocketApp:
    """websocket-client's callback API: ``run_forever()`` connects, calls
    the ``on_*`` callbacks with this object first, keeps the connection
    alive with pings, and reconnects when asked to."""

    def __init__(
        self,
        url: str,
        header: Any = None,
        on_open: Callable[..., None] | None = None,
        on_reconnect: Callable[..., None] | None = None,
        on_message: Callable[..., None] | None = None,
        on_error: Callable[..., None] | None = None,
        on_close: Callable[..., None] | None = None,
        on_ping: Callable[..., None] | None = None,
        on_pong: Callable[..., None] | None = None,
        on_cont_message: Callable[..., None] | None = None,
        keep_running: bool = True,
        get_mask_key: Callable[[int], bytes] | None = None,
        cookie: str | None = None,
        subprotocols: list[str] | None = None,
        on_data: Callable[..., None] | None = None,
        socket: Any = None,
    ) -> None:
        self.url = url
        self.header = header if header is not None else []
        self.cookie = cookie
        self.on_open = on_open
        self.on_reconnect = on_reconnect
        self.on_message = on_message
        self.on_data = on_data
        self.on_error = on_error
        self.on_close = on_close
        self.on_ping = on_ping
        self.on_pong = on_pong
        self.on_cont_message = on_cont_message
        self.keep_running = False
        self.get_mask_key = get_mask_key
        self.subprotocols = subprotocols
        self.prepared_socket = socket
        self.sock: WebSocket | None = None
        self.has_errored = False
        self.last_ping_tm = 0.0
        self.last_pong_tm = 0.0
        self._lock = threading.Lock()

    def send(self, data: str | bytes, opcode: int = ABNF.OPCODE_TEXT) -> None:
        sock = self.sock
        if sock is None:
            raise WebSocketConnectionClosedException(1006, "Connection is already closed.")
        sock.send(data, opcode)

    def send_text(self, text_data: str) -> None:
        self.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: bytes) -> None:
        self.send(data, ABNF.OPCODE_BINARY)

    def close(self, **kwargs: Any) -> None:
        """Stop run_forever() (from a callback or another thread)."""
        self.keep_running = False
        sock = self.sock
        if sock is not None:
            sock.close(**kwargs)

    def _callback(self, callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(self, *args)
        except Exception as exc:
            logger.error("error from callback %r: %s", callback, exc)
            if self.on_error is not None and callback is not self.on_error:
                try:
                    self.on_error(self, exc)
                except Exception as again:
                    logger.error("error from on_error: %s", again)

    def run_forever(
        self,
        sockopt: Any = None,
        sslopt: Mapping[str, Any] | None = None,
        ping_interval: float = 0,
        ping_timeout: float | None = None,
        ping_payload: str | bytes = "",
        http_proxy_host: str | None = None,
        http_proxy_port: int | None = None,
        http_no_proxy: list[str] | None = None,
        http_proxy_auth: tuple[str, str] | None = None,
        http_proxy_timeout: float | None = None,
        skip_utf8_validation: bool = False,
        host: str | None = None,
        origin: str | None = None,
        dispatcher: Any = None,
        suppress_origin: bool = False,
        proxy_type: str | None = None,
        reconnect: int | None = None,
    ) -> bool:
        """Connect and dispatch messages to the callbacks until closed.

        ``ping_interval``: send a ping (``ping_payload``) every so many
        seconds; ``ping_timeout``: fail (on_error with
        WebSocketTimeoutException, then on_close) when its pong is that late.
        ``reconnect``: after a drop, wait so many seconds and connect again
        (on_reconnect instead of on_open); 0 or None: stop.

        Returns:
            True if the loop ended on an error, False otherwise.
        """
        # websocket-client's checks, with its messages.
        if ping_timeout is not None and ping_timeout <= 0:
            raise WebSocketException("Ensure ping_timeout > 0")
        if ping_interval is not None and ping_interval < 0:
            raise WebSocketException("Ensure ping_interval >= 0")
        if reconnect is None:
            reconnect = _reconnect_default
        if ping_timeout and ping_interval and ping_interval <= ping_timeout:
            raise WebSocketException("Ensure ping_interval > ping_timeout")
        if self.sock is not None:
            raise WebSocketException("socket is already opened")
        options: dict[str, Any] = {
            "header": self.header,
            "cookie": self.cookie,
            "http_proxy_host": http_proxy_host,
            "http_proxy_port": http_proxy_port,
            "http_no_proxy": http_no_proxy,
            "http_proxy_auth": http_proxy_auth,
            "http_proxy_timeout": http_proxy_timeout,
            "subprotocols": self.subprotocols,
            "host": host,
            "origin": origin,
            "suppress_origin": suppress_origin,
            "proxy_type": proxy_type,
            "socket": self.prepared_socket,
        }
        self.keep_running = True
        self.has_errored = False
        if dispatcher is not None:
            return self._run_dispatched(
                dispatcher, options, sockopt, sslopt, ping_interval, ping_timeout, ping_payload, reconnect
            )
        first = True
        try:
            while True:
                sock = WebSocket(sockopt=sockopt, sslopt=sslopt)
                sock.settimeout(getdefaulttimeout())
                try:
                    sock.connect(self.url, **dict(options))
                except Exception as exc:
                    if not self._connect_failed(exc, reconnect):
                        return True
                    time.sleep(reconnect or 0)
                    continue
                self.sock = sock
                self._callback(self.on_open if first else self.on_reconnect)
                first = False
                error = self._dispatch(sock, ping_interval, ping_timeout, ping_payload)
                if not self._teardown(sock, error, reconnect):
                    return error is not None
                time.sleep(reconnect or 0)
        except KeyboardInterrupt:
            self.keep_running = False
            if self.sock is not None:
                self.sock.close()
                self.sock = None
            return False

    def _run_dispatched(
        self,
        dispatcher: Any,
        options: dict[str, Any],
        sockopt: Any,
        sslopt: Mapping[str, Any] | None,
        ping_interval: float,
        ping_timeout: float | None,
        ping_payload: str | bytes,
        reconnect: float | None,
        reconnecting: bool = False,
    ) -> bool:
        """run_forever() on an event loop such as ``rel``: register the
        socket with ``dispatcher.read(sock, callback)`` (and pings with
        ``dispatcher.timeout``) and return; the caller's loop dispatches."""
        if not reconnecting:
            dispatcher.signal(2, dispatcher.abort)  # Ctrl-C ends the loop, as websocket-client does
        sock = WebSocket(sockopt=sockopt, sslopt=sslopt)
        sock.settimeout(getdefaulttimeout())

        def again() -> bool:
            self._run_dispatched(
                dispatcher, options, sockopt, sslopt, ping_interval, ping_timeout, ping_payload, reconnect, True
            )
            return False

        try:
            sock.connect(self.url, **dict(options))
        except Exception as exc:
            if self._connect_failed(exc, reconnect):
                dispatcher.timeout(reconnect, again)
            return True
        self.sock = sock
        self._callback(self.on_reconnect if reconnecting else self.on_open)
        ws = sock.ws
        assert ws is not None
        payload = ping_payload.encode("utf-8") if isinstance(ping_payload, str) else ping_payload
        pong_due: list[float | None] = [None]
        ended = [False]

        def end(error: BaseException | None) -> bool:
            if ended[0]:
                return False
            ended[0] = True
            if self._teardown(sock, error, reconnect):
                dispatcher.timeout(reconnect, again)
            return False

        def readable() -> bool:
            # The socket is readable: take every message that came, then
            # give the loop back (a short wait, never a blocking read).
            while self.keep_running:
                try:
                    msg = ws.receive(0.001)
                except WebSocketTimeout:
                    return True
                except ConnectionClosed as exc:
                    return end(None if ws.close_received is not None else exc)
                except WebSocketError as exc:
                    return end(exc)
                if not self._deliver(msg, pong_due):
                    return end(None)
            return end(None)

        def ping() -> bool:
            if ended[0] or not self.keep_running:
                return False
            error = self._ping(sock, payload, ping_timeout, pong_due)
            return True if error is None else end(error)

        dispatcher.read(ws.sock, readable)
        if ping_interval:
            dispatcher.timeout(ping_interval, ping)
        return False

    def _connect_failed(self, exc: BaseException, reconnect: float | None) -> bool:
        """Report a failed connection attempt; True to try again after
        ``reconnect`` seconds (on_close is called when giving up)."""
        self.has_errored = True
        self._callback(self.on_error, exc)
        if reconnect and self.keep_running and not _final(exc):
            logger.warning("connecting failed (%s); reconnecting in %s s", exc, reconnect)
            return True
        self._callback(self.on_close, None, None)
        return False

    def _teardown(self, sock: WebSocket, error: BaseException | None, reconnect: float | None) -> bool:
        """The connection ended (with ``error``, or None for a close):
        on_error, close, on_close; True to reconnect after ``reconnect``
        seconds (a drop, not a close, while still running)."""
        self.sock = None
        closed = sock.ws.close_received if sock.ws is not None else None
        if error is not None:
            self.has_errored = True
            self._callback(self.on_error, error)
        sock.close(timeout=1)
        code, reason = closed if closed is not None else (None, None)
        self._callback(self.on_close, code, reason)
        if self.keep_running and reconnect and closed is None:
            logger.warning("connection dropped (%s); reconnecting in %s s", error, reconnect)
            return True
        return False

    def _ping(
        self, sock: WebSocket, payload: bytes, ping_timeout: float | None, pong_due: list[float | None]
    ) -> BaseException | None:
        """A ping is due: the error that ends the connection (the last
        ping's pong is late, or the ping cannot be sent), or None once sent."""
        due = pong_due[0]
        if due is not None and time.monotonic() >= due:
            return WebSocketTimeoutException("ping/pong timed out")
        self.last_ping_tm = time.time()
        try:
            sock._client().ping(payload, sock.gettimeout())
        except WebSocketError as exc:
            return exc
        if ping_timeout and due is None:
            pong_due[0] = time.monotonic() + ping_timeout
        return None

    def _deliver(self, msg: Message, pong_due: list[float | None]) -> bool:
        """Hand one message to its callbacks; False for a close."""
        kind = msg["type"]
        if _compat._trace:
            logger.debug("++Rcv decoded: %s", msg)
        if kind == "text" or kind == "binary":
            self._callback(self.on_data, msg["data"], 1 if kind == "text" else 2, True)
            self._callback(self.on_message, msg["data"])
        elif kind == "ping":
            self._callback(self.on_ping, msg["data"])
        elif kind == "pong":
            self.last_pong_tm = time.time()
            pong_due[0] = None
            self._callback(self.on_pong, msg["data"])
        elif kind == "close":
            return False
        return True

    def _dispatch(
        self, sock: WebSocket, ping_interval: float, ping_timeout: float | None, ping_payload: str | bytes
    ) -> BaseException | None:
        """Read messages into the callbacks until the connection ends; the
        error that ended it, or None for a close."""
        ws = sock.ws
        assert ws is not None
        payload = ping_payload.encode("utf-8") if isinstance(ping_payload, str) else ping_payload
        next_ping = time.monotonic() + ping_interval if ping_interval else None
        pong_due: list[float | None] = [None]
        while self.keep_running:
            now = time.monotonic()
            wait = None
            if next_ping is not None:
                if now >= next_ping:
                    error = self._ping(sock, payload, ping_timeout, pong_due)
                    if error is not None:
                        return error
                    next_ping = now + ping_interval
                wait = next_ping - now
                due = pong_due[0]
                if due is not None:
                    if now >= due:
                        return WebSocketTimeoutException("ping/pong timed out")
                    wait = min(wait, due - now)
            try:
                msg = ws.receive(wait)
            except WebSocketTimeout:
                continue
            except ConnectionClosed as exc:
                return None if ws.close_received is not None else exc
            except WebSocketError as exc:
                return exc
            if not self._deliver(msg, pong_due):
                return None
        return None
