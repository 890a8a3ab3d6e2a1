"""Proxies: which one to use, and the tunnel through it.

- :func:`parse_proxy_url` checks a proxy URL (``http://``, ``https://``,
  ``socks4://``, ``socks4a://``, ``socks5://``, ``socks5h://``).
- :func:`proxy_from_environment` applies the usual variables
  (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY``).
- :func:`connect_request` and :class:`ConnectResponse` are the HTTP CONNECT
  exchange (RFC 9110 §9.3.6) without I/O; the shell writes the one and
  feeds the proxy's bytes to the other, over TLS for an ``https://`` proxy.
- :func:`socks_connect` opens a SOCKS tunnel through python-socks' sync API
  (the ``[socks]`` extra): a well-kept implementation of SOCKS 4, 4a and 5
  with its RFC 1929 authentication.

RFC 6455 §4.1 asks a client behind a proxy to "connect to that proxy and
ask it to open a TCP connection to the host given by /host/ and the port
given by /port/", with CONNECT as the example.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import re
import socket
import urllib.parse
from collections.abc import Mapping

from ._exceptions import InvalidURI, ProxyError, WebSocketTimeout
from ._handshake import Headers, _header_items, parse_response_head

__all__ = [
    "ProxySpec",
    "parse_proxy_url",
    "proxy_from_environment",
    "connect_request",
    "ConnectResponse",
    "socks_connect",
]

_DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "socks4": 1080,
    "socks4a": 1080,
    "socks5": 1080,
    "socks5h": 1080,
}
_SOCKS = ("socks4", "socks4a", "socks5", "socks5h")
#: The most of a proxy's refusal body kept in ProxyError.
BODY_HEAD = 1024
#: A CONNECT answer's head may be no longer than this.
MAX_HEAD = 16 * 1024


@dataclasses.dataclass(frozen=True)
class ProxySpec:
    """A parsed proxy URL.

    Attributes:
        scheme: "http", "https", "socks4", "socks4a", "socks5" or "socks5h".
        host: the proxy's host (IPv6 without brackets).
        port: its port (default 80 for http, 443 for https, 1080 for SOCKS).
        username, password: credentials from the URL (percent-decoded), or
            None.
        url: the URL with the password masked, for messages and logs.
    """

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    url: str

    @property
    def is_socks(self) -> bool:
        return self.scheme in _SOCKS


def parse_proxy_url(url: object) -> ProxySpec:
    """Check a proxy URL and split it.

    Raises:
        TypeError: ``url`` is not a str.
        InvalidURI: another scheme, no host, a bad port, a path, or control
            characters.
    """
    if not isinstance(url, str):
        raise TypeError(f"proxy must be a URL str or None, not {type(url).__name__}")

    def bad(msg: str) -> InvalidURI:
        return InvalidURI(url, msg, "proxy URL")

    if re.search(r"[\x00-\x20\x7f]", url):
        raise bad("it contains a space or control character")
    if "://" not in url:
        raise bad("no scheme (use http://, https://, socks4://, socks4a://, socks5:// or socks5h://)")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise bad(str(exc).lower()) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise bad(
            f"scheme must be http, https, socks4, socks4a, socks5 or socks5h, got {parts.scheme!r}"
        )
    host = parts.hostname
    if not host:
        raise bad("no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise bad("a proxy URL has no path, query or fragment")
    if port == 0:
        raise bad("port 0")
    username = password = None
    if parts.username is not None:
        username = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
    netloc = parts.netloc.rpartition("@")[2]
    shown = f"{scheme}://{'***@' if username is not None else ''}{netloc}"
    return ProxySpec(scheme, host, port or _DEFAULT_PORTS[scheme], username, password, shown)


# -- the environment ---------------------------------------------------------


def _getenv(environ: Mapping[str, str], name: str) -> str:
    """Lowercase first, as curl and urllib do; an empty value is unset."""
    value = environ.get(name.lower()) or ""
    if not value and not (name == "HTTP_PROXY" and "REQUEST_METHOD" in environ):
        # Under CGI, HTTP_PROXY is the client's "Proxy:" request header
        # ("httpoxy"): only the lowercase name is trusted there.
        value = environ.get(name) or ""
    return value.strip()


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    """True if ``host:port`` matches an entry of a NO_PROXY list.

    Entries are separated by commas or spaces: ``*`` (everything), a name
    (matching itself and its subdomains; a leading ``.`` or ``*.`` is
    ignored), an IP address, a CIDR network (``10.0.0.0/8``, ``::1/128``),
    each optionally with ``:port`` (``[v6]:port`` for IPv6).
    """
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    host = host.lower().rstrip(".")
    for entry in re.split(r"[,\s]+", no_proxy.strip()):
        if not entry:
            continue
        if entry == "*":
            return True
        entry_port = None
        match = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", entry)
        if match:
            entry, entry_port = match.group(1), match.group(2)
        elif entry.count(":") == 1:
            entry, _, entry_port = entry.partition(":")
        if entry_port is not None and entry_port.isdigit() and int(entry_port) != port:
            continue
        if "/" in entry:
            try:
                if address is not None and address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        if address is not None:
            try:
                if address == ipaddress.ip_address(entry):
                    return True
            except ValueError:
                pass
            continue
        name = entry.lower().lstrip("*").lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def proxy_from_environment(
    secure: bool, host: str, port: int, environ: Mapping[str, str] | None = None
) -> str | None:
    """The proxy URL the environment gives for a connection, or None.

    ``wss://`` uses ``HTTPS_PROXY``, ``ws://`` uses ``HTTP_PROXY``, either
    falls back to ``ALL_PROXY`` (lowercase names win; an empty value is
    unset); ``NO_PROXY`` lists the hosts to reach directly (see
    :func:`_bypassed`).
    """
    environ = os.environ if environ is None else environ
    url = _getenv(environ, "HTTPS_PROXY" if secure else "HTTP_PROXY") or _getenv(
        environ, "ALL_PROXY"
    )
    if not url:
        return None
    if _bypassed(host, port, _getenv(environ, "NO_PROXY")):
        return None
    if "://" not in url:
        url = "http://" + url  # "proxy:3128", as curl and requests take it
    return url


# -- HTTP CONNECT (RFC 9110 §9.3.6) ----------------------------------------


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def basic_credentials(username: str, password: str) -> str:
    """An RFC 7617 Basic credential: ``Basic base64(user:password)``."""
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def connect_request(
    host: str, port: int, proxy: ProxySpec, headers: Headers | None = None
) -> bytes:
    """The CONNECT request asking ``proxy`` for a tunnel to ``host:port``.

    Raises:
        TypeError, ValueError: a bad ``proxy_headers`` entry (control
            characters, an invalid name), as for the handshake's headers.
    """
    target = _authority(host, port)
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if proxy.username is not None:
        lines.append(
            "Proxy-Authorization: " + basic_credentials(proxy.username, proxy.password or "")
        )
    lines.extend(f"{name}: {value}" for name, value in _header_items(headers))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class ConnectResponse:
    """Reads a proxy's answer to CONNECT.

    :meth:`feed` takes bytes until it returns True (the tunnel is open);
    bytes after the answer's head belong to the tunnel (:attr:`rest`).
    """

    def __init__(self, proxy: ProxySpec) -> None:
        self.proxy = proxy
        self._buf = bytearray()
        self._head: tuple[int, dict[str, str], int, int] | None = None
        self.rest = b""

    @staticmethod
    def _body_wanted(headers: dict[str, str], version: str) -> int:
        """How much of a refusal's body to wait for: its Content-Length; or,
        for a body that ends with the connection (``Connection: close``, as
        tinyproxy sends, or HTTP/1.0), up to BODY_HEAD; else nothing."""
        length = headers.get("content-length")
        if length is not None:
            try:
                return min(int(length), BODY_HEAD)
            except ValueError:
                return 0
        closing = "close" in headers.get("connection", "").lower() or version == "1.0"
        if closing and "transfer-encoding" not in headers:
            return BODY_HEAD
        return 0

    def feed(self, data: bytes) -> bool:
        """Take the next bytes; b"" is the proxy closing the connection.

        Raises:
            ProxyError: a status other than 2xx (with the first bytes of the
                body), a malformed answer, or the proxy closing first.
        """
        eof = not data
        self._buf += data
        if self._head is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > MAX_HEAD:
                    raise ProxyError(f"answer head exceeds {MAX_HEAD} bytes", self.proxy.url)
                if eof:
                    raise ProxyError(
                        f"connection closed during CONNECT after {len(self._buf)} bytes"
                        + (f": {bytes(self._buf[:80])!r}" if self._buf else ""),
                        self.proxy.url,
                    )
                return False
            try:
                status, _reason, headers, version = parse_response_head(bytes(self._buf[:end]))
            except Exception as exc:
                raise ProxyError(f"malformed CONNECT answer: {exc}", self.proxy.url) from None
            self._head = (status, headers, end + 4, self._body_wanted(headers, version))
        status, headers, body_at, wanted = self._head
        if 200 <= status < 300:
            self.rest = bytes(self._buf[body_at:])
            return True
        body = bytes(self._buf[body_at:])
        if len(body) < wanted and not eof:
            return False
        raise ProxyError("CONNECT refused", self.proxy.url, status, headers, body[:BODY_HEAD])


# -- SOCKS (python-socks) ----------------------------------------------------


def socks_connect(
    proxy: ProxySpec, host: str, port: int, timeout: float | None
) -> socket.socket:
    """A socket tunnelled through a SOCKS proxy to ``host:port``.

    ``socks4a`` and ``socks5h`` let the proxy resolve ``host``; ``socks4``
    and ``socks5`` resolve it here.

    Raises:
        ImportError: python-socks is not installed (with the extra to
            install).
        ProxyError: the proxy refused or broke the exchange.
        WebSocketTimeout: ``timeout`` passed first.
        OSError: the proxy could not be reached.
    """
    try:
        from python_socks import ProxyConnectionError, ProxyTimeoutError, ProxyType
        from python_socks import ProxyError as SocksError
        from python_socks.sync import Proxy
    except ImportError as exc:
        raise ImportError(
            f"a {proxy.scheme}:// proxy needs python-socks: "
            "pip install 'websocket-fast[socks]'"
        ) from exc
    kind = ProxyType.SOCKS4 if proxy.scheme.startswith("socks4") else ProxyType.SOCKS5
    client = Proxy(
        kind,
        proxy.host,
        proxy.port,
        username=proxy.username,
        password=proxy.password,
        rdns=proxy.scheme in ("socks4a", "socks5h"),
    )
    # python-socks waits 60 s when given None.
    wait = 86400.0 * 365 if timeout is None else max(timeout, 0.001)
    try:
        sock: socket.socket = client.connect(host, port, timeout=wait)
    except ProxyTimeoutError:
        raise WebSocketTimeout(f"SOCKS proxy {proxy.url} timed out after {timeout} s") from None
    except ProxyConnectionError as exc:
        cause = exc.__cause__
        if isinstance(cause, OSError):
            raise cause from None
        raise
    except SocksError as exc:
        raise ProxyError(str(exc), proxy.url) from None
    except UnicodeDecodeError as exc:
        # python-socks decodes a SOCKS5 reply's bound domain name as UTF-8.
        raise ProxyError(f"SOCKS proxy replied with an address that is not UTF-8: {exc.object[:64]!r}", proxy.url) from None
    return sock
