"""The blocking engine's fast paths (``_engine.py``), on both builds: the
receive and send locks' contracts, reads from a descriptor or a reader, and
writes to a descriptor or a writer, over socket pairs."""

from __future__ import annotations

import pytest

from websocket import ProtocolError, State

from .servers import T, server_frame
from .test_protocol import opened, sent


def receive(e, fd, reader):
    """receive_ready() reading from ``fd`` or by ``reader``."""
    e.read_fd, e.reader = fd, reader
    return e.receive_ready()


def send(e, fd, writer, opcode, payload):
    """send_ready() writing to ``fd`` or by ``writer``."""
    e.send_fd, e.writer = fd, writer
    return e.send_ready(opcode, payload)


# -- receive_ready(): WsClient.receive()'s fast path -------------------------


class Reader:
    """A recv_into stand-in: hands out ``chunks`` in turn (b"" is EOF, an
    exception is raised), and records each call."""

    def __init__(self, *chunks):
        self.chunks = list(chunks)
        self.calls = 0

    def __call__(self, view):
        self.calls += 1
        chunk = self.chunks.pop(0)
        if isinstance(chunk, BaseException):
            raise chunk
        view[: len(chunk)] = chunk
        return len(chunk)


def ready(e, reader=None, fd=-1):
    """receive_ready() reading from ``fd`` or by ``reader``, checking its
    lock contract: a message comes with the lock released, None with the
    lock still held (handed to the caller's full receive; released here),
    False with the lock untouched."""
    lock = e.recv_lock
    was_locked = lock.locked()
    e.read_fd, e.reader = fd, reader
    msg = e.receive_ready()
    if msg is False:
        assert was_locked and lock.locked()
    elif msg is None:
        assert lock.locked()
        lock.release()
    else:
        assert not lock.locked()
    return msg


def test_receive_ready_takes_whole_data_frames_only(codec):
    p = opened(codec)
    e = codec.Engine(p)
    p.receive_data(server_frame(2, b"a" * 300) + server_frame(1, "hé") + server_frame(9, b"p") + server_frame(2, b"z"))
    assert ready(e) == {"type": "binary", "data": b"a" * 300}
    assert ready(e) == {"type": "text", "data": "hé"}
    # A control frame is the full receive's (it queues the pong): untouched.
    assert ready(e) is None
    assert p.next_message() == {"type": "ping", "data": b"p"}
    assert ready(e) == {"type": "binary", "data": b"z"}


def test_receive_ready_leaves_fragments_and_partial_frames(codec):
    p = opened(codec)
    e = codec.Engine(p)
    frame = server_frame(2, b"x" * 200)
    p.receive_data(frame[:50])
    assert ready(e) is None
    p.receive_data(frame[50:] + server_frame(2, b"ab", fin=False) + server_frame(0, b"cd"))
    assert ready(e) == {"type": "binary", "data": b"x" * 200}
    assert ready(e) is None  # a fragment: next_message() joins them
    assert p.next_message() == {"type": "binary", "data": b"abcd"}


def test_receive_ready_takes_nothing_while_the_lock_is_held_or_closing(codec):
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.recv_lock
    p.receive_data(server_frame(2, b"one") + server_frame(2, b"two"))
    lock.acquire()
    assert ready(e) is False  # another thread receives
    lock.release()
    assert ready(e) == {"type": "binary", "data": b"one"}
    p.send_close(1000)
    assert p.state is State.CLOSING
    assert ready(e) is None  # the full receive handles closing
    assert p.next_message() == {"type": "binary", "data": b"two"}


def test_receive_ready_hands_a_control_frame_it_read_over_with_the_lock(codec):
    # The fast path read a close frame: the caller's full receive must take
    # it under the same hold of the lock.  Released in between, a close()
    # waiting in another thread could take it first, and the receiving
    # thread would get ConnectionClosed instead of the close message.
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.recv_lock
    reader = Reader(server_frame(8, b"\x03\xe8"))
    assert receive(e, -1, reader) is None
    assert lock.locked() and reader.calls == 1
    assert p.next_message()["type"] == "close"


def test_receive_ready_invalid_utf8_fails_once_for_all(codec):
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.recv_lock
    p.receive_data(server_frame(1, b"\xff\xfe"))
    with pytest.raises(ProtocolError) as first:
        e.receive_ready()
    assert first.value.code == 1007
    # The lock stays held: the shell's full receive gets the same error
    # under it and ends the connection.
    assert lock.locked()
    with pytest.raises(ProtocolError) as again:
        p.next_message()
    assert again.value is first.value
    assert p.state is not State.OPEN and p.close_sent[0] == 1007


def test_receive_ready_reads_only_when_nothing_is_buffered(codec):
    p = opened(codec)
    e = codec.Engine(p)
    frame = server_frame(2, b"x" * 100)
    reader = Reader(frame + frame[:10], frame[10:])
    assert ready(e, reader) == {"type": "binary", "data": b"x" * 100}
    # Part of a frame is buffered: no read here (it could block with a
    # whole control frame waiting), the full receive reads.
    assert ready(e, reader) is None
    assert reader.calls == 1
    p.receive_data(frame[10:])
    assert ready(e, reader) == {"type": "binary", "data": b"x" * 100}
    p.receive_data(server_frame(10, b"pong"))
    assert ready(e, reader) is None and reader.calls == 1


def test_receive_ready_read_failures_lose_nothing(codec):
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.recv_lock
    frame = server_frame(2, b"payload")
    reader = Reader(ConnectionResetError(), b"", KeyboardInterrupt(), frame[:3], frame[3:])
    assert ready(e, reader) is None  # the full receive reads again
    assert ready(e, reader) is None  # EOF: likewise
    with pytest.raises(KeyboardInterrupt):  # a signal handler's exception
        receive(e, -1, reader)
    assert not lock.locked()  # released: the exception leaves receive()
    assert p.state is State.OPEN
    assert ready(e, reader) is None  # 3 bytes: not a whole frame
    p.receive_data(frame[3:])
    assert ready(e, reader) == {"type": "binary", "data": b"payload"}
    assert reader.calls == 4


def full_receive(p, sock):
    """What the shell's full receive does after receive_ready returned None
    (the lock then held): parse, reading from ``sock`` until a message."""
    while (msg := p.next_message()) is None:
        n = sock.recv_into(p.parser.get_buffer())
        p.parser.buffer_updated(n)
        assert n, "EOF before a whole message"
    return msg


@pytest.mark.parametrize("sizes", [[0, 1, 125, 126, 65535, 65536, 70_000, 1 << 20, 5, 300_000, 9], [200_000, 10] * 4])
def test_receive_ready_reads_the_descriptor(codec, sizes):
    # Plain TCP: receive_ready reads the socket's descriptor itself, into
    # the parser's buffer or (after a big frame's header) into the big
    # frame's own memory.  Every message arrives whole and in order,
    # whatever mix of reads the fast path and the full receive make.
    import socket
    import threading

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.recv_lock
    payloads = [bytes([i % 251]) * size for i, size in enumerate(sizes)]
    a, b = socket.socketpair()
    with a, b:
        sender = threading.Thread(target=a.sendall, args=(b"".join(server_frame(2, x) for x in payloads),))
        sender.start()
        got, fast = [], 0
        while len(got) < len(payloads):
            msg = ready(e, fd=b.fileno()) if not lock.locked() else None
            if msg is None:
                lock.acquire()
                msg = full_receive(p, b)
                lock.release()
            else:
                fast += 1
            got.append(msg["data"])
        sender.join(10)
    assert [len(x) for x in got] == sizes and got == payloads
    assert fast > 0


def test_receive_ready_reads_a_big_frame_into_its_own_memory(codec):
    # Once a big frame's header is parsed and none of its payload is here,
    # the fast path's read goes straight into the frame's own memory.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.recv_lock
    frame = server_frame(2, bytes(range(256)) * 400)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(frame[:10])  # the header only
        assert ready(e, fd=b.fileno()) is None
        assert p.next_message() is None and p.parser.buffered == 0
        a.sendall(frame[10:5000])
        assert ready(e, fd=b.fileno()) is None
        assert p.parser.buffered == 4990
        a.sendall(frame[5000:])
        lock.acquire()
        assert full_receive(p, b) == {"type": "binary", "data": bytes(range(256)) * 400}
        lock.release()
        a.sendall(server_frame(2, b"next"))
        assert ready(e, fd=b.fileno()) == {"type": "binary", "data": b"next"}


def test_receive_ready_with_keepalive_reads_until_the_keepalive_decision(codec):
    # With keepalive the fast path's read waits only until the next
    # keepalive decision, then leaves it (and the ping) to the full
    # receive; bytes it reads restart the silence clock.
    import socket
    import threading
    import time

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec, ping_interval=0.2, ping_timeout=5.0)
    e = codec.Engine(p)
    a, b = socket.socketpair()
    with a, b:
        p.data_received(time.monotonic())
        started = time.monotonic()
        assert ready(e, fd=b.fileno()) is None  # silence: it gave up at the decision
        assert 0.18 <= time.monotonic() - started < T
        assert p.keepalive(time.monotonic()) == 5.0  # due: the full receive queues the ping
        (ping,) = sent(codec, p)
        assert ping["opcode"] == 9
        a.sendall(server_frame(2, b"data"))
        # While the ping waits for its pong, the read is the full receive's.
        assert ready(e, fd=b.fileno()) is None and p.parser.buffered == 0
        p.receive_data(b.recv(100) + server_frame(10, ping["payload"]))
        p.data_received(time.monotonic())  # as the full receive does
        assert p.next_message() == {"type": "binary", "data": b"data"}
        assert p.next_message() is None  # the keepalive pong, consumed
        # The pong came: the fast path reads again, and what it reads
        # restarts the silence clock.
        timer = threading.Timer(0.1, a.sendall, (server_frame(2, b"more"),))
        timer.start()
        assert ready(e, fd=b.fileno()) == {"type": "binary", "data": b"more"}
        assert p.keepalive(time.monotonic()) == pytest.approx(0.2, abs=0.05)
        timer.join()


def test_receive_ready_descriptor_eof_and_errors_leave_it_to_the_full_receive(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    e = codec.Engine(p)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(server_frame(2, b"last"))
        a.close()
        assert ready(e, fd=b.fileno()) == {"type": "binary", "data": b"last"}
        assert ready(e, fd=b.fileno()) is None  # EOF: nothing buffered
        assert p.state is State.OPEN and p.parser.buffered == 0
    # A closed descriptor (EBADF): the same, nothing raised or lost.
    assert ready(e, fd=b.fileno()) is None
    assert p.state is State.OPEN and p.parser.buffered == 0


def test_receive_ready_descriptor_read_obeys_signal_handlers(codec, alarm):
    # A blocking read interrupted by a signal runs the handler: its
    # exception leaves receive_ready with the lock released and nothing
    # lost; a handler that returns lets the read go on (PEP 475).
    import socket
    import threading

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.recv_lock
    arm, calls = alarm
    a, b = socket.socketpair()
    with a, b:
        arm(0.05)
        with pytest.raises(KeyboardInterrupt):
            receive(e, b.fileno(), None)
        assert not lock.locked() and p.state is State.OPEN
        # The handler returns this time: the read waits on, until the
        # frame comes.
        timer = threading.Timer(0.3, a.sendall, (server_frame(2, b"after"),))
        timer.start()
        arm(0.05)
        assert ready(e, fd=b.fileno()) == {"type": "binary", "data": b"after"}
        timer.join()
    assert len(calls) == 2


# -- send_ready(): WsClient.send()'s fast path ------------------------------


def test_send_ready_writes_one_masked_frame_under_the_lock(codec):
    import socket

    p = opened(codec)
    e = codec.Engine(p)
    lock = e.send_lock
    a, b = socket.socketpair()
    with a, b:
        assert send(e, a.fileno(), None, 2, b"abc") is True
        assert send(e, a.fileno(), None, 1, "hé") is True
        assert not lock.locked()
        got = b.recv(100)
        first = codec.decode_frame(got)
        assert (first["opcode"], first["payload"], first["masked"]) == (2, b"abc", True)
        second = codec.decode_frame(got[first["size"] :])
        assert (second["opcode"], second["payload"]) == (1, "hé".encode())
        # Nothing done, lock released: the shell's full send decides.
        assert send(e, -1, None, 2, b"x") is False  # no descriptor, no writer
        lock.acquire()
        assert send(e, a.fileno(), None, 2, b"x") is False  # another sender
        lock.release()
        p.send_close(1000)
        assert send(e, a.fileno(), None, 2, b"x") is False  # closing
        assert not lock.locked()
        b.setblocking(False)
        with pytest.raises(BlockingIOError):
            b.recv(100)  # nothing was written by the refused calls


def test_send_ready_hands_the_encoded_frame_to_a_writer_without_a_descriptor(codec):
    """Over TLS the shell passes a writer (TLSLayer.write_ready) instead of a
    descriptor: it gets the whole masked frame, under the lock."""
    p = opened(codec)
    e = codec.Engine(p)
    lock = e.send_lock
    written = []

    def writer(frame):
        assert lock.locked()
        written.append(frame)

    assert send(e, -1, writer, 2, b"abc") is True
    assert send(e, -1, writer, 1, "hé") is True
    assert not lock.locked()
    assert [(f["opcode"], f["payload"], f["masked"]) for f in map(codec.decode_frame, written)] == [
        (2, b"abc", True),
        (1, "hé".encode(), True),
    ]
    lock.acquire()
    assert send(e, -1, writer, 2, b"x") is False  # another sender
    lock.release()

    def failing(frame):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        send(e, -1, failing, 2, b"x")
    assert lock.locked()  # the shell decides under it
    lock.release()
    p.send_close(1000)
    assert send(e, -1, writer, 2, b"x") is False  # closing
    assert len(written) == 2 and not lock.locked()


def test_send_ready_failure_keeps_the_lock_for_the_shell(codec):
    import socket

    p = opened(codec)
    e = codec.Engine(p)
    lock = e.send_lock
    a, b = socket.socketpair()
    with a, b:
        a.shutdown(socket.SHUT_WR)
        with pytest.raises(OSError):
            send(e, a.fileno(), None, 2, b"abc")
        # The shell decides under the lock whether the stream can go on.
        assert lock.locked()
        lock.release()


def test_receive_ready_with_a_timeout_bounds_its_read(codec):
    # receive(timeout=) takes the fast path too: its read waits at most
    # ``timeout``, then hands the lock over with the deadline it began.
    import socket
    import time

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    p = opened(codec)
    e = codec.Engine(p)
    a, b = socket.socketpair()
    with a, b:
        e.read_fd = b.fileno()
        started = time.monotonic()
        assert e.receive_ready(0.2) is None  # nothing came: the full receive's
        took = time.monotonic() - started
        assert 0.18 <= took < T and e.recv_lock.locked()
        assert started < e.deadline <= started + 0.21
        e.give_back()
        a.sendall(server_frame(2, b"now"))
        # timeout=0: what the kernel already holds is taken, not left.
        assert e.receive_ready(0) == {"type": "binary", "data": b"now"}
        assert e.receive_ready(0.0) is None  # nothing: no wait at all
        e.give_back()
        a.sendall(server_frame(2, b"int") + server_frame(2, b"buffered"))
        assert e.receive_ready(5) == {"type": "binary", "data": b"int"}
        # Buffered: no read, no clock.
        assert e.receive_ready(5.0) == {"type": "binary", "data": b"buffered"}
        assert not e.recv_lock.locked()


@pytest.mark.parametrize("timeout", [0, 1, 0.5, 365 * 24 * 3600, float(365 * 24 * 3600)])
def test_receive_ready_takes_a_timeout_of_up_to_a_year(codec, timeout):
    p = opened(codec)
    e = codec.Engine(p)
    p.receive_data(server_frame(2, b"kept"))
    assert e.receive_ready(timeout) == {"type": "binary", "data": b"kept"}
    assert not e.recv_lock.locked()


@pytest.mark.parametrize(
    "timeout",
    # (ints of one digit and of several, on either side of the limits:
    # the compiled build reads small ones in place)
    [-1, -(2**29), -(2**40), 365 * 24 * 3600 + 1, 2**30, 2**40, 10**400, -(10**400),
     -0.5, float("nan"), float("inf"), 1e12, True, False, "1", b"1"],
)
def test_receive_ready_leaves_other_timeouts_to_the_full_receive(codec, timeout):
    # The full receive checks them and says what is wrong (or, for inf and
    # beyond, waits without a limit): the fast path does nothing at all.
    p = opened(codec)
    e = codec.Engine(p)
    p.receive_data(server_frame(2, b"kept"))
    assert e.receive_ready(timeout) is False
    assert not e.recv_lock.locked()
    assert e.receive_ready(None) == {"type": "binary", "data": b"kept"}


# The rooms that may call a socket's (or the TLS layer's socket-side) I/O:
# the engine once the connection is open, the TLS layer under it, the
# opening (TCP, proxies, the TLS and upgrade handshakes), and
# websocket-client's helpers for a caller's own socket.  (_app.py's ``sock``
# is websocket-client's name for its WebSocket object: public API calls.)
_SOCKET_ROOMS = {"_engine", "_tls", "_connect", "_socket", "_app"}
_SOCKET_CALLS = {
    "recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg", "send", "sendall", "sendto",
    "sendmsg", "sendfile", "shutdown", "close", "detach", "settimeout", "setblocking",
}
_TLS_SOCKET_CALLS = {"fill", "read_into", "read_ready", "write_ready", "stop_reading"}


def test_only_the_engine_touches_the_socket_once_open():
    import ast
    import pathlib

    import websocket

    found = []
    for path in sorted(pathlib.Path(websocket.__file__).parent.glob("*.py")):
        if path.stem in _SOCKET_ROOMS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("recv_into", "send_all"):
                found.append(f"{path.name}:{node.lineno}: {func.id}()")
            elif isinstance(func, ast.Attribute):
                owner = ast.unparse(func.value).lower()
                calls = _SOCKET_CALLS if "sock" in owner else _TLS_SOCKET_CALLS if "tls" in owner else ()
                if func.attr in calls:
                    found.append(f"{path.name}:{node.lineno}: {ast.unparse(func)}()")
    assert not found, "socket I/O outside the engine: " + ", ".join(found)
    # The engine does, which shows the scan finds such calls.
    engine = pathlib.Path(websocket.__file__).with_name("_engine.py").read_text()
    assert "sock.shutdown(" in engine and "tls.fill(" in engine
