"""``python -m websocket``: the interactive client, driven through a real
pseudo-terminal (pexpect) against the websockets server on 127.0.0.1, and
through pipes where a script would use it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pexpect
import pytest
import trustme

from .proxies import tinyproxy
from .servers import (
    RawPeer,
    T,
    aiohttp_server,
    frames_until_eof,
    server_context,
    server_frame,
    ws_server,
)

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(sys.platform == "win32", reason="pexpect drives a POSIX pseudo-terminal"),
]


def spawn(*args: str) -> pexpect.spawn:
    env = dict(os.environ, PYTHONUNBUFFERED="1", TERM="dumb")
    child = pexpect.spawn(
        sys.executable, ["-m", "websocket", *args], env=env, encoding="utf-8", timeout=T
    )
    child.setecho(False)
    return child


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "websocket", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=4 * T,
    )


def test_lines_typed_are_sent_and_echoes_printed_then_ctrl_d_closes():
    with ws_server() as url:
        child = spawn(f"{url}/echo")
        child.expect(f"connected to {url}/echo; Ctrl-D or Ctrl-C to close")
        child.expect("> ")
        child.sendline("hello there")
        child.expect("< hello there\r\n")
        child.sendline("caf\u00e9 \u2603")
        child.expect("< caf\u00e9 \u2603\r\n")
        child.sendeof()  # Ctrl-D
        child.expect(r"< \(close 1000 ''\)")  # the server's answer to our close
        child.expect("closed")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0


def test_ctrl_c_closes_with_the_closing_handshake():
    with ws_server() as url:
        child = spawn(f"{url}/echo")
        child.expect("> ")
        child.sendintr()  # Ctrl-C
        child.expect(r"< \(close 1000 ''\)")
        child.expect("closed")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0


def test_the_servers_close_is_shown_even_when_close_read_it_first():
    # Ctrl-C before the receiving thread started its receive(): close() in
    # the main thread takes the server's close frame, and the receiver gets
    # ConnectionClosed.  The session prints the same line as when the
    # receiver took the frame itself.
    import argparse
    import io

    from websocket import WsClient
    from websocket._cli import _Session

    with ws_server() as url:
        ws = WsClient(f"{url}/echo", timeout=T)
        out = io.StringIO()
        session = _Session(ws, argparse.Namespace(hex=False, binary=False), out)
        session.closing = True
        ws.close()
        session.receive_loop()
    assert out.getvalue() == "< (close 1000 '')\n"
    assert session.clean


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_the_receiver_repeats_its_wake_up_until_the_main_thread_is_out():
    # A single SIGINT that lands just before input() blocks is only seen
    # when a line comes: the session hung after the server closed.  The
    # receiver signals again until the main thread says it is out.
    import argparse
    import io
    import threading

    from websocket import WsClient
    from websocket._cli import _Session

    seen = threading.Semaphore(0)
    previous = signal.signal(signal.SIGINT, lambda *_: seen.release())
    try:
        with ws_server() as url:
            ws = WsClient(f"{url}/close?code=1000", timeout=T)
            session = _Session(ws, argparse.Namespace(hex=False, binary=False), io.StringIO())
            receiver = threading.Thread(target=session.receive_loop)
            receiver.start()
            for _ in range(3):  # a first signal, then repeats
                assert seen.acquire(timeout=T)
            assert receiver.is_alive()
            session.woken.set()
            receiver.join(T)
            assert not receiver.is_alive()
            assert session.ended == "the server closed the connection"
    finally:
        signal.signal(signal.SIGINT, previous)


def test_binary_hex_headers_and_subprotocol():
    with ws_server(subprotocols=["chat.v2"]) as url:
        child = spawn(
            f"{url}/headers",
            "--binary",
            "--hex",
            "-H",
            "X-Token: abc 123",
            "--subprotocol",
            "chat.v2",
        )
        child.expect(r"connected to .*/headers \(subprotocol chat.v2\)")
        child.expect('"X-Token": "abc 123"')
        child.sendline("00 ff 10")
        child.expect(r"< \(binary, 3 B\) 00 ff 10\r\n")
        child.sendline("not hex")
        child.expect("! not hex: 'not hex'")
        child.sendeof()
        child.expect("closed")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0


def test_compression_is_negotiated():
    with ws_server() as url:
        child = spawn(f"{url}/echo", "--compression", "deflate")
        child.expect(r"\(compression deflate\)")
        child.sendline("x" * 1000)
        child.expect("< " + "x" * 1000)
        child.sendeof()
        child.expect(pexpect.EOF)


def test_the_server_closing_ends_the_session_with_its_code():
    with ws_server() as url:
        child = spawn(f"{url}/close?code=1000&reason=bye")
        child.expect(r"< \(close 1000 'bye'\)")
        child.expect("! the server closed the connection")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        child = spawn(f"{url}/close?code=4000&reason=go+away")
        child.expect(r"< \(close 4000 'go away'\)")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 1


def test_pings_and_binary_repr_from_a_scripted_server():
    def script(peer: RawPeer) -> None:
        peer.accept()
        peer.send(server_frame(0x9, b"are you there"))
        peer.send(server_frame(0x2, b"\x00\x01abc"))
        frames_until_eof(peer)

    with RawPeer(script) as peer:
        child = spawn(peer.url)
        child.expect(r"< \(ping\) b'are you there'")
        child.expect(r"< \(binary, 5 B\) b'\\x00\\x01abc'")
        child.sendeof()
        child.expect(pexpect.EOF)


def test_verbose_traces_connection_events_and_frames():
    with ws_server() as url:
        child = spawn(f"{url}/echo", "-vv")
        child.expect("websocket DEBUG connecting to 127.0.0.1")
        child.expect("websocket INFO connected to")
        child.sendline("traced")
        child.expect(r"websocket.frames DEBUG .* > TEXT 6 B 'traced'")
        child.expect(r"websocket.frames DEBUG .* < TEXT 6 B 'traced'")
        child.sendeof()
        child.expect(r"> CLOSE 2 B")
        child.expect(pexpect.EOF)


def test_insecure_accepts_a_self_signed_server_that_is_refused_otherwise():
    ca = trustme.CA()  # not in the default trust store
    with ws_server(ssl_context=server_context(ca, "127.0.0.1")) as url:
        done = run(f"{url}/echo", "--timeout", str(T))
        assert done.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in done.stderr, done.stderr
        done = run(f"{url}/echo", "--insecure", stdin="over tls\n")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"connected to {url}/echo")


def test_proxy_and_no_proxy():
    with ws_server() as url, tinyproxy(connect_ports=[443]) as refusing:
        # This proxy refuses our port: the error shows the proxy was used.
        done = run(f"{url}/echo", "--proxy", refusing)
        assert done.returncode == 1 and "403" in done.stderr, done.stderr
        with tinyproxy() as proxy:
            done = run(f"{url}/headers", "--proxy", proxy, "-v", stdin="")
            assert done.returncode == 0, done.stderr
            assert f"through proxy {proxy}" in done.stderr
        # The environment's proxy is used, unless --no-proxy.
        def with_env_proxy(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "websocket", f"{url}/echo", *args],
                input="",
                capture_output=True,
                text=True,
                timeout=4 * T,
                env=dict(os.environ, HTTP_PROXY=refusing, NO_PROXY=""),
            )

        assert with_env_proxy().returncode == 1
        done = with_env_proxy("--no-proxy")
        assert done.returncode == 0, done.stderr


def slow_echo(peer: RawPeer) -> None:
    """Echo each message 50 ms late, and answer the close after them."""
    peer.accept()
    while (frame := peer.recv_frame()) != {}:
        time.sleep(0.05)
        peer.send(server_frame(frame["opcode"], frame["payload"][:2] if frame["opcode"] == 8 else frame["payload"]))
        if frame["opcode"] == 8:
            break


@pytest.mark.parametrize("server", ["aiohttp", "slow echo"])
def test_piped_input_prints_every_reply_before_the_close(server):
    """At the end of piped input the close frame goes out, and every echo
    that arrives before the server's close is printed (close() alone used
    to discard the ones still on their way: 7 runs in 10 lost some).  The
    servers here answer every message before the close (the websockets
    server answers a close at once, ahead of echoes its handler has not
    sent yet: those never come)."""
    for _ in range(3):
        if server == "aiohttp":
            with aiohttp_server() as base:
                url = f"{base}/echo"
                done = run(url, stdin="one\ntwo\nthree\n")
        else:
            with RawPeer(slow_echo) as peer:
                url = peer.url
                done = run(url, stdin="one\ntwo\nthree\n")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == f"connected to {url}; Ctrl-D or Ctrl-C to close"
        assert lines[1:] == ["< one", "< two", "< three", "< (close 1000 '')", "closed"], lines


def test_replies_go_above_the_prompt_on_a_terminal():
    """On an ANSI terminal a message that arrives while the user types is
    inserted above the prompt line, which keeps what was typed: no "> <
    hello" collision, and the prompt is there for the next line."""
    pyte = pytest.importorskip("pyte")  # a [test] dependency
    go = threading.Event()

    def script(peer):
        peer.accept()
        assert peer.recv_frame()["payload"] == b"first"
        assert go.wait(T)
        peer.send(server_frame(1, b"news"))
        assert peer.recv_frame()["payload"] == b"partial"
        frames_until_eof(peer)

    screen = pyte.Screen(80, 24)
    stream = pyte.Stream(screen)

    def shown() -> list[str]:
        try:
            while True:
                stream.feed(child.read_nonblocking(4096, timeout=0.2))
        except (pexpect.TIMEOUT, pexpect.EOF):
            pass
        return [line.rstrip() for line in screen.display if line.strip()]

    with RawPeer(script) as peer:
        env = dict(os.environ, PYTHONUNBUFFERED="1", TERM="xterm")
        child = pexpect.spawn(sys.executable, ["-m", "websocket", peer.url], env=env, encoding="utf-8", timeout=T, dimensions=(24, 80))
        child.expect("> ")
        stream.feed(child.before + child.after)
        child.sendline("first")
        child.send("par")  # typed, not yet sent
        deadline = time.monotonic() + T
        while "> par" not in shown() and time.monotonic() < deadline:
            pass
        go.set()
        while "< news" not in shown() and time.monotonic() < deadline:
            pass
        assert shown()[-3:] == ["> first", "< news", "> par"], screen.display
        assert screen.cursor.y == shown().index("> par") and screen.cursor.x == len("> par")
        child.sendline("tial")  # the line typed around the message goes out whole
        child.sendeof()
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0


def test_bad_arguments_and_unreachable_servers_are_reported():
    done = run()
    assert done.returncode == 2 and "give a URL, or --demo" in done.stderr
    done = run("ws://127.0.0.1:1/", "-H", "no colon")
    assert done.returncode == 2 and "--header 'no colon' is not 'Name: value'" in done.stderr
    for url in ("http://example.com/", "ftp://x/", "ws://"):  # no connection is tried
        done = run(url)
        assert done.returncode == 2, (url, done.stderr)
        assert url in done.stderr and "Traceback" not in done.stderr
    done = run("ws://127.0.0.1:1/", "--timeout", "2")
    assert done.returncode == 1 and "cannot connect to ws://127.0.0.1:1/" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_and_version():
    done = run("--demo")
    assert done.returncode == 0, done.stderr
    assert "server says: hello" in done.stdout and "upgrade accepted" in done.stdout
    done = run("--version")
    assert done.returncode == 0 and done.stdout.startswith("websocket-fast ")
