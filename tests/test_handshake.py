"""Handshake helpers (websocket/_handshake.py), RFC 6455 §4.1 and §1.3."""

from __future__ import annotations

import base64

import pytest

from websocket import (
    HandshakeError,
    build_handshake_request,
    generate_key,
    validate_handshake_response,
)
from websocket._handshake import accept_key, parse_response_head

from .vectors import HANDSHAKE_ACCEPT, HANDSHAKE_KEY, HANDSHAKE_RESPONSE


def test_rfc_1_3_example():
    assert accept_key(HANDSHAKE_KEY) == HANDSHAKE_ACCEPT
    # The RFC's client offered "chat, superchat"; the server chose "chat".
    offered = {"subprotocols": ["chat", "superchat"]}
    assert validate_handshake_response(HANDSHAKE_RESPONSE, HANDSHAKE_KEY, **offered) is True
    assert validate_handshake_response(HANDSHAKE_RESPONSE.encode(), HANDSHAKE_KEY, **offered) is True
    assert validate_handshake_response(HANDSHAKE_RESPONSE + "body", HANDSHAKE_KEY, **offered) is True
    # Offered nothing: a chosen subprotocol fails, as it fails the client.
    assert validate_handshake_response(HANDSHAKE_RESPONSE, HANDSHAKE_KEY) is False


def test_generate_key_is_16_random_bytes():
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(base64.b64decode(k, validate=True)) == 16 for k in keys)


def test_build_request_minimal():
    req = build_handshake_request("example.com", "/chat", HANDSHAKE_KEY)
    lines = req.split("\r\n")
    assert lines[0] == "GET /chat HTTP/1.1"
    assert req.endswith("\r\n\r\n") and req.count("\r\n\r\n") == 1
    for line in [
        "Host: example.com",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {HANDSHAKE_KEY}",
        "Sec-WebSocket-Version: 13",
    ]:
        assert line in lines
    assert any(line.startswith("User-Agent: websocket-fast/") for line in lines)


def test_build_request_options():
    req = build_handshake_request(
        "::1",
        "/x?y=1",
        HANDSHAKE_KEY,
        port=9000,
        headers={"Authorization": "Bearer t", "User-Agent": "me"},
        subprotocols=["chat", "superchat"],
        origin="http://example.com",
        extensions="permessage-deflate; client_max_window_bits",
    )
    lines = req.split("\r\n")
    assert "Host: [::1]:9000" in lines
    assert "Sec-WebSocket-Protocol: chat, superchat" in lines
    assert "Origin: http://example.com" in lines
    assert "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits" in lines
    assert "Authorization: Bearer t" in lines
    assert "User-Agent: me" in lines and sum(line.startswith("User-Agent") for line in lines) == 1
    req = build_handshake_request("h", "/", "k", headers=[("X-A", "1"), ("X-A", "2")])
    assert "X-A: 1\r\nX-A: 2\r\n" in req


@pytest.mark.parametrize(
    "args, kwargs, exc, message",
    [
        (("ex\r\nample.com", "/", "k"), {}, ValueError, "host"),
        (("example.com", "/\nX", "k"), {}, ValueError, "path"),
        (("example.com", "/", "k\r"), {}, ValueError, "key"),
        (("h", "/", "k"), {"headers": {"X": "a\r\nEvil: 1"}}, ValueError, "header 'X'"),
        (("h", "/", "k"), {"headers": {"X\r\n": "a"}}, ValueError, "header name"),
        (("h", "/", "k"), {"headers": {"Bad Name": "a"}}, ValueError, "invalid header name"),
        (("h", "/", "k"), {"headers": {"Sec-WebSocket-Key": "a"}}, ValueError, "set by the handshake"),
        (("h", "/", "k"), {"origin": "o\n"}, ValueError, "origin"),
        (("h", "/", "k"), {"subprotocols": ["a\r\n"]}, ValueError, "subprotocol"),
        (("h", "/", "k"), {"subprotocols": ["a b"]}, ValueError, "invalid subprotocol"),
        (("h", "/", "k"), {"subprotocols": "chat"}, TypeError, "not a str"),
        (("h", "/", "k"), {"extensions": ["x\r\ny"]}, ValueError, "extension"),
        (("h", "/", "k"), {"port": 0}, ValueError, "port 0"),
        (("h", "/", "k"), {"port": "80"}, TypeError, "port"),
        (("h", "nopath", "k"), {}, ValueError, "must start with '/'"),
        ((b"h", "/", "k"), {}, TypeError, "host must be a str"),
        (("h", "/", "k"), {"headers": [("only-one",)]}, TypeError, "pairs"),
        # A tab in the path would let a server split the request line.
        (("h", "/a\tHTTP/1.1", "k"), {}, ValueError, r"path .* contains '\\t'"),
        (("h", "/a\x0bb", "k"), {}, ValueError, "path"),
        (("h", "/", "k"), {"headers": {"X": "a\x7fb"}}, ValueError, r"header 'X' .* contains '\\x7f'"),
        (("h", "/", "k"), {"headers": {"X": "a\x1bb"}}, ValueError, "header 'X'"),
        (("h", "/", "k"), {"headers": {"X": "caf\u00e9"}}, ValueError, r"header 'X' .* contains 'é'"),
        (("h", "/", "k"), {"origin": "https://\u00e9.example"}, ValueError, "origin"),
    ],
)
def test_build_request_rejects(args, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        build_handshake_request(*args, **kwargs)


@pytest.mark.parametrize(
    "response",
    [
        "",
        "garbage",
        "\x00\xff" * 50,
        HANDSHAKE_RESPONSE.replace("101", "200"),
        HANDSHAKE_RESPONSE.replace("Upgrade: websocket\r\n", ""),
        HANDSHAKE_RESPONSE.replace("Upgrade: websocket", "Upgrade: h2c"),
        HANDSHAKE_RESPONSE.replace("Connection: Upgrade", "Connection: close"),
        HANDSHAKE_RESPONSE.replace(HANDSHAKE_ACCEPT, "x" + HANDSHAKE_ACCEPT[1:]),
        HANDSHAKE_RESPONSE.replace("HTTP/1.1", "HTTP/2.0"),
        HANDSHAKE_RESPONSE.replace("HTTP/1.1", "HTTP/1.0"),  # RFC 6455 §4.1 needs 1.1
        HANDSHAKE_RESPONSE.replace("Upgrade: websocket", "Up grade: websocket"),
        "HTTP/1.1 101\r\n\r\n",
        "HTTP/1.1 101 OK\r\nno colon here\r\n\r\n",
        "\u20ac" * 10,
    ],
)
def test_validate_rejects_garbage_without_raising(response):
    assert validate_handshake_response(response, HANDSHAKE_KEY) is False
    assert validate_handshake_response(response, "other") is False


def test_validate_accepts_case_and_token_lists():
    response = HANDSHAKE_RESPONSE.replace("Upgrade: websocket", "UPGRADE: WebSocket").replace(
        "Connection: Upgrade", "connection: keep-alive, upgrade"
    )
    assert validate_handshake_response(response, HANDSHAKE_KEY, subprotocols=["chat"]) is True


def test_header_values_may_hold_tabs():
    request = build_handshake_request("h", "/", "k", headers={"X": "a\tb"})
    assert "X: a\tb\r\n" in request


def test_validate_type_errors():
    with pytest.raises(TypeError):
        validate_handshake_response(None, HANDSHAKE_KEY)
    with pytest.raises(TypeError):
        validate_handshake_response(HANDSHAKE_RESPONSE, None)


def test_parse_response_head():
    status, reason, headers, version = parse_response_head(
        b"HTTP/1.1 404 Not Found\r\nX-A: 1\r\nx-a: 2\r\nContent-Length:  3 \r\n\r\n"
    )
    assert (status, reason, version) == (404, "Not Found", "1.1")
    assert headers == {"x-a": "1, 2", "content-length": "3"}
    with pytest.raises(HandshakeError, match="invalid HTTP status line"):
        parse_response_head(b"HTTP/1.1 abc\r\n\r\n")
