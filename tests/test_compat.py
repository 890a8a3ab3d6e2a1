"""websocket-client's API (websocket/_compat.py) against real servers, as
its documentation describes it: create_connection and WebSocket, ABNF, the
STATUS_* constants, the exception names, enableTrace, default timeouts and
WebSocketApp.run_forever with every callback."""

from __future__ import annotations

import io
import json
import logging
import socket
import struct
import threading
import time

import pytest

import websocket
from websocket import (
    ABNF,
    STATUS_NORMAL,
    WebSocket,
    WebSocketApp,
    WebSocketBadStatusException,
    WebSocketConnectionClosedException,
    WebSocketException,
    WebSocketPayloadException,
    WebSocketProtocolException,
    WebSocketProxyException,
    WebSocketTimeoutException,
    create_connection,
)

from .servers import RawPeer, T, frames_until_eof, server_frame, ws_server


@pytest.fixture(scope="module")
def server():
    with ws_server() as url:
        yield url


# -- create_connection and WebSocket ----------------------------------------


def test_create_connection_send_recv_close(server):
    ws = create_connection(server + "/echo", timeout=T)
    assert ws.connected and ws.getstatus() == 101 and ws.status == 101
    assert ws.getheaders()["upgrade"].lower() == "websocket"
    assert ws.send("Hello, World") == 2 + 4 + 12  # the frame's length on the wire
    assert ws.recv() == "Hello, World"
    ws.send_binary(b"\x00\x01")
    assert ws.recv() == b"\x00\x01"
    ws.send(b"\xff" * 70000, ABNF.OPCODE_BINARY)
    assert ws.recv() == b"\xff" * 70000
    ws.send_text("t")
    ws.send_bytes(b"b")
    assert (ws.recv(), ws.recv()) == ("t", b"b")
    assert isinstance(ws.fileno(), int) and not ws.is_ssl()
    ws.close()
    assert not ws.connected
    with pytest.raises(WebSocketConnectionClosedException):
        ws.recv()
    with pytest.raises(WebSocketConnectionClosedException):
        ws.send("late")


def test_recv_data_and_control_frames(server):
    # /fragments: a text message in 3 fragments with pings between, then a
    # binary one with a ping between.
    ws = create_connection(server + "/fragments", timeout=T)
    assert ws.recv_data() == (ABNF.OPCODE_TEXT, "hello w\u00f6rld".encode())
    opcode, frame = ws.recv_data_frame(control_frame=True)
    assert opcode == ABNF.OPCODE_PING and frame.data == b"p3" and frame.fin == 1
    assert ws.recv_data(True) == (ABNF.OPCODE_BINARY, b"\x00" * 70000 + b"\x01" * 70000)
    ws.ping("are you there")
    assert ws.recv_data(control_frame=True) == (ABNF.OPCODE_PONG, b"are you there")
    ws.pong(b"unsolicited")  # allowed by RFC 6455 §5.5.3
    ws.send("still open")
    assert ws.recv() == "still open"
    ws.close()


def test_recv_returns_empty_string_on_close_then_raises(server):
    ws = create_connection(server + "/close?code=4001&reason=bye", timeout=T)
    assert ws.recv() == ""
    assert not ws.connected
    with pytest.raises(WebSocketConnectionClosedException) as info:
        ws.recv()
    assert info.value.code == 4001


def test_recv_frame_of_a_close(server):
    ws = create_connection(server + "/close?code=1001&reason=away", timeout=T)
    frame = ws.recv_frame()
    assert frame.opcode == ABNF.OPCODE_CLOSE
    assert frame.data == struct.pack("!H", 1001) + b"away"


def test_iteration_yields_messages(server):
    ws = create_connection(server + "/send?n=3&size=2", timeout=T)
    got = []
    for message in ws:
        got.append(message)
        if len(got) == 3:
            break
    assert got == [b"\x00\x00", b"\x01\x01", b"\x02\x02"]
    ws.send("x")
    assert next(ws) == "x"  # __next__, as websocket-client has it
    ws.close()


def test_header_cookie_host_origin_options(server):
    ws = create_connection(
        server + "/headers",
        header=["X-Api-Key: k1", "X-Other:  spaced "],
        cookie="session=abc",
        origin="https://app.example",
        timeout=T,
    )
    seen = json.loads(ws.recv())["headers"]
    assert seen["X-Api-Key"] == "k1" and seen["X-Other"] == "spaced"
    assert seen["Cookie"] == "session=abc" and seen["Origin"] == "https://app.example"
    ws.close()
    ws = create_connection(server + "/headers", header={"X-Dict": "1"}, host="example.test", timeout=T)
    seen = json.loads(ws.recv())["headers"]
    port = server.rsplit(":", 1)[1]
    assert seen["X-Dict"] == "1" and seen["Host"] == "example.test"
    assert seen["Origin"] == f"http://127.0.0.1:{port}"  # websocket-client's default Origin
    ws.close()
    ws = create_connection(server + "/headers", suppress_origin=True, timeout=T)
    assert "Origin" not in json.loads(ws.recv())["headers"]
    ws.close()


def test_subprotocols_and_class_argument(server):
    class Mine(WebSocket):
        pass

    ws = create_connection(server + "/echo", class_=Mine, subprotocols=["chat"], timeout=T)
    assert isinstance(ws, Mine)
    assert ws.getsubprotocol() is None  # the test server selects none
    ws.close()


def test_timeouts_raise_websocket_timeout_exception(server):
    ws = create_connection(server + "/echo", timeout=T)
    ws.settimeout(0.1)
    assert ws.gettimeout() == 0.1 and ws.timeout == 0.1
    start = time.monotonic()
    with pytest.raises(WebSocketTimeoutException):
        ws.recv()
    assert time.monotonic() - start < T
    assert ws.connected  # still usable after a receive timeout
    ws.send("after")
    assert ws.recv() == "after"
    ws.close()


def test_default_timeout(server):
    websocket.setdefaulttimeout(0.1)
    try:
        assert websocket.getdefaulttimeout() == 0.1
        ws = create_connection(server + "/echo")
        assert ws.gettimeout() == 0.1
        with pytest.raises(WebSocketTimeoutException):
            ws.recv()
        ws.close()
    finally:
        websocket.setdefaulttimeout(None)


def test_connect_on_a_websocket_object(server):
    ws = WebSocket()
    assert not ws.connected and ws.sock is None and ws.getstatus() is None
    with pytest.raises(WebSocketConnectionClosedException):
        ws.recv()
    ws.connect(server + "/echo", timeout=T)
    assert ws.sock is not None
    ws.send("x")
    assert ws.recv() == "x"
    ws.shutdown()
    assert not ws.connected


def test_abort_wakes_a_blocked_recv(server):
    ws = create_connection(server + "/echo", timeout=None)
    errors = []

    def reader():
        try:
            ws.recv()
        except WebSocketException as exc:
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.1)
    ws.abort()
    thread.join(T)
    assert not thread.is_alive() and isinstance(errors[0], WebSocketConnectionClosedException)


def test_close_with_status_and_reason():
    def script(peer):
        peer.accept()
        global frames
        frames = frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = create_connection(peer.url, timeout=T)
        ws.close(status=4000, reason=b"done here")
    assert frames[-1]["opcode"] == 8 and frames[-1]["payload"] == struct.pack("!H", 4000) + b"done here"


def test_pre_connected_socket_and_sockopt(server):
    host, port = server.removeprefix("ws://").rsplit(":", 1)
    raw = socket.create_connection((host, int(port)), timeout=T)
    ws = create_connection(server + "/echo", socket=raw, timeout=T)
    ws.send("via socket")
    assert ws.recv() == "via socket"
    ws.close()
    ws = create_connection(server + "/echo", sockopt=((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),), timeout=T)
    assert ws.sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    ws.close()


def test_unknown_options_are_ignored_with_a_warning_naming_them(server):
    """websocket-client ignores options it does not know (its own tests pass
    headers= by mistake) and takes connection= for the Connection header: a
    program that ran there connects here, warned of what was left out."""
    with pytest.warns(UserWarning, match="connection, no_such_option") as caught:
        ws = create_connection(server + "/echo", no_such_option=1, connection="keep-alive, Upgrade", timeout=T)
    assert caught[0].filename == __file__  # the warning points at the caller
    ws.send("still works")
    assert ws.recv() == "still works"
    ws.close()
    ws = WebSocket()
    with pytest.warns(UserWarning, match="headers"):
        ws.connect(server + "/echo", headers={"X": "1"}, timeout=T)
    ws.close()


# -- exceptions: an except written for either library catches ---------------


def test_bad_status_exception(server):
    with pytest.raises(WebSocketBadStatusException) as info:
        create_connection(server + "/refuse?status=403&body=go+away", timeout=T)
    err = info.value
    assert err.status_code == 403 and err.resp_body == b"go away"
    assert "content-length" in err.resp_headers
    assert isinstance(err, websocket.HandshakeError) and isinstance(err, WebSocketException)


def test_exception_names_are_our_classes():
    assert WebSocketException is websocket.WebSocketError
    assert WebSocketConnectionClosedException is websocket.ConnectionClosed
    assert WebSocketTimeoutException is websocket.WebSocketTimeout
    assert WebSocketProxyException is websocket.ProxyError
    assert WebSocketProtocolException is websocket.ProtocolError
    assert issubclass(WebSocketPayloadException, websocket.ProtocolError)
    assert issubclass(websocket.WebSocketAddressException, socket.gaierror)
    assert issubclass(WebSocketTimeoutException, TimeoutError)


def test_address_exception():
    with pytest.raises(websocket.WebSocketAddressException) as info:
        create_connection("ws://no-such-host.invalid/", timeout=T)
    assert "no-such-host.invalid" in str(info.value)


def test_invalid_utf8_is_a_payload_exception():
    def script(peer):
        peer.accept()
        peer.send(server_frame(1, b"\xff\xfe"))
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = create_connection(peer.url, timeout=T)
        with pytest.raises(WebSocketPayloadException) as info:
            ws.recv()
    assert info.value.code == 1007


# -- ABNF and constants --------------------------------------------------------


def test_abnf_frames_encode_and_validate(codec):
    frame = ABNF.create_frame("Hello", ABNF.OPCODE_TEXT)
    decoded = codec.decode_frame(frame.format())
    assert (decoded["opcode"], decoded["payload"], decoded["masked"], decoded["fin"]) == (1, b"Hello", True, True)
    cont = ABNF.create_frame(b"part", ABNF.OPCODE_CONT, 0)
    assert codec.decode_frame(cont.format())["fin"] is False
    unmasked = ABNF(1, 0, 0, 0, ABNF.OPCODE_BINARY, 0, b"\x01")
    assert unmasked.format() == b"\x82\x01\x01"
    assert str(unmasked) == "fin=1 opcode=2 data=b'\\x01'"
    ABNF.create_frame("ok", ABNF.OPCODE_TEXT).validate()
    with pytest.raises(WebSocketProtocolException, match="rsv"):
        ABNF(1, 1, 0, 0, ABNF.OPCODE_TEXT, 1, "x").validate()
    with pytest.raises(WebSocketProtocolException, match="exceeds 125"):
        ABNF.create_frame(b"x" * 126, ABNF.OPCODE_PING).validate()
    with pytest.raises(WebSocketProtocolException, match="UTF-8"):
        ABNF.create_frame(b"\xff", ABNF.OPCODE_TEXT).validate()
    ABNF.create_frame(b"\xff", ABNF.OPCODE_TEXT).validate(skip_utf8_validation=True)
    assert ABNF.OPCODE_MAP[ABNF.OPCODE_PONG] == "pong" and ABNF.LENGTH_16 == 65536


def test_status_constants():
    assert STATUS_NORMAL == 1000
    assert websocket.STATUS_GOING_AWAY == 1001 and websocket.STATUS_PROTOCOL_ERROR == 1002
    assert websocket.STATUS_MESSAGE_TOO_BIG == 1009 and websocket.STATUS_TLS_HANDSHAKE_ERROR == 1015


def test_send_frame(server):
    ws = create_connection(server + "/echo", timeout=T)
    ws.send_frame(ABNF.create_frame("framed", ABNF.OPCODE_TEXT))
    assert ws.recv() == "framed"
    with pytest.raises(ValueError, match="fragmented frames cannot be sent"):
        ws.send_frame(ABNF.create_frame("part", ABNF.OPCODE_TEXT, 0))
    ws.close()


# -- enableTrace ---------------------------------------------------------------


def test_enable_trace_logs_handshake_and_frames(server):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    websocket.enableTrace(True, handler)
    try:
        ws = create_connection(server + "/echo", timeout=T)
        ws.send("traced")
        ws.recv()
        ws.close()
    finally:
        websocket.enableTrace(False)
        logging.getLogger("websocket").removeHandler(handler)
        logging.getLogger("websocket").setLevel(logging.NOTSET)
    text = out.getvalue()
    assert "--- request header ---" in text and "GET /echo HTTP/1.1" in text
    assert "--- response header ---" in text and "101" in text
    assert "++Sent decoded: fin=1 opcode=1 data='traced'" in text
    assert "++Rcv decoded:" in text and "traced" in text


# -- WebSocketApp --------------------------------------------------------------


def test_run_forever_with_every_callback(server):
    events = []

    def on_open(app):
        events.append("open")
        app.send("one")
        app.send(b"two", ABNF.OPCODE_BINARY)
        app.sock.ping("p")

    def on_message(app, message):
        events.append(("message", message))
        if message == b"two":
            app.close(status=STATUS_NORMAL, reason=b"enough")

    app = WebSocketApp(
        server + "/echo",
        on_open=on_open,
        on_message=on_message,
        on_data=lambda app, data, kind, fin: events.append(("data", kind, fin)),
        on_pong=lambda app, data: events.append(("pong", data)),
        on_close=lambda app, code, reason: events.append(("close", code, reason)),
        on_error=lambda app, error: events.append(("error", error)),
    )
    assert app.run_forever() is False
    assert events[0] == "open"
    assert ("message", "one") in events and ("message", b"two") in events
    assert ("data", ABNF.OPCODE_TEXT, True) in events
    assert events[-1] == ("close", 1000, "enough")  # the server echoes our close
    assert not any(e[0] == "error" for e in events if isinstance(e, tuple))


def test_run_forever_on_ping_and_server_close(server):
    events = []
    app = WebSocketApp(
        server + "/fragments",
        on_ping=lambda app, data: events.append(("ping", data)),
        on_message=lambda app, m: app.close() if isinstance(m, bytes) else None,
        on_close=lambda app, code, reason: events.append(("close", code)),
    )
    app.run_forever()
    assert [e for e in events if e[0] == "ping"] == [("ping", b"p1"), ("ping", b"p2"), ("ping", b"p3")]
    app2_events = []
    app2 = WebSocketApp(
        server + "/close?code=4002&reason=go",
        on_close=lambda app, code, reason: app2_events.append((code, reason)),
    )
    assert app2.run_forever() is False
    assert app2_events == [(4002, "go")]


def test_run_forever_pings_and_times_out_without_pong():
    def script(peer):
        peer.accept()
        frames_until_eof(peer, answer_close=False)  # never pongs

    errors, closes = [], []
    with RawPeer(script) as peer:
        app = WebSocketApp(
            peer.url,
            on_error=lambda app, e: errors.append(e),
            on_close=lambda app, code, reason: closes.append(code),
        )
        start = time.monotonic()
        assert app.run_forever(ping_interval=0.2, ping_timeout=0.1) is True
        assert time.monotonic() - start < T
    assert isinstance(errors[0], WebSocketTimeoutException) and "ping/pong timed out" in str(errors[0])
    assert closes == [None]


def test_run_forever_sends_pings_that_are_answered(server):
    pongs = []

    def on_pong(app, data):
        pongs.append(data)
        if len(pongs) == 2:
            app.close()

    app = WebSocketApp(server + "/echo", on_pong=on_pong)
    assert app.run_forever(ping_interval=0.1, ping_timeout=0.05, ping_payload="hb") is False
    assert pongs == [b"hb", b"hb"]
    assert app.last_pong_tm >= app.last_ping_tm > 0


def test_run_forever_reconnects_after_a_drop():
    from .test_reconnect import DroppingServer

    server = DroppingServer()
    events = []

    def on_message(app, message):
        events.append(message)
        if message == "3":
            app.close()

    app = WebSocketApp(
        server.url,
        on_open=lambda app: events.append("open"),
        on_reconnect=lambda app: events.append("reconnect"),
        on_message=on_message,
        on_error=lambda app, e: events.append(type(e).__name__),
    )
    app.run_forever(reconnect=0.01)
    server.close()
    assert events[:2] == ["open", "1"]
    assert "reconnect" in events and events[-1] == "3"


def test_run_forever_reports_a_connection_error():
    errors = []
    app = WebSocketApp("ws://127.0.0.1:9/", on_error=lambda app, e: errors.append(e))
    assert app.run_forever() is True
    assert isinstance(errors[0], ConnectionRefusedError)


def test_run_forever_argument_checks(server):
    app = WebSocketApp(server + "/echo")
    with pytest.raises(WebSocketException, match="ping_interval > ping_timeout"):
        app.run_forever(ping_interval=1, ping_timeout=2)
    # websocket-client's checks: these used to be accepted silently.
    with pytest.raises(WebSocketException, match="ping_interval >= 0"):
        app.run_forever(ping_interval=-5)
    for bad in (-3, 0):
        with pytest.raises(WebSocketException, match="ping_timeout > 0"):
            app.run_forever(ping_timeout=bad)
    assert app.sock is None  # nothing was opened
    with pytest.raises(WebSocketConnectionClosedException):
        app.send("not running")


def test_safe_where_websocket_client_is_not(server):
    # Header injection is refused, not sent.
    with pytest.raises(ValueError, match="contains"):
        create_connection(server + "/echo", header=["X-A: 1\r\nX-Injected: yes"], timeout=T)
    with pytest.raises(ValueError, match="contains"):
        create_connection(server + "/echo", cookie="a=1\r\nX-Injected: yes", timeout=T)
    # Redirects follow redirect_limit; max_size is ours to pass.
    ws = create_connection(server + "/redirect?to=%2Fecho", redirect_limit=1, max_size=10, timeout=T)
    ws.send("0123456789")
    assert ws.recv() == "0123456789"
    ws.send("0123456789+")
    with pytest.raises(websocket.MessageTooBig):
        ws.recv()
    with pytest.raises(WebSocketBadStatusException, match="too many redirects"):
        create_connection(server + "/redirect?to=%2Fredirect%3Fto%3D%252Fecho", redirect_limit=1, timeout=T)


@pytest.fixture
def rel_loop():
    """The rel event loop (websocket-client's README uses it), bounded in
    time, with the SIGINT handler it installs put back."""
    import signal

    import rel

    before = signal.getsignal(signal.SIGINT)
    rel.timeout(3 * T, lambda: rel.abort())  # never hang the suite
    yield rel
    signal.signal(signal.SIGINT, before)


def test_run_forever_with_the_rel_dispatcher(server, rel_loop):
    rel = rel_loop
    events = []

    def on_message(app, message):
        events.append(message)
        if message == "b":
            app.close()
            rel.abort()

    app = WebSocketApp(
        server + "/echo",
        on_open=lambda app: (app.send("a"), app.send("b")),
        on_message=on_message,
        on_close=lambda app, code, reason: events.append(("close", code)),
    )
    assert app.run_forever(dispatcher=rel, reconnect=5) is False  # returns at once
    rel.dispatch()  # the caller's loop runs the callbacks
    assert events == ["a", "b", ("close", 1000)]


def test_rel_dispatcher_reconnects_and_pings(rel_loop):
    from .test_reconnect import DroppingServer

    rel = rel_loop
    server = DroppingServer()
    events = []

    def on_message(app, message):
        events.append(message)
        if message == "3":
            app.close()
            rel.abort()

    app = WebSocketApp(
        server.url,
        on_open=lambda app: events.append("open"),
        on_reconnect=lambda app: events.append("reconnect"),
        on_message=on_message,
    )
    app.run_forever(dispatcher=rel, reconnect=0.01, ping_interval=0.5)
    rel.dispatch()
    server.close()
    assert events == ["open", "1", "reconnect", "2", "reconnect", "3"]


def test_proxy_options(server):
    from .proxies import microsocks, tinyproxy

    port = int(server.rsplit(":", 1)[1])
    with tinyproxy(auth=("u", "pw")) as proxy:
        proxy_port = int(proxy.rsplit(":", 1)[1])
        ws = create_connection(
            server + "/echo", http_proxy_host="127.0.0.1", http_proxy_port=proxy_port,
            http_proxy_auth=("u", "pw"), proxy_type="http", timeout=T,
        )
        ws.send("via http proxy")
        assert ws.recv() == "via http proxy"
        ws.close()
        with pytest.raises(WebSocketProxyException) as info:
            create_connection(server + "/echo", http_proxy_host="127.0.0.1", http_proxy_port=proxy_port, timeout=T)
        assert info.value.status == 407
        # http_no_proxy lists hosts reached directly.
        ws = create_connection(
            server + "/echo", http_proxy_host="127.0.0.1", http_proxy_port=proxy_port,
            http_no_proxy=["127.0.0.1"], timeout=T,
        )
        ws.close()
    with microsocks() as (host, socks_port):
        ws = create_connection(
            f"ws://localhost:{port}/echo", http_proxy_host=host, http_proxy_port=socks_port,
            proxy_type="socks5h", timeout=T,
        )
        ws.send(b"via socks")  # bytes with the default opcode: a text frame
        assert ws.recv() == "via socks"
        ws.close()


def test_sslopt(tmp_path):
    import ssl

    import trustme

    from .servers import server_context

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with ws_server(ssl_context=server_context(ca, "127.0.0.1")) as url:
        with pytest.raises(ssl.SSLCertVerificationError):
            create_connection(url + "/echo", timeout=T)
        ws = create_connection(url + "/echo", sslopt={"ca_certs": str(ca_file)}, timeout=T)
        assert ws.is_ssl()
        ws.send("verified")
        assert ws.recv() == "verified"
        ws.close()
        ws = create_connection(url + "/echo", sslopt={"cert_reqs": ssl.CERT_NONE}, timeout=T)
        ws.send("unverified")
        assert ws.recv() == "unverified"
        ws.close()


def test_send_close_then_recv_the_answer():
    def script(peer):
        peer.accept()
        frame = peer.recv_frame()
        assert frame["opcode"] == 8 and frame["payload"] == struct.pack("!H", 1001) + b"away"
        peer.send(server_frame(8, frame["payload"][:2]))
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        ws = create_connection(peer.url, timeout=T)
        ws.send_close(websocket.STATUS_GOING_AWAY, b"away")  # does not wait
        assert ws.recv() == ""  # the server's close
        assert not ws.connected
        ws.close()


def test_recv_from_two_threads_waits_its_turn(server):
    # websocket-client's recv() takes a read lock: a second thread waits
    # (where WsClient.receive() raises ConcurrencyError); both get whole
    # messages, none is split or lost.
    ws = create_connection(f"{server}/echo", timeout=T)
    got: list = []

    def reader():
        got.append(ws.recv())

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.1)  # both are in recv()
    ws.send_binary(b"a" * 70_000)
    ws.send("b")
    for t in threads:
        t.join(T)
        assert not t.is_alive()
    assert sorted(got, key=len) == ["b", b"a" * 70_000]
    ws.close()
