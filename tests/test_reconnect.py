"""reconnecting() (websocket/_reconnect.py) against servers that drop
connections, refuse handshakes, close with a policy code, or are not there
yet."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from websocket import ConnectionClosed, HandshakeError, InvalidURI, reconnecting

from .servers import T, request_key, server_frame, switching_protocols, ws_server


class DroppingServer:
    """Accepts connections; on each, completes the handshake, sends the
    connection's number as a text message and then ``ending`` (a drop by
    default: TCP ends without a close frame)."""

    def __init__(self, ending: bytes = b"", status: int = 101) -> None:
        self.ending = ending
        self.status = status
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.url = f"ws://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.count = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue  # look at self.stop again
            except OSError:
                return
            with conn:
                conn.settimeout(T)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                self.count += 1
                if self.status != 101:
                    conn.sendall(f"HTTP/1.1 {self.status} No\r\nContent-Length: 0\r\n\r\n".encode())
                    continue
                conn.sendall(
                    switching_protocols(request_key(head))
                    + server_frame(1, str(self.count))
                    + self.ending
                )

    def close(self) -> None:
        self.stop = True
        self.thread.join(T)
        self.listener.close()


def test_reconnects_after_each_drop_with_logged_reasons(caplog):
    server = DroppingServer()
    delays: list[float] = []
    got = []
    with caplog.at_level(logging.WARNING, logger="websocket"):
        for ws in reconnecting(server.url, min_delay=0.05, sleep=delays.append, timeout=T):
            try:
                for msg in ws:
                    got.append(msg["data"])
            except ConnectionClosed as exc:
                assert exc.code == 1006
            if len(got) == 3:
                break
    server.close()
    assert got == ["1", "2", "3"]
    assert len(delays) == 2 and all(0 <= d <= 0.05 for d in delays)
    reasons = [r.getMessage() for r in caplog.records if "reconnecting in" in r.getMessage()]
    assert len(reasons) == 2 and "1006" in reasons[0]


def test_backoff_grows_while_the_server_is_away_then_connects():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    holder.close()  # nothing listens here: connections are refused
    delays: list[float] = []
    server: list[DroppingServer] = []

    def sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 5:  # the server comes up on that port
            dropping = DroppingServer.__new__(DroppingServer)
            dropping.ending, dropping.status, dropping.count, dropping.stop = b"", 101, 0, False
            dropping.listener = socket.create_server(("127.0.0.1", port))
            dropping.listener.settimeout(0.05)
            dropping.url = f"ws://127.0.0.1:{port}/"
            dropping.thread = threading.Thread(target=dropping._run, daemon=True)
            dropping.thread.start()
            server.append(dropping)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("random.uniform", lambda low, high: high)  # no jitter: the bound itself
        for ws in reconnecting(f"ws://127.0.0.1:{port}/", min_delay=0.1, max_delay=0.5, factor=2.0,
                               sleep=sleep, timeout=T):
            assert ws.receive(timeout=T)["data"] == "1"
            break
    server[0].close()
    assert delays == [0.1, 0.2, 0.4, 0.5, 0.5]


def test_jitter_stays_within_the_bound():
    delays: list[float] = []
    with pytest.raises(ConnectionRefusedError):
        for _ in reconnecting("ws://127.0.0.1:9/", min_delay=1.0, max_delay=8.0, max_attempts=6,
                              sleep=delays.append, timeout=T):
            pass
    bounds = [1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(delays) == 5 and all(0 <= d <= b for d, b in zip(delays, bounds, strict=True))


@pytest.mark.parametrize("status, retried", [(403, False), (404, False), (429, True), (503, True)])
def test_handshake_refusals(status, retried):
    server = DroppingServer(status=status)
    delays: list[float] = []
    with pytest.raises(HandshakeError) as info:
        for _ in reconnecting(server.url, max_attempts=3, min_delay=0.01, sleep=delays.append, timeout=T):
            pass
    server.close()
    assert info.value.status == status
    assert server.count == (3 if retried else 1)


def test_policy_close_is_not_retried():
    server = DroppingServer(ending=server_frame(8, b"\x03\xf0banned"))
    with pytest.raises(ConnectionClosed) as info:
        for ws in reconnecting(server.url, min_delay=0.01, sleep=lambda d: None, timeout=T):
            for _ in ws:
                pass
    server.close()
    assert info.value.code == 1008 and server.count == 1


def test_normal_close_is_followed_by_a_new_connection():
    with ws_server() as url:
        seen = 0
        for ws in reconnecting(url + "/close?code=1001&reason=restart", min_delay=0.01, sleep=lambda d: None,
                               timeout=T):
            assert list(ws) == []
            seen += 1
            if seen == 2:
                break
        assert ws.ready_state() == "closed"


def test_bad_url_and_options_fail_at_once():
    with pytest.raises(InvalidURI):
        next(reconnecting("http://example.com/"))
    with pytest.raises(ValueError, match="max_delay must be >= 2.0"):
        next(reconnecting("ws://127.0.0.1:9/", min_delay=2.0, max_delay=1.0))
    with pytest.raises(ValueError, match="max_attempts"):
        next(reconnecting("ws://127.0.0.1:9/", max_attempts=0))
    with pytest.raises(TypeError, match="unexpected keyword"):
        next(reconnecting("ws://127.0.0.1:9/", no_such_option=1))
