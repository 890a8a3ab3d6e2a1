"""parse_url (websocket/_url.py), RFC 6455 §3."""

from __future__ import annotations

import pytest

from websocket import InvalidURI, parse_url


@pytest.mark.parametrize(
    "url, expected",
    [
        ("ws://localhost:8080/chat", ("ws", "localhost", 8080, "/chat", False)),
        ("wss://example.com/feed", ("wss", "example.com", 443, "/feed", True)),
        ("ws://example.com", ("ws", "example.com", 80, "/", False)),
        ("WSS://Example.COM:8443/a?b=1&c", ("wss", "example.com", 8443, "/a?b=1&c", True)),
        ("ws://[::1]:9000/", ("ws", "::1", 9000, "/", False)),
        ("ws://[::1]", ("ws", "::1", 80, "/", False)),
        ("ws://127.0.0.1?x=1", ("ws", "127.0.0.1", 80, "/?x=1", False)),
        ("ws://bücher.example/ä", ("ws", "xn--bcher-kva.example", 80, "/%C3%A4", False)),
    ],
)
def test_valid(url, expected):
    parts = parse_url(url)
    assert (parts["scheme"], parts["host"], parts["port"], parts["path"], parts["secure"]) == expected
    assert set(parts) == {"scheme", "host", "port", "path", "secure"}


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://example.com", "scheme must be ws or wss, got 'http'"),
        ("example.com/chat", "scheme must be ws or wss, got none"),
        ("ws://example.com/#frag", "fragments are not allowed"),
        ("ws://example.com#", "fragments are not allowed"),
        ("ws:///path", "no host"),
        ("ws://:80/", "no host"),
        ("ws://example.com:99999/", "port out of range"),
        ("ws://example.com:abc/", "port"),
        ("ws://example.com:0/", "port 0"),
        ("ws://example.com/a b", "forbidden character ' '"),
        ("ws://example.com/\r\nX: y", "forbidden character"),
        ("ws://[::1/", "ipv6"),
        ("ws://[::1]x:99/", "'x:99' after the IPv6 address"),
        ("ws://example.com/\udc80", r"lone surrogate '\\udc80' at index 17"),
        ("", "scheme"),
    ],
)
def test_invalid(url, message):
    with pytest.raises(InvalidURI, match=message) as info:
        parse_url(url)
    assert info.value.uri == url
    assert isinstance(info.value, ValueError)
    assert repr(url) in str(info.value)


def test_type_error():
    with pytest.raises(TypeError):
        parse_url(b"ws://example.com")


@pytest.mark.parametrize(
    "url, username, password",
    [
        ("ws://user:pw@example.com/", "user", "pw"),
        ("wss://us%40er:p%3Aw%20d@example.com:8443/x", "us@er", "p:w d"),
        ("ws://user@example.com/", "user", ""),
        ("ws://:secret@example.com/", "", "secret"),
        ("ws://j%C3%B6rg:%C3%A9@[::1]:9000/", "j\u00f6rg", "\u00e9"),
    ],
)
def test_credentials_are_percent_decoded(url, username, password):
    parts = parse_url(url)
    assert (parts["username"], parts["password"]) == (username, password)
    # The rest is as without credentials.
    assert "@" not in parts["host"]
    assert set(parts) == {"scheme", "host", "port", "path", "secure", "username", "password"}
