"""Proxies: which one to use, and the tunnel through it.

- :func:`parse_proxy_url` checks a proxy URL (``http://``, ``https://``,
  ``socks4://``, ``socks4a://``, ``socks5://``, ``socks5h://``).
- :func:`proxy_from_environment` applies the usual variables
  (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and ``NO_PROXY``).
- :func:`connect_request` and :class:`ConnectResponse` are the HTTP CONNECT
  exchange (RFC 9110 §9.3.6) without I/O; the shell writes the one and
  feeds the proxy's bytes to the other, over TLS for an ``https://`` proxy.
- :func:`socks_address` and :class:`SocksExchange` are a SOCKS 4, 4a or 5
  tunnel's opening (RFC 1928, with RFC 1929 authentication) without I/O;
  the shell reads the proxy's reply by its own deadline.

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
from collections.abc import Callable, Mapping

from ._exceptions import InvalidURI, ProxyError
from ._handshake import Headers, _header_items, parse_response_head

__all__ = [
    "ProxySpec",
    "parse_proxy_url",
    "proxy_from_environment",
    "connect_request",
    "ConnectResponse",
    "socks_address",
    "SocksExchange",
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
    """The CONNECT exchange: the request to write, then the proxy's answer.

    :meth:`output` gives ``request`` (once), :meth:`feed` takes bytes until
    it returns True (the tunnel is open); bytes after the answer's head
    belong to the tunnel (:attr:`rest`).  The same two calls as
    :class:`SocksExchange`: the client drives either the same way.
    """

    def __init__(self, proxy: ProxySpec, request: bytes = b"") -> None:
        self.proxy = proxy
        self._request = request
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

    def output(self) -> bytes:
        """What to write next: the request, then nothing."""
        request, self._request = self._request, b""
        return request

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


# -- SOCKS ---------------------------------------------------------------------


#: RFC 1928 §6: what a SOCKS5 reply's REP field means.
_SOCKS5_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}
#: The SOCKS 4 protocol notes: CD 91-93 in a reply.
_SOCKS4_REPLIES = {
    91: "request rejected or failed",
    92: "rejected: the proxy cannot reach identd on the client",
    93: "rejected: identd reported a different user id",
}


def socks_address(proxy: ProxySpec, host: str, port: int) -> str:
    """The address to ask ``proxy`` for: ``host`` itself where the proxy
    resolves names (``socks4a``, ``socks5h``, or ``host`` is already an IP
    address), else its first address here (IPv4 for ``socks4``, which has
    no other kind).

    Raises:
        OSError: ``host`` does not resolve (socket.gaierror).
    """
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if proxy.scheme in ("socks4a", "socks5h"):
        return host
    family = socket.AF_INET if proxy.scheme == "socks4" else socket.AF_UNSPEC
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    return str(infos[0][4][0])


class SocksExchange:
    """A SOCKS tunnel's opening, without I/O: SOCKS 4 and 4a (the protocol
    notes; 4a sends the name) and SOCKS 5 (RFC 1928) with username and
    password authentication (RFC 1929).

    The caller sends :meth:`output`, then gives the proxy's bytes to
    :meth:`feed` until it returns True, sending :meth:`output` again after
    each call (SOCKS 5 answers in several steps).  Reading only what each
    step needs keeps the deadline the caller's: a proxy that drips its
    reply is bounded by the caller's ``timeout``, not by one per read.

    Raises (from the constructor): ProxyError for an address of the wrong
    kind for ``socks4`` or a user name, password or host name too long
    for the protocol.
    """

    def __init__(self, proxy: ProxySpec, address: str, port: int) -> None:
        self.proxy = proxy
        self._buf = bytearray()
        self._out = bytearray()
        self.rest = b""
        self._step: Callable[[], bool | None]
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if proxy.scheme.startswith("socks4"):
            user = self._field("user id", proxy.username or "", 1 << 16, 0)
            if ip is None:  # socks4a: 0.0.0.x, then the name after the user id
                name = self._field("host name", address, 1 << 16)
                self._out += b"\x04\x01" + port.to_bytes(2, "big") + b"\0\0\0\x01" + user + b"\0" + name + b"\0"
            elif ip.version == 4:
                self._out += b"\x04\x01" + port.to_bytes(2, "big") + ip.packed + user + b"\0"
            else:
                raise ProxyError(f"SOCKS 4 cannot reach the IPv6 address {address}: use socks5://", proxy.url)
            self._step = self._socks4_reply
            return
        if ip is not None:
            target = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
        else:
            name = self._field("host name", address, 256)
            target = b"\x03" + bytes([len(name)]) + name
        self._request = b"\x05\x01\x00" + target + port.to_bytes(2, "big")
        if proxy.username is not None:
            user = self._field("user name", proxy.username, 256)
            password = self._field("password", proxy.password or "", 256, 0)
            self._auth = b"\x01" + bytes([len(user)]) + user + bytes([len(password)]) + password
            self._out += b"\x05\x02\x00\x02"  # no authentication, or RFC 1929's
        else:
            self._auth = b""
            self._out += b"\x05\x01\x00"
        self._step = self._socks5_method

    def _field(self, what: str, value: str, limit: int, least: int = 1) -> bytes:
        data = value.encode("utf-8")
        if not least <= len(data) < limit:
            shown = "" if what == "password" else f" {value[:64]!r}"
            raise ProxyError(f"SOCKS {what}{shown} must be {least} to {limit - 1} bytes", self.proxy.url)
        if b"\0" in data and self.proxy.scheme.startswith("socks4"):
            raise ProxyError(f"SOCKS 4 {what} {value[:64]!r} contains a NUL byte", self.proxy.url)
        return data

    def output(self) -> bytes:
        """The bytes to send to the proxy now (possibly none)."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def feed(self, data: bytes) -> bool:
        """Take the proxy's next bytes; b"" is the proxy closing the
        connection.  True once the tunnel is open; :attr:`rest` then holds
        bytes that came after the reply.

        Raises:
            ProxyError: a refusal, a malformed reply, or the proxy closing
                first.
        """
        if not data:
            raise ProxyError(
                f"connection closed during the SOCKS exchange after {len(self._buf)} bytes of a reply",
                self.proxy.url,
            )
        self._buf += data
        while (done := self._step()) is False:
            pass  # the step sent more and moved on: the next may have its bytes
        if done:
            self.rest = bytes(self._buf)
        return bool(done)

    def _take(self, n: int) -> bytes | None:
        if len(self._buf) < n:
            return None
        head = bytes(self._buf[:n])
        del self._buf[:n]
        return head

    def _error(self, msg: str) -> ProxyError:
        return ProxyError(msg, self.proxy.url)

    def _socks4_reply(self) -> bool | None:
        reply = self._take(8)
        if reply is None:
            return None
        if reply[0] != 0:
            raise self._error(f"not a SOCKS 4 reply: {reply!r}")
        if reply[1] != 90:
            why = _SOCKS4_REPLIES.get(reply[1], "unknown reply code")
            raise self._error(f"SOCKS 4 proxy refused: {why} ({reply[1]})")
        return True

    def _socks5_method(self) -> bool | None:
        reply = self._take(2)
        if reply is None:
            return None
        if reply[0] != 5:
            raise self._error(f"not a SOCKS 5 reply: {reply!r}")
        if reply[1] == 0:
            self._out += self._request
            self._step = self._socks5_reply
        elif reply[1] == 2 and self._auth:
            self._out += self._auth
            self._step = self._socks5_auth
        elif reply[1] == 0xFF:
            raise self._error("SOCKS 5 proxy accepts none of the offered authentication methods"
                              + ("" if self._auth else ": it may need a user name and password"))
        else:
            raise self._error(f"SOCKS 5 proxy chose a method that was not offered: {reply[1]}")
        return False

    def _socks5_auth(self) -> bool | None:
        reply = self._take(2)
        if reply is None:
            return None
        if reply[1] != 0:
            raise self._error(f"SOCKS 5 proxy refused the user name and password (status {reply[1]})")
        self._out += self._request
        self._step = self._socks5_reply
        return False

    def _socks5_reply(self) -> bool | None:
        if len(self._buf) < 5:
            return None
        kind = self._buf[3]
        size = {1: 4, 4: 16, 3: 1 + self._buf[4]}.get(kind)
        if self._buf[0] != 5 or size is None:
            raise self._error(f"not a SOCKS 5 reply: {bytes(self._buf[:8])!r}")
        if self._buf[1] != 0:
            code = self._buf[1]
            raise self._error(f"SOCKS 5 proxy refused: {_SOCKS5_REPLIES.get(code, 'unknown reply code')} ({code})")
        reply = self._take(4 + size + 2)
        if reply is None:
            return None
        if kind == 3:
            # RFC 1928 gives no encoding; a name that is not even UTF-8 is
            # a broken reply, not an address.
            try:
                reply[5:-2].decode("utf-8")
            except UnicodeDecodeError:
                raise self._error(f"SOCKS proxy replied with an address that is not UTF-8: {reply[5:-2][:64]!r}") from None
        return True
