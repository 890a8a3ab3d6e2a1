"""websocket-client's synchronous API on this package's core.

websocket-client shares our import name, so a program written for it
imports ``websocket`` and finds us.  These names make it run unchanged:
``create_connection``, ``WebSocket``, ``ABNF`` (``_abnf.py``), the
``STATUS_*`` constants, its exception names, ``enableTrace``,
``setdefaulttimeout`` and ``getdefaulttimeout``; ``WebSocketApp`` is in
``_app.py``.  They are a thin layer over
:class:`~websocket.WsClient` and the one protocol core: no second framing or
handshake, and our strictness stays (``max_size``, UTF-8 checked on text,
masked frames refused, redirects and proxies as ``WsClient`` does them).
The README's "Coming from websocket-client" lists every difference.
"""

from __future__ import annotations

import logging
import os
import ssl
import struct
import sys
import threading
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._abnf import ABNF, STATUS_NORMAL
from ._client import WsClient
from ._exceptions import (
    WebSocketConnectionClosedException,
)

__all__ = [
    "WebSocket",
    "create_connection",
    "enableTrace",
    "getdefaulttimeout",
    "setdefaulttimeout",
]

logger = logging.getLogger("websocket")
_HERE = os.path.dirname(os.path.abspath(__file__))


_default_timeout: float | None = None
_trace = False


def setdefaulttimeout(timeout: float | None) -> None:
    """The timeout (seconds, None for none) of connections made after this."""
    global _default_timeout
    _default_timeout = timeout


def getdefaulttimeout() -> float | None:
    return _default_timeout


def enableTrace(  # noqa: N802 - websocket-client's name
    traceable: bool, handler: logging.Handler | None = None, level: str | int = "DEBUG"
) -> None:
    """Log the handshake and every frame sent and received by the classes of
    this module on the ``websocket`` logger (to stderr unless ``handler``).

    The trace is kept out of :class:`WsClient`'s paths: it costs nothing
    unless turned on.
    """
    global _trace
    _trace = bool(traceable)
    if traceable:
        handler = handler if handler is not None else logging.StreamHandler()
        if handler not in logger.handlers:
            logger.addHandler(handler)
        logger.setLevel(level)


_TYPES = {"text": 1, "binary": 2, "close": 8, "ping": 9, "pong": 10}


def _header_pairs(header: object) -> list[tuple[str, str]]:
    """websocket-client's ``header``: a dict, or a list of "Name: value"."""
    if header is None:
        return []
    if callable(header):
        header = header()
    if isinstance(header, Mapping):
        return [(str(k), str(v)) for k, v in header.items()]
    pairs = []
    for line in header:  # type: ignore[attr-defined]
        if not isinstance(line, str) or ":" not in line:
            raise ValueError(f"header entries must be 'Name: value' strings, got {line!r}")
        name, _, value = line.partition(":")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _ssl_context(sslopt: Mapping[str, Any]) -> tuple[ssl.SSLContext, str | None]:
    """An SSLContext from websocket-client's ``sslopt`` dict, and its
    ``server_hostname``."""
    context = sslopt.get("context")
    if context is None:
        context = ssl.create_default_context()
        if sslopt.get("ca_certs") or sslopt.get("ca_cert_path"):
            context.load_verify_locations(
                cafile=sslopt.get("ca_certs"), capath=sslopt.get("ca_cert_path")
            )
        if sslopt.get("certfile"):
            context.load_cert_chain(
                sslopt["certfile"], sslopt.get("keyfile"), sslopt.get("password")
            )
        if sslopt.get("ciphers"):
            context.set_ciphers(sslopt["ciphers"])
        if "check_hostname" in sslopt:
            context.check_hostname = bool(sslopt["check_hostname"])
        if "cert_reqs" in sslopt:
            if sslopt["cert_reqs"] == ssl.CERT_NONE:
                context.check_hostname = False
            context.verify_mode = sslopt["cert_reqs"]
    return context, sslopt.get("server_hostname")


def _client_options(url: str, options: dict[str, Any], sockopt: Any, sslopt: Any) -> dict[str, Any]:
    """WsClient's options from websocket-client's ``connect()`` options."""
    from ._url import parse_url

    parts = parse_url(url)
    headers = _header_pairs(options.pop("header", None))
    if options.get("cookie"):
        headers.append(("Cookie", options.pop("cookie")))
    options.pop("cookie", None)
    if options.get("host"):
        headers.append(("Host", options.pop("host")))
    options.pop("host", None)
    result: dict[str, Any] = {}
    origin = options.pop("origin", None)
    if not options.pop("suppress_origin", False):
        # websocket-client sends an Origin by default: scheme and host.
        scheme = "https" if parts["secure"] else "http"
        default_port = 443 if parts["secure"] else 80
        netloc = f"[{parts['host']}]" if ":" in parts["host"] else parts["host"]
        if parts["port"] != default_port:
            netloc += f":{parts['port']}"
        result["origin"] = origin or f"{scheme}://{netloc}"
    result["headers"] = headers
    if options.get("subprotocols"):
        result["subprotocols"] = list(options["subprotocols"])
    options.pop("subprotocols", None)
    if options.get("socket") is not None:
        result["sock"] = options["socket"]
    options.pop("socket", None)
    if sockopt:
        result["socket_options"] = [tuple(o) for o in sockopt]
    if sslopt and parts["secure"]:
        result["ssl_context"], hostname = _ssl_context(sslopt)
        if hostname:
            result["server_hostname"] = hostname
    proxy_host = options.pop("http_proxy_host", None)
    proxy_port = options.pop("http_proxy_port", None)
    proxy_auth = options.pop("http_proxy_auth", None)
    proxy_type = options.pop("proxy_type", None) or "http"
    no_proxy = options.pop("http_no_proxy", None)
    options.pop("http_proxy_timeout", None)  # the timeout covers the proxy too
    if proxy_host:
        if no_proxy and parts["host"] in no_proxy:
            result["proxy"] = None
        else:
            from urllib.parse import quote

            userinfo = ""
            if proxy_auth:
                userinfo = f"{quote(proxy_auth[0], safe='')}:{quote(proxy_auth[1], safe='')}@"
            port = proxy_port or (80 if proxy_type == "http" else 1080)
            netloc = f"[{proxy_host}]" if ":" in proxy_host else proxy_host
            result["proxy"] = f"{proxy_type}://{userinfo}{netloc}:{port}"
    if "redirect_limit" in options:
        result["max_redirects"] = options.pop("redirect_limit")
    # Our own limits, for code that moves on from websocket-client's names.
    for name in ("max_size", "compression", "close_timeout"):
        if name in options:
            result[name] = options.pop(name)
    # Accepted and without effect here (README: "Coming from websocket-client").
    for ignored in ("enable_multithread", "skip_utf8_validation", "fire_cont_frame", "get_mask_key", "sslopt", "sockopt"):
        options.pop(ignored, None)
    if options:
        # websocket-client ignores options it does not know (its own tests
        # pass some by mistake), and its connection= replaces the Connection
        # header, which this client always sends as "Upgrade": a program
        # that ran there runs here, told what was left out.
        level = 1
        frame: types.FrameType | None = sys._getframe(0)
        while frame is not None and os.path.dirname(frame.f_code.co_filename) == _HERE:
            level, frame = level + 1, frame.f_back  # to the caller outside the package
        warnings.warn(
            f"connect() ignores option(s) it does not support: {', '.join(sorted(options))}",
            UserWarning,
            stacklevel=level,
        )
    return result


class WebSocket:
    """websocket-client's low-level connection, on :class:`WsClient`.

    ``recv()`` returns str for text and bytes for binary messages; pings are
    answered and skipped.  ``settimeout()`` bounds every receive and send
    (WebSocketTimeoutException); the connection stays usable after a
    receive timeout.
    """

    def __init__(
        self,
        get_mask_key: Callable[[int], bytes] | None = None,
        sockopt: Any = None,
        sslopt: Mapping[str, Any] | None = None,
        fire_cont_frame: bool = False,
        enable_multithread: bool = True,
        skip_utf8_validation: bool = False,
        **_: Any,
    ) -> None:
        self.sockopt = sockopt
        self.sslopt = dict(sslopt or {})
        self._timeout = getdefaulttimeout()
        self.ws: WsClient | None = None
        # websocket-client's readlock: its recv() from a second thread
        # waits its turn, where WsClient raises ConcurrencyError.
        self._readlock = threading.Lock()

    # -- connecting ----------------------------------------------------------

    def connect(self, url: str, **options: Any) -> None:
        """Connect to ``url`` (websocket-client's options: header, cookie,
        origin, suppress_origin, host, timeout, http_proxy_host,
        http_proxy_port, http_no_proxy, http_proxy_auth, proxy_type,
        redirect_limit, subprotocols, socket)."""
        if "timeout" in options:
            self._timeout = options.pop("timeout")
        sockopt = options.pop("sockopt", self.sockopt)
        sslopt = options.pop("sslopt", None) or self.sslopt
        client = _client_options(url, dict(options), sockopt, sslopt)
        self.ws = WsClient(
            url, timeout=self._timeout, send_timeout=self._timeout, **client
        )
        if _trace:
            request = self.ws.request_head
            logger.debug("--- request header ---\n%s-----------------------", request)
            status = self.ws.response_status
            lines = "".join(f"{k}: {v}\n" for k, v in self.ws.response_headers.items())
            logger.debug("--- response header ---\nHTTP/1.1 %s\n%s-----------------------", status, lines)

    def set_mask_key(self, func: Callable[[int], bytes]) -> None:
        """Accepted and ignored, as ``get_mask_key=`` is: mask keys always
        come from the OS CSPRNG here (RFC 6455 §5.3 wants them
        unpredictable; a test's fixed key would weaken every frame)."""

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    timeout = property(gettimeout, settimeout)

    def _client(self) -> WsClient:
        if self.ws is None:
            raise WebSocketConnectionClosedException(1006, "socket is already closed.")
        return self.ws

    @property
    def connected(self) -> bool:
        return self.ws is not None and self.ws.ready_state() == "open"

    @property
    def sock(self) -> Any:
        """The connection's socket, or None when not connected."""
        return None if self.ws is None else self.ws.sock

    def fileno(self) -> int:
        return self._client().fileno()

    def is_ssl(self) -> bool:
        return self.ws is not None and self.ws.url.startswith("wss:")

    def getstatus(self) -> int | None:
        return None if self.ws is None else self.ws.response_status

    status = property(getstatus)

    def getheaders(self) -> dict[str, str] | None:
        return None if self.ws is None else self.ws.response_headers

    headers = property(getheaders)

    def getsubprotocol(self) -> str | None:
        return None if self.ws is None else self.ws.subprotocol

    subprotocol = property(getsubprotocol)

    # -- sending ---------------------------------------------------------------

    def send(self, payload: str | bytes, opcode: int = ABNF.OPCODE_TEXT) -> int:
        """Send one message; returns the frame's length on the wire."""
        ws = self.ws
        if ws is None:
            ws = self._client()  # raises
        if opcode == 1:
            if payload.__class__ is not str:
                # Text must be UTF-8 (we never send invalid text).
                payload = bytes(payload).decode("utf-8")  # type: ignore[arg-type]
            size = len(payload.encode("utf-8")) if not payload.isascii() else len(payload)
            ws.send(payload, None, self._timeout)
        elif opcode == 2:
            if isinstance(payload, str):
                payload = payload.encode("utf-8")
            size = len(payload)
            if isinstance(payload, (bytes, bytearray, memoryview)):
                ws.send(payload, None, self._timeout)  # WsClient's fast path
            else:
                ws.send_binary(payload, None, self._timeout)
        elif opcode == 9 or opcode == 10:
            data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
            size = len(data)
            (ws.ping if opcode == 9 else ws.pong)(data, self._timeout)
        elif opcode == 8:
            data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else STATUS_NORMAL
            self.close(code, data[2:])
            size = len(data)
        else:
            raise ValueError(
                f"opcode {opcode!r}: only whole text, binary, ping, pong and close frames can be sent"
            )
        if _trace:
            logger.debug("++Sent decoded: fin=1 opcode=%s data=%r", opcode, payload)
        return size + (2 if size < 126 else 4 if size < 65536 else 10) + 4

    def send_text(self, text_data: str) -> int:
        return self.send(text_data, ABNF.OPCODE_TEXT)

    def send_bytes(self, data: bytes) -> int:
        return self.send(data, ABNF.OPCODE_BINARY)

    def send_binary(self, payload: bytes) -> int:
        return self.send(payload, ABNF.OPCODE_BINARY)

    def send_frame(self, frame: ABNF) -> int:
        """Send a whole frame made with :meth:`ABNF.create_frame`."""
        if not frame.fin or frame.opcode == ABNF.OPCODE_CONT:
            raise ValueError("fragmented frames cannot be sent: send the whole message")
        data: str | bytes = frame.data
        if frame.opcode == ABNF.OPCODE_TEXT and isinstance(data, bytes):
            data = data.decode("utf-8")
        return self.send(data, frame.opcode)

    def ping(self, payload: str | bytes = "") -> None:
        self.send(payload, ABNF.OPCODE_PING)

    def pong(self, payload: str | bytes = "") -> None:
        self.send(payload, ABNF.OPCODE_PONG)

    # -- receiving -------------------------------------------------------------

    def recv(self) -> str | bytes:
        """The next text (str) or binary (bytes) message; "" when the server
        closed (later calls raise WebSocketConnectionClosedException)."""
        ws = self.ws
        if ws is None:
            ws = self._client()  # raises
        timeout = self._timeout
        while True:
            with self._readlock:
                msg = ws.receive(timeout)
            kind = msg["type"]
            if _trace:
                logger.debug("++Rcv decoded: %s", msg)
            if kind == "text" or kind == "binary":
                return msg["data"]
            if kind == "close":
                return ""

    def recv_data(self, control_frame: bool = False) -> tuple[int, bytes]:
        """(opcode, data as bytes) of the next message; with
        ``control_frame`` pings and pongs too."""
        opcode, frame = self.recv_data_frame(control_frame)
        return opcode, frame._payload()

    def recv_data_frame(self, control_frame: bool = False) -> tuple[int, ABNF]:
        while True:
            frame = self.recv_frame()
            if frame.opcode in (ABNF.OPCODE_PING, ABNF.OPCODE_PONG) and not control_frame:
                continue
            return frame.opcode, frame

    def recv_frame(self) -> ABNF:
        """The next message or control frame as one ABNF frame (fragments
        arrive reassembled)."""
        client = self._client()
        with self._readlock:
            msg = client.receive(self._timeout)
        if _trace:
            logger.debug("++Rcv decoded: %s", msg)
        data = msg["data"]
        if isinstance(data, str):
            data = data.encode("utf-8")
        return ABNF(1, 0, 0, 0, _TYPES[msg["type"]], 0, data)

    def __iter__(self) -> Iterator[str | bytes]:
        while True:
            yield self.recv()

    def __next__(self) -> str | bytes:
        return self.recv()

    def next(self) -> str | bytes:
        return self.recv()

    # -- closing ---------------------------------------------------------------

    def send_close(self, status: int = STATUS_NORMAL, reason: bytes | str = b"") -> None:
        """Send a close frame without waiting for the server's."""
        ws = self._client()
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8")
        ws.send_close(status, reason, float("inf") if self._timeout is None else self._timeout)

    def close(self, status: int = STATUS_NORMAL, reason: bytes | str = b"", timeout: float | None = 3) -> None:
        """Close: send a close frame, wait up to ``timeout`` seconds for the
        server's (None: as long as it takes), close the socket."""
        if self.ws is None:
            return
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8")
        self.ws.close(status, reason, float("inf") if timeout is None else timeout)

    def abort(self) -> None:
        """End the TCP connection now: wakes threads blocked in recv()."""
        if self.ws is not None:
            self.ws.abort()

    def shutdown(self) -> None:
        """Close the socket at once (no close frame)."""
        if self.ws is not None:
            self.ws.abort()


def create_connection(url: str, timeout: float | None = None, class_: type[WebSocket] = WebSocket, **options: Any) -> WebSocket:
    """Connect to ``url`` and return a :class:`WebSocket` (websocket-client's
    function; ``timeout`` defaults to :func:`getdefaulttimeout`)."""
    construct = {
        name: options.pop(name)
        for name in ("sockopt", "sslopt", "fire_cont_frame", "enable_multithread", "skip_utf8_validation", "get_mask_key")
        if name in options
    }
    ws = class_(**construct)
    ws.settimeout(timeout if timeout is not None else getdefaulttimeout())
    ws.connect(url, **options)
    return ws
