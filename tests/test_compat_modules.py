"""websocket-client's import paths and the rest of its top level:
``websocket._abnf``, ``_app``, ``_core``, ``_exceptions``, ``_logging``,
``_socket`` (the thin modules of the same names), on the build in use; the
frame readers against real frames through a socket pair."""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading

import pytest

import websocket
from websocket import ABNF, WebSocketApp, encode_frame

from .servers import T, ws_server

#: websocket-client 1.9's modules and what programs import from them.
PATHS = {
    "websocket._abnf": ["ABNF", "frame_buffer", "continuous_frame", "STATUS_NORMAL", "STATUS_TLS_HANDSHAKE_ERROR"],
    "websocket._app": ["WebSocketApp", "setReconnect"],
    "websocket._core": ["WebSocket", "create_connection", "setdefaulttimeout", "getdefaulttimeout"],
    "websocket._exceptions": [
        "WebSocketException", "WebSocketProtocolException", "WebSocketPayloadException",
        "WebSocketConnectionClosedException", "WebSocketTimeoutException", "WebSocketProxyException",
        "WebSocketBadStatusException", "WebSocketAddressException",
    ],
    "websocket._logging": [
        "enableTrace", "dump", "error", "warning", "debug", "info", "trace",
        "isEnabledForError", "isEnabledForDebug", "isEnabledForTrace",
    ],
    "websocket._socket": [
        "DEFAULT_SOCKET_OPTION", "sock_opt", "setdefaulttimeout", "getdefaulttimeout", "recv", "recv_line", "send",
    ],
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_websocket_client_import_paths(path):
    module = importlib.import_module(path)
    for name in PATHS[path]:
        value = getattr(module, name)
        if hasattr(websocket, name):
            assert value is getattr(websocket, name), f"{path}.{name} is not websocket.{name}"
    # Our own names stay where they were.
    assert websocket._exceptions.WebSocketError is websocket.WebSocketError


def test_exception_names_at_their_path_are_our_classes():
    from websocket._exceptions import (
        WebSocketConnectionClosedException,
        WebSocketException,
        WebSocketTimeoutException,
    )

    assert WebSocketException is websocket.WebSocketError
    assert WebSocketConnectionClosedException is websocket.ConnectionClosed
    assert issubclass(WebSocketTimeoutException, TimeoutError)


# -- ABNF ----------------------------------------------------------------------


def test_abnf_mask_is_its_own_inverse():
    key, data = os.urandom(4), os.urandom(1001)
    masked = ABNF.mask(key, data)
    assert masked == bytes(b ^ key[i % 4] for i, b in enumerate(data))
    assert ABNF.mask(key, masked) == data
    assert ABNF.mask("abcd", "é") == bytes(b ^ k for b, k in zip("é".encode(), b"ab", strict=True))
    assert ABNF.mask(b"\0\0\0\0", b"") == b""
    with pytest.raises(ValueError, match="mask_key must be 4 bytes, got 3"):
        ABNF.mask(b"abc", b"x")


def test_abnf_keeps_a_str_payload_and_checks_its_bits():
    frame = ABNF.create_frame("héllo", ABNF.OPCODE_TEXT)
    assert frame.data == "héllo"  # as given, as websocket-client keeps it
    assert websocket.decode_frame(frame.format())["payload"] == "héllo".encode()
    for name in ("fin", "rsv1", "rsv2", "rsv3"):
        bad = ABNF(**{"fin": 1, name: 2}, data=b"x")
        with pytest.raises(ValueError, match=f"{name} must be 0 or 1, got 2"):
            bad.format()
    with pytest.raises(ValueError, match="invalid opcode 3"):
        ABNF(1, opcode=3).format()


def test_set_mask_key_is_accepted_and_ignored():
    with ws_server() as url:
        ws = websocket.WebSocket()
        ws.set_mask_key(lambda n: b"\0" * n)  # would unmask nothing: ignored
        ws.connect(url + "/echo", timeout=T)
        ws.send("masked all the same")
        assert ws.recv() == "masked all the same"
        ws.close()


# -- frame_buffer and continuous_frame --------------------------------------------


def reader(data: bytes, chunk: int = 3):
    """A recv_fn giving ``data`` ``chunk`` bytes at a time, then b"" (EOF)."""
    view = memoryview(data)

    def recv(n: int) -> bytes:
        nonlocal view
        piece, view = bytes(view[: min(n, chunk)]), view[min(n, chunk) :]
        return piece

    return recv


def test_frame_buffer_reads_frames_of_every_size_in_small_pieces():
    payloads = [b"", b"a", os.urandom(125), os.urandom(126), os.urandom(70_000)]
    wire = b"".join(encode_frame(2, p, masked=bool(i % 2)) for i, p in enumerate(payloads))
    frames = websocket.frame_buffer(reader(wire, 7), False)
    for i, payload in enumerate(payloads):
        frame = frames.recv_frame()
        assert (frame.opcode, frame.fin, frame.mask_value, frame.data) == (2, 1, i % 2, payload)
    with pytest.raises(websocket.WebSocketProtocolException, match="the stream ended inside a frame"):
        frames.recv_frame()


def test_frame_buffer_checks_what_it_reads():
    bad_utf8 = encode_frame(1, b"\xff", masked=False)
    with pytest.raises(websocket.WebSocketProtocolException, match="UTF-8"):
        websocket.frame_buffer(reader(bad_utf8), False).recv_frame()
    assert websocket.frame_buffer(reader(bad_utf8), True).recv_frame().data == b"\xff"
    reserved = bytes([0x83, 0x00])  # opcode 3
    with pytest.raises(websocket.WebSocketProtocolException, match="0x3"):
        websocket.frame_buffer(reader(reserved), False).recv_frame()
    frames = websocket.frame_buffer(reader(encode_frame(2, b"abcdef", masked=False) + b"rest"), False)
    assert frames.recv_strict(2) == b"\x82\x06" and frames.recv_strict(6) == b"abcdef"


def test_continuous_frame_joins_fragments_and_checks_the_text():
    wire = (
        encode_frame(1, "hé".encode()[:2], masked=False, fin=False)
        + encode_frame(0, "hé".encode()[2:] + b" there", masked=False)
    )
    frames = websocket.frame_buffer(reader(wire), False)
    joined = websocket.continuous_frame(False, False)
    results = []
    for _ in range(2):
        frame = frames.recv_frame()
        joined.validate(frame)
        joined.add(frame)
        if joined.is_fire(frame):
            results.append(joined.extract(frame))
    assert [(op, f.data) for op, f in results] == [(1, "hé there".encode())]
    with pytest.raises(websocket.WebSocketProtocolException, match="no message begun"):
        websocket.continuous_frame(False, False).validate(ABNF(1, opcode=ABNF.OPCODE_CONT))
    started = websocket.continuous_frame(False, False)
    started.add(ABNF(0, opcode=ABNF.OPCODE_TEXT, data=b"a"))
    with pytest.raises(websocket.WebSocketProtocolException, match="began before the last one ended"):
        started.validate(ABNF(1, opcode=ABNF.OPCODE_BINARY))
    broken = websocket.continuous_frame(False, False)
    frame = ABNF(1, opcode=ABNF.OPCODE_TEXT, data=b"\xc3")
    broken.add(frame)
    with pytest.raises(websocket.WebSocketPayloadException, match="invalid UTF-8"):
        broken.extract(frame)
    every = websocket.continuous_frame(True, False)  # fire_cont_frame: each piece
    assert every.is_fire(ABNF(0, opcode=ABNF.OPCODE_TEXT, data=b"x"))


# -- socket helpers ------------------------------------------------------------


def test_socket_helpers_on_a_socket_pair():
    a, b = socket.socketpair()
    with a, b:
        assert websocket.send(a, "line one\nline two\n") == 18
        assert websocket.recv_line(b) == b"line one\n"
        assert websocket.recv(b, 100) == b"line two\n"
        b.settimeout(0.05)
        with pytest.raises(websocket.WebSocketTimeoutException, match="timed out"):
            websocket.recv(b, 1)
        a.shutdown(socket.SHUT_WR)
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            websocket.recv(b, 1)
    for call in (lambda: websocket.recv(None, 1), lambda: websocket.send(None, b"x")):
        with pytest.raises(websocket.WebSocketConnectionClosedException):
            call()
    options = websocket.sock_opt(None, None)
    assert (options.sockopt, options.sslopt, options.timeout) == ([], {}, None)
    assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in websocket.DEFAULT_SOCKET_OPTION
    # websocket-client's default options are valid socket options here.
    with ws_server() as url:
        ws = websocket.create_connection(url + "/echo", sockopt=websocket.DEFAULT_SOCKET_OPTION, timeout=T)
        assert ws.sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        ws.close()


# -- logging and reconnect ----------------------------------------------------------


def test_logging_helpers_follow_enable_trace(caplog):
    caplog.set_level(logging.DEBUG, logger="websocket")
    websocket.enableTrace(False)
    assert websocket.isEnabledForTrace() is False
    websocket.trace("hidden")
    websocket.dump("title", "hidden too")
    websocket.warning("a warning")
    websocket.error("an error")
    websocket.debug("a debug line")
    assert websocket.isEnabledForDebug() and websocket.isEnabledForError()
    websocket.enableTrace(True, handler=logging.NullHandler())
    try:
        assert websocket.isEnabledForTrace() is True
        websocket.trace("shown")
        websocket.dump("title", "body")
    finally:
        websocket.enableTrace(False)
    text = caplog.text
    assert "hidden" not in text
    assert "a warning" in text and "an error" in text and "a debug line" in text
    assert "shown" in text and "--- title ---\nbody" in text


def test_set_reconnect_is_run_forevers_default():
    """set_reconnect(seconds): run_forever() given no reconnect= retries a
    failed connection after that delay (without it, it gives up at once)."""
    from websocket._app import setReconnect

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens: every attempt is refused
    errors: list[BaseException] = []

    def on_error(app, exc):
        errors.append(exc)
        if len(errors) == 3:
            threading.Thread(target=app.close).start()

    websocket.set_reconnect(0.01)
    try:
        app = WebSocketApp(f"ws://127.0.0.1:{port}/", on_error=on_error)
        assert app.run_forever() is True
    finally:
        setReconnect(0)
    assert len(errors) >= 3 and all(isinstance(e, ConnectionRefusedError) for e in errors)
    errors.clear()
    app = WebSocketApp(f"ws://127.0.0.1:{port}/", on_error=on_error)
    assert app.run_forever() is True and len(errors) == 1  # the default again: no retry
