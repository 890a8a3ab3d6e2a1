"""WebSocket URIs (RFC 6455 §3).

    ws-URI  = "ws:"  "//" host [ ":" port ] path [ "?" query ]
    wss-URI = "wss:" "//" host [ ":" port ] path [ "?" query ]

"Fragment identifiers are meaningless in the context of WebSocket URIs and
MUST NOT be used on these URIs."
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TypedDict

from ._exceptions import InvalidURI

__all__ = ["parse_url", "URLParts"]

_DEFAULT_PORTS = {"ws": 80, "wss": 443}
# Control characters and spaces would end up in the request line.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
# Characters kept as they are when percent-encoding a non-ASCII path.
_PATH_SAFE = "/?&=;:@!$'()*+,~%[]"


class _URLPartsAlways(TypedDict):
    scheme: str
    host: str
    port: int
    path: str
    secure: bool


class URLParts(_URLPartsAlways, total=False):
    """What :func:`parse_url` returns; ``username`` and ``password`` only
    when the URL has credentials."""

    username: str
    password: str


def parse_url(url: str) -> URLParts:
    """Split a ``ws://`` or ``wss://`` URL into what the client needs.

    Args:
        url: the URL; scheme and host are case-insensitive.

    Returns:
        ``{"scheme", "host", "port", "path", "secure"}``, plus
        ``"username"`` and ``"password"`` (percent-decoded) when the URL
        has credentials (``ws://user:pass@host/``): ``host`` is
        lowercase, IPv6 literals without brackets, non-ASCII names in IDNA
        form; ``port`` defaults to 80 (ws) or 443 (wss); ``path`` is the
        request target with its query, "/" when empty, non-ASCII characters
        percent-encoded; ``secure`` is True for wss.

    Raises:
        TypeError: ``url`` is not a str.
        InvalidURI: another scheme, no host, a fragment, a bad port, or
            spaces or control characters in the URL.
    """
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    bad = _FORBIDDEN.search(url)
    if bad:
        raise InvalidURI(url, f"forbidden character {bad.group()!r}")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidURI(url, f"lone surrogate {url[exc.start]!r} at index {exc.start}") from None
    if "#" in url:
        raise InvalidURI(url, "fragments are not allowed (RFC 6455 §3)")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURI(url, str(exc).lower()) from None
    bracket = parts.netloc.rfind("]")
    if bracket >= 0 and not re.fullmatch(r"(?::[0-9]*)?", parts.netloc[bracket + 1 :]):
        raise InvalidURI(url, f"{parts.netloc[bracket + 1 :]!r} after the IPv6 address")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        shown = repr(parts.scheme) if parts.scheme else "none"
        raise InvalidURI(url, f"scheme must be ws or wss, got {shown}")
    host = parts.hostname
    if not host:
        raise InvalidURI(url, "no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURI(url, f"host {host!r} is not a valid name") from None
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    elif port == 0:
        raise InvalidURI(url, "port 0")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if not path.isascii():
        path = urllib.parse.quote(path, safe=_PATH_SAFE)
    result: URLParts = {
        "scheme": scheme,
        "host": host,
        "port": port,
        "path": path,
        "secure": scheme == "wss",
    }
    if parts.username is not None:
        # RFC 3986 §3.2.1 userinfo, percent-decoded: the client sends it as
        # HTTP Basic authentication (RFC 7617).
        result["username"] = urllib.parse.unquote(parts.username)
        result["password"] = urllib.parse.unquote(parts.password or "")
    return result
