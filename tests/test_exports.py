"""The public surface: ``__all__`` is exactly SPEC.md's list, and the
WEBSOCKET_NO_EXTENSIONS switch really picks the implementation."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import websocket

from .conftest import NO_EXTENSIONS

#: The public names of SPEC.md ("Public names"); features added later add
#: their names here and in websocket/__init__.py.
SPEC_NAMES = {
    "WsClient", "connect", "encode_frame", "decode_frame", "build_handshake_request",
    "validate_handshake_response", "generate_key", "encode_close_frame", "parse_close_frame",
    "parse_url", "Opcode", "CloseCode", "WebSocketError", "InvalidURI", "HandshakeError",
    "ProtocolError", "IncompleteFrame", "MessageTooBig", "ConnectionClosed", "WebSocketTimeout",
    # The one-protocol issue: the connection's state enum.
    "State",
    # The connectivity issue: proxy refusals and the reconnecting helper.
    "ProxyError", "reconnecting",
    # Streaming APIs: receive_streaming()'s stream, receive_into()'s error.
    "MessageStream", "BufferTooSmall",
    # The websocket-client drop-in (SPEC: "the websocket-client names").
    "create_connection", "WebSocket", "WebSocketApp", "ABNF", "enableTrace",
    "setdefaulttimeout", "getdefaulttimeout",
    "WebSocketException", "WebSocketBadStatusException", "WebSocketConnectionClosedException",
    "WebSocketProtocolException", "WebSocketProxyException", "WebSocketTimeoutException",
    "WebSocketPayloadException", "WebSocketAddressException",
    "STATUS_NORMAL", "STATUS_GOING_AWAY", "STATUS_PROTOCOL_ERROR", "STATUS_UNSUPPORTED_DATA_TYPE",
    "STATUS_STATUS_NOT_AVAILABLE", "STATUS_ABNORMAL_CLOSED", "STATUS_INVALID_PAYLOAD",
    "STATUS_POLICY_VIOLATION", "STATUS_MESSAGE_TOO_BIG", "STATUS_INVALID_EXTENSION",
    "STATUS_UNEXPECTED_CONDITION", "STATUS_SERVICE_RESTART", "STATUS_TRY_AGAIN_LATER",
    "STATUS_BAD_GATEWAY", "STATUS_TLS_HANDSHAKE_ERROR",
    # The rest of websocket-client 1.9's top level (the issue "What users hit today").
    "DEFAULT_SOCKET_OPTION", "sock_opt", "recv", "recv_line", "send", "frame_buffer",
    "continuous_frame", "set_reconnect", "debug", "dump", "error", "trace", "warning",
    "isEnabledForDebug", "isEnabledForError", "isEnabledForTrace",
    # Robustness: a second thread's receive call is refused.
    "ConcurrencyError",
    # Distribution and typing: the message TypedDicts receive() returns.
    "Message", "TextMessage", "TextBytesMessage", "BinaryMessage", "PingMessage", "PongMessage",
    "CloseMessage",
    # The issue "What users hit today" (typing): the helpers' results and
    # the options connect() and reconnecting() pass on.
    "Frame", "CloseInfo", "URLParts", "ClientOptions",
    # Module attributes, in __all__ so that type checkers see them exported.
    "implementation", "__version__",
}


def test_all_is_exactly_the_spec():
    assert set(websocket.__all__) == SPEC_NAMES
    assert len(websocket.__all__) == len(set(websocket.__all__))
    for name in websocket.__all__:
        assert getattr(websocket, name) is not None


def test_module_attributes():
    assert websocket.implementation in ("cython", "python")
    assert isinstance(websocket.__version__, str)


def test_implementation_in_this_run():
    expected = "python" if NO_EXTENSIONS else "cython"
    assert websocket.implementation == expected


@pytest.mark.parametrize("value, expected", [("1", "python"), ("yes", "python"), ("0", "cython"), ("", "cython")])
def test_env_var_switches_implementation(value, expected):
    env = dict(os.environ, WEBSOCKET_NO_EXTENSIONS=value)
    code = (
        "import websocket, websocket._protocol as p, websocket._client as c;"
        " print(websocket.implementation, p.COMPILED, type(c.WsClient('ws://x')._send_lock) if False else"
        " type(p.ClientProtocol().encoder).__module__, p.__file__.endswith('.py'))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    impl, compiled, primitives, from_source = out.stdout.split()
    assert impl == expected
    # Never a mix: the pure run loads _protocol.py from source even beside
    # a compiled build, with the pure primitives.
    assert compiled == str(expected == "cython")
    assert primitives == ("websocket._speedups_py" if expected == "python" else "websocket._speedups")
    assert from_source == str(expected == "python")


def test_exception_hierarchy():
    from websocket import (
        ConnectionClosed,
        HandshakeError,
        IncompleteFrame,
        InvalidURI,
        MessageTooBig,
        ProtocolError,
        WebSocketError,
        WebSocketTimeout,
    )

    for exc in (InvalidURI, HandshakeError, ProtocolError, IncompleteFrame, MessageTooBig,
                ConnectionClosed, WebSocketTimeout):
        assert issubclass(exc, WebSocketError)
    assert issubclass(InvalidURI, ValueError)
    assert issubclass(WebSocketTimeout, TimeoutError)
    from websocket import ConcurrencyError

    assert issubclass(ConcurrencyError, WebSocketError) and issubclass(ConcurrencyError, RuntimeError)
    closed = ConnectionClosed(1001, "going away")
    assert (closed.code, closed.reason) == (1001, "going away")
    assert "1001" in str(closed) and "going away" in str(closed)
    assert "1006" in str(ConnectionClosed())
    err = HandshakeError("bad", 404, {"x": "1"}, b"body")
    assert (err.status, err.headers, err.body) == (404, {"x": "1"}, b"body")
    assert "404" in str(err)


def test_the_reference_documents_every_public_name():
    """docs/api.rst has a directive for each name of ``__all__`` (the
    reference used to miss 25 of them)."""
    import re

    path = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "api.rst")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    documented = set(re.findall(r"^\.\. (?:auto\w+|data|function|class)::\s+(\w+)", text, re.M))
    missing = sorted(set(websocket.__all__) - documented)
    assert not missing, f"public names missing from docs/api.rst: {missing}"
