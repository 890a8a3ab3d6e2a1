"""The opening handshake (RFC 6455 §4.1, §4.2.2, §1.3).

Pure functions: building the client's upgrade request, parsing the server's
response head, and checking it.  The client (``_client.py``) does the I/O.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sys
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._exceptions import HandshakeError

__all__ = [
    "generate_key",
    "accept_key",
    "build_handshake_request",
    "parse_extensions",
    "parse_response_head",
    "validate_handshake_response",
]

#: RFC 6455 §1.3: the GUID concatenated with the key before hashing.
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# RFC 7230 §3.2.6: token = 1*tchar.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# A header value (RFC 7230 §3.2: field-content) may hold visible ASCII,
# space and tab; CR, LF and NUL would split or end the request head, and
# other control characters (VT, ESC, DEL) have no place in it.  Non-ASCII is
# refused too: the request goes out as ASCII.
_BAD_VALUE = re.compile(r"[^\t\x20-\x7e]")
# The request line, Host and the key: visible ASCII only (a tab in the path
# would let a server split the request line: "GET /a\tHTTP/1.1 ...").
_BAD_TOKEN_CHAR = re.compile(r"[^\x21-\x7e]")
# Headers only the handshake sets: a user value would break the upgrade.
_RESERVED = {
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
}

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def generate_key() -> str:
    """Return a fresh Sec-WebSocket-Key: base64 of 16 random bytes.

    RFC 6455 §4.1: "a randomly selected 16-byte value that has been
    base64-encoded"; the bytes come from the OS CSPRNG (``os.urandom``).
    """
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value a server must answer ``key`` with.

    RFC 6455 §4.2.2 step 5.4: base64(SHA-1(key + GUID)).
    """
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def _check_field(what: str, value: object, bad_chars: re.Pattern[str] = _BAD_VALUE) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    bad = bad_chars.search(value)
    if bad:
        raise ValueError(f"{what} {value!r} contains {bad.group()!r}")
    return value


def _header_items(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    result = []
    for item in items:
        try:
            name, value = item
        except (TypeError, ValueError):
            raise TypeError(f"headers must be (name, value) pairs, got {item!r}") from None
        _check_field("header name", name)
        if not _TOKEN.match(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower() in _RESERVED:
            raise ValueError(
                f"header {name!r} is set by the handshake; use the matching option"
            )
        result.append((name, _check_field(f"header {name!r}", value)))
    return result


def _default_user_agent() -> str:
    from . import __version__

    py = "{}.{}".format(*sys.version_info[:2])
    return f"websocket-fast/{__version__} Python/{py}"


def build_handshake_request(
    host: str,
    path: str,
    key: str,
    *,
    port: int | None = None,
    headers: Headers | None = None,
    subprotocols: Sequence[str] | None = None,
    origin: str | None = None,
    extensions: str | Sequence[str] | None = None,
) -> str:
    """Build the client's HTTP/1.1 upgrade request (RFC 6455 §4.1).

    Args:
        host: the server's host name or address (IPv6 without brackets).
        path: the request target, starting with "/".
        key: the Sec-WebSocket-Key, see :func:`generate_key`.
        port: added to the Host header when given (pass None for the
            scheme's default port).
        headers: extra headers, a mapping or (name, value) pairs; a Host or
            User-Agent given here replaces the default one.
        subprotocols: offered in Sec-WebSocket-Protocol, in order.
        origin: sent as the Origin header.
        extensions: offered in Sec-WebSocket-Extensions.

    Returns:
        The complete request head, ending with an empty line.

    Raises:
        TypeError: a field of the wrong type.
        ValueError: a control or non-ASCII character in any field (tab
            is allowed in header values only), an invalid header name or
            subprotocol token, a header the handshake sets itself, a path
            not starting with "/", or a port out of range.
    """
    _check_field("host", host, _BAD_TOKEN_CHAR)
    _check_field("path", path, _BAD_TOKEN_CHAR)
    _check_field("key", key, _BAD_TOKEN_CHAR)
    if not host:
        raise ValueError("host must not be empty")
    if not path.startswith("/"):
        raise ValueError(f"path {path!r} must start with '/'")
    host_header = f"[{host}]" if ":" in host else host
    if port is not None:
        if not isinstance(port, int) or isinstance(port, bool):
            raise TypeError(f"port must be an int, not {type(port).__name__}")
        if not 0 < port < 65536:
            raise ValueError(f"port {port} out of range 1-65535")
        host_header += f":{port}"
    extra = _header_items(headers)
    names = {name.lower() for name, _ in extra}
    lines = [f"GET {path} HTTP/1.1"]
    if "host" not in names:
        lines.append(f"Host: {host_header}")
    lines += [
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {_check_field('origin', origin)}")
    if subprotocols:
        if isinstance(subprotocols, str):
            raise TypeError("subprotocols must be a sequence of str, not a str")
        for proto in subprotocols:
            _check_field("subprotocol", proto)
            if not _TOKEN.match(proto):
                raise ValueError(f"invalid subprotocol {proto!r}")
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
    if extensions:
        if isinstance(extensions, str):
            extensions = [extensions]
        offers = [_check_field("extension", ext) for ext in extensions]
        lines.append("Sec-WebSocket-Extensions: " + ", ".join(offers))
    if "user-agent" not in names:
        lines.append(f"User-Agent: {_default_user_agent()}")
    lines += [f"{name}: {value}" for name, value in extra]
    return "\r\n".join(lines) + "\r\n\r\n"


def parse_response_head(head: bytes) -> tuple[int, str, dict[str, str], str]:
    """Parse an HTTP/1.x response head (status line and headers).

    Args:
        head: the bytes up to and including the empty line (or without it).

    Returns:
        ``(status, reason, headers, version)``; header names are lowercase,
        repeated headers are joined with ", " (RFC 7230 §3.2.2); version is
        "1.0" or "1.1".

    Raises:
        HandshakeError: a malformed status line or header line.
    """
    text = head.decode("iso-8859-1")
    lines = text.split("\r\n")
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise HandshakeError("empty response from server")
    status_line = lines[0]
    match = re.match(r"^HTTP/1\.([01]) ([0-9]{3})(?: (.*))?$", status_line)
    if not match:
        raise HandshakeError(f"invalid HTTP status line {status_line[:80]!r}")
    status = int(match.group(2))
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.match(name):
            raise HandshakeError(f"invalid HTTP header line {line[:80]!r}", status, headers)
        name = name.lower()
        value = value.strip(" \t")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return status, match.group(3) or "", headers, "1." + match.group(1)


# RFC 7230 §3.2.6 quoted-string, with its backslash escapes.
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_TCHARS = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_OWS = re.compile(r"[ \t]*")

Extension = tuple[str, list[tuple[str, "str | None"]]]


def parse_extensions(value: str) -> list[Extension]:
    """Parse a Sec-WebSocket-Extensions value (RFC 6455 §9.1).

    ::

        extension-list = 1#extension
        extension = extension-token *( ";" extension-param )
        extension-param = token [ "=" (token | quoted-string) ]

    Returns:
        ``[(name, [(param, value or None), ...]), ...]`` in order; names and
        parameter names keep their case, quoted values are unescaped.

    Raises:
        HandshakeError: the value does not follow the grammar, or a quoted
            value is not a token once unescaped (§9.1 requires it).
    """
    result: list[Extension] = []
    pos, end = 0, len(value)

    def fail(what: str) -> HandshakeError:
        return HandshakeError(f"invalid Sec-WebSocket-Extensions {value!r}: {what} at offset {pos}")

    def skip_ows() -> None:
        nonlocal pos
        pos = _OWS.match(value, pos).end()  # type: ignore[union-attr]

    def token(what: str) -> str:
        nonlocal pos
        match = _TCHARS.match(value, pos)
        if not match:
            raise fail(f"expected {what}")
        pos = match.end()
        return match.group()

    while True:
        skip_ows()
        if pos < end and value[pos] == ",":  # RFC 7230 §7: empty elements are allowed
            pos += 1
            continue
        if pos >= end:
            break
        name = token("an extension name")
        params: list[tuple[str, str | None]] = []
        skip_ows()
        while pos < end and value[pos] == ";":
            pos += 1
            skip_ows()
            param = token("a parameter name")
            skip_ows()
            arg: str | None = None
            if pos < end and value[pos] == "=":
                pos += 1
                skip_ows()
                quoted = _QUOTED.match(value, pos)
                if quoted:
                    arg = re.sub(r"\\(.)", r"\1", quoted.group(1))
                    if not _TOKEN.match(arg):
                        raise fail(f"quoted value {arg!r} of {param!r} is not a token")
                    pos = quoted.end()
                else:
                    arg = token(f"a value for {param!r}")
                skip_ows()
            params.append((param, arg))
        result.append((name, params))
        if pos < end and value[pos] != ",":
            raise fail(f"unexpected {value[pos]!r}")
    if not result:
        raise HandshakeError(f"empty Sec-WebSocket-Extensions {value!r}")
    return result


def _has_token(value: str | None, token: str) -> bool:
    if value is None:
        return False
    return token in (part.strip().lower() for part in value.split(","))


def check_response(
    status: int,
    headers: Mapping[str, str],
    key: str,
    *,
    version: str = "1.1",
    subprotocols: Sequence[str] = (),
    deflate: Any = None,
) -> tuple[str | None, Any]:
    """Decide whether a parsed response accepts the upgrade (RFC 6455 §4.1).

    The one check both the client and :func:`validate_handshake_response`
    make: status 101 in HTTP/1.1, ``Upgrade: websocket``, ``Connection:
    upgrade``, the right ``Sec-WebSocket-Accept``, no extension unless
    ``deflate`` (the offer's ``DeflateSettings``) was offered and accepts
    the answer, and at most a subprotocol from ``subprotocols``.

    Returns:
        ``(subprotocol or None, the deflate Agreement or None)``.

    Raises:
        HandshakeError: naming the first requirement that fails.
    """
    if status != 101:
        raise HandshakeError(f"server answered HTTP {status}, expected 101", status, headers)
    if version != "1.1":
        # §4.1: "the server's handshake ... MUST be ... an HTTP/1.1" response.
        raise HandshakeError(f"server answered 101 in HTTP/{version}, expected HTTP/1.1", status, headers)
    upgrade = headers.get("upgrade")
    if not _has_token(upgrade, "websocket"):
        raise HandshakeError(f"invalid Upgrade header {upgrade!r}", status, headers)
    connection = headers.get("connection")
    if not _has_token(connection, "upgrade"):
        raise HandshakeError(f"invalid Connection header {connection!r}", status, headers)
    accept = headers.get("sec-websocket-accept")
    if accept != accept_key(key):
        raise HandshakeError(f"wrong Sec-WebSocket-Accept {accept!r}", status, headers)
    extensions = headers.get("sec-websocket-extensions")
    agreement = None
    if extensions is not None:
        # §4.1 step 5: an extension "not present in the client's handshake"
        # MUST fail the connection.
        if deflate is None:
            raise HandshakeError(
                f"server accepted extension {extensions!r} that the client did not offer",
                status,
                headers,
            )
        try:
            agreement = deflate.accept(extensions)
        except HandshakeError as exc:
            exc.status, exc.headers = status, dict(headers)
            raise
    chosen = headers.get("sec-websocket-protocol")
    if chosen is not None and chosen not in subprotocols:
        # §4.1 step 6: likewise for a subprotocol.
        offered = f" ({', '.join(subprotocols)})" if subprotocols else ""
        raise HandshakeError(
            f"server chose subprotocol {chosen!r}, which the client did not offer{offered}",
            status,
            headers,
        )
    return chosen, agreement


def validate_handshake_response(
    response: str | bytes, key: str, *, subprotocols: Sequence[str] = ()
) -> bool:
    """True if ``response`` accepts the handshake made with ``key``.

    The client's own check (:func:`check_response`) for a handshake that
    offered ``subprotocols`` and no extension: status 101 in HTTP/1.1,
    ``Upgrade: websocket``, ``Connection: upgrade``, ``Sec-WebSocket-Accept``
    (RFC 6455 §4.1), no extension and at most one of ``subprotocols`` in the
    answer.  Garbage gives False, never an exception; only arguments of the
    wrong type raise TypeError.
    """
    if isinstance(response, str):
        try:
            response = response.encode("iso-8859-1")
        except UnicodeEncodeError:
            return False
    if not isinstance(response, (bytes, bytearray, memoryview)):
        raise TypeError(f"response must be str or bytes, not {type(response).__name__}")
    if not isinstance(key, str):
        raise TypeError(f"key must be a str, not {type(key).__name__}")
    head = bytes(response).split(b"\r\n\r\n", 1)[0]
    try:
        status, _, headers, version = parse_response_head(head)
        check_response(status, headers, key, version=version, subprotocols=subprotocols)
    except (HandshakeError, UnicodeError):
        return False
    return True


# -- redirects ---------------------------------------------------------------

#: The statuses that send the client elsewhere (RFC 9110 §15.4).
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Request headers dropped when a redirect leads to another host: they carry
#: credentials meant for the first one.
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_REDIRECT_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


def redirect_location(status: int | None, headers: Mapping[str, str]) -> str | None:
    """The Location of a redirect response, or None if it is no redirect.

    RFC 6455 §4.1: "the client MAY handle [a 3xx] by redirecting".
    """
    if status not in REDIRECT_STATUSES:
        return None
    location = headers.get("location", "").strip()
    return location or None


def resolve_redirect(url: str, location: str, status: int | None = None) -> str:
    """The ws:// or wss:// URL a redirect from ``url`` to ``location`` leads
    to: relative references resolved (RFC 3986 §5), http/https mapped to
    ws/wss.

    Raises:
        HandshakeError: a redirect from wss:// to ws:// (a downgrade: it
            would send the request, and its credentials, in clear), to
            another scheme, or to a Location with control characters.
    """
    if _BAD_VALUE.search(location) or " " in location:
        raise HandshakeError(f"redirect to an invalid Location {location!r}", status)
    scheme = url.partition(":")[0].lower()
    # urljoin knows how http URLs resolve, not ws ones.
    base = ("https" if scheme == "wss" else "http") + url[len(scheme) :]
    try:
        target = urllib.parse.urljoin(base, location)
    except ValueError as exc:  # an unclosed IPv6 bracket: "ws://[::1/"
        raise HandshakeError(f"redirect to an invalid Location {location!r}: {exc}", status) from None
    new_scheme = target.partition(":")[0].lower()
    mapped = _REDIRECT_SCHEMES.get(new_scheme)
    if mapped is None:
        raise HandshakeError(f"redirect to {location!r}: scheme {new_scheme!r} is not ws or wss", status)
    if scheme == "wss" and mapped == "ws":
        raise HandshakeError(f"redirect from wss:// to ws:// refused: {location!r}", status)
    target = mapped + target[len(new_scheme) :]
    return target.partition("#")[0]
