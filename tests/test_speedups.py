"""The primitives (``_speedups.pyx`` and its twin ``_speedups_py.py``):
every test runs on both twins through the ``codec`` fixture."""

from __future__ import annotations

import array
import errno
import os
import signal
import threading
import time

import pytest

from websocket import _speedups_py
from websocket._codec import ROOMS

from .vectors import buffer_kinds


def reference_mask(data: bytes, key: bytes, phase: int = 0) -> bytes:
    return bytes(b ^ key[(i + phase) % 4] for i, b in enumerate(data))


# -- masking ------------------------------------------------------------------


@pytest.mark.parametrize("phase", range(4))
def test_mask_matches_reference_all_lengths_and_offsets(codec, phase):
    key = b"\x01\x80\xfe\x7f"
    base = os.urandom(64 + 8)
    for length in range(65):
        for offset in range(8):  # misaligned source slices
            data = memoryview(base)[offset : offset + length]
            expected = reference_mask(bytes(data), key, phase)
            assert codec.mask(data, key, phase) == expected
            dst = bytearray(length + 3)
            assert codec.mask_into(memoryview(dst)[3:], data, key, phase) == (phase + length) % 4
            assert bytes(dst[3:]) == expected


@pytest.mark.parametrize("length", [127, 128, 255, 256, 257, 4096 + 3, 1 << 20])
def test_mask_long_buffers_and_chunked_continuation(codec, length):
    key = os.urandom(4)
    data = os.urandom(length)
    whole = codec.mask(data, key)
    # The pure twin's big-integer XOR is an independent reference for sizes
    # where the byte-by-byte one is too slow.
    reference = reference_mask(data, key) if length < 5000 else _speedups_py.mask(data, key)
    assert whole == reference
    assert codec.mask(whole, key) == data  # masking twice unmasks
    # Masking in chunks of odd sizes with the returned phase gives the same.
    out = bytearray(length)
    pos, phase = 0, 0
    for size in (1, 3, 7, 300, 5, 1 << 16):
        chunk = data[pos : pos + size]
        phase = codec.mask_into(memoryview(out)[pos : pos + len(chunk)], chunk, key, phase)
        pos += len(chunk)
    phase = codec.mask_into(memoryview(out)[pos:], data[pos:], key, phase)
    assert bytes(out) == whole


def test_mask_in_place_and_buffer_kinds(codec):
    key = b"abcd"
    data = bytes(range(50))
    for kind in buffer_kinds(data):
        assert codec.mask(kind, key) == reference_mask(data, key)
    buf = bytearray(data)
    codec.mask_into(buf, buf, key)
    assert bytes(buf) == reference_mask(data, key)
    assert codec.mask(array.array("i", [1, 2]), key) == reference_mask(
        array.array("i", [1, 2]).tobytes(), key
    )


def test_mask_bad_arguments(codec):
    with pytest.raises(ValueError, match="4 bytes, got 3"):
        codec.mask(b"x", b"abc")
    with pytest.raises(TypeError):
        codec.mask("text", b"abcd")
    with pytest.raises(TypeError):
        codec.mask_into(b"readonly", b"x", b"abcd")
    with pytest.raises(ValueError, match="shorter"):
        codec.mask_into(bytearray(1), b"xy", b"abcd")
    with pytest.raises(ValueError):
        codec.mask(b"x", b"abcd", -1)


def test_encode_str_is_utf8_and_random_masks(codec):
    a = codec.encode_frame(1, "é")
    b = codec.encode_frame(1, "é")
    assert codec.decode_frame(a)["payload"] == "é".encode()
    assert a[2:6] != b[2:6] or a[2:6] != codec.encode_frame(1, "é")[2:6]
    assert codec.encode_frame(9, "", False) == b"\x89\x00"


@pytest.mark.parametrize(
    "args, kwargs, exc, message",
    [
        ((3, b""), {}, ValueError, "reserved opcode 0x3"),
        ((0xB, b""), {}, ValueError, "reserved opcode 0xb"),
        ((16, b""), {}, ValueError, "invalid opcode 16"),
        ((-1, b""), {}, ValueError, "invalid opcode -1"),
        (("1", b""), {}, TypeError, "opcode must be an int"),
        ((9, b"x" * 126), {}, ValueError, "126 bytes exceeds 125"),
        ((8, b""), {"fin": False}, ValueError, "must not be fragmented"),
        ((2, 12), {}, TypeError, "bytes-like"),
        ((2, b""), {"mask_key": b"abc"}, ValueError, "4 bytes, got 3"),
        ((2, b"", False), {"mask_key": b"abcd"}, ValueError, "masked=False"),
    ],
)
def test_encode_bad_arguments(codec, args, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        codec.encode_frame(*args, **kwargs)


def test_encode_lengths_use_minimal_form(codec):
    for n, header in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)]:
        wire = codec.encode_frame(2, bytes(n), False)
        assert len(wire) == header + n
        assert codec.decode_frame(wire)["length"] == n


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 1 << 20, (1 << 20) + 3])
def test_frame_encoder_masked_round_trip(codec, size):
    encoder = codec.FrameEncoder()
    payload = os.urandom(size)
    frames = [bytes(encoder.encode(2, payload)) for _ in range(3)]
    keys = {f[len(f) - size - 4 : len(f) - size] for f in frames}
    assert len(keys) == 3  # a fresh key per frame
    for wire in frames:
        frame = codec.decode_frame(wire)
        assert (frame["opcode"], frame["masked"], frame["payload"]) == (2, True, payload)


def test_large_frames_share_a_buffer_valid_until_the_next_call(codec):
    """Frames over REUSE_FROM are built in one reused buffer (both twins):
    sizes that shrink, grow past it and straddle REUSE_FROM each decode to
    their payload, and a view still held from an earlier frame never stops
    a larger one from being built (a new buffer, not a resize)."""
    encoder = codec.FrameEncoder()
    reuse_from = codec.primitives.REUSE_FROM
    sizes = [70_000, 65_000, (1 << 20) + 1, 200_003, reuse_from - 14, reuse_from - 13, 3 << 20]
    held = []
    for size in sizes:
        payload = os.urandom(size)
        frame = encoder.encode(2, payload)
        held.append(memoryview(frame))  # the caller's view, kept
        assert codec.decode_frame(bytes(frame))["payload"] == payload, size
    assert len(bytes(held[-1])) == (3 << 20) + 14
    for view in held:
        view.release()


@pytest.mark.parametrize("text", ["", "a", "x" * 125, "abc" * 30_000, "é" * 40_000, "x" * 70_000 + "é"],
                         ids=["empty", "one", "125", "ascii-90k", "latin-80k", "mixed-70k"])
def test_encoder_sends_str_as_utf8_read_in_place_when_ascii(codec, text):
    """A str payload is its UTF-8 (an ASCII one read in place by the
    compiled twin, without encoding it): through encode() and send_to(),
    masked or not, and the str is unchanged."""
    import socket

    want = text.encode()
    for mask in (True, False):
        encoder = codec.FrameEncoder(mask=mask)
        frame = codec.decode_frame(bytes(encoder.encode(1, text)))
        assert (frame["masked"], frame["payload"]) == (mask, want)
        if codec.HAVE_FD_IO:
            a, b = socket.socketpair()
            with a, b:
                b.settimeout(10)
                encoder.send_to(a.fileno(), 1, text)
                a.shutdown(socket.SHUT_WR)
                received = bytearray()
                while chunk := b.recv(1 << 20):
                    received += chunk
            assert codec.decode_frame(received)["payload"] == want
    assert text.encode() == want
    with pytest.raises(UnicodeEncodeError):
        codec.FrameEncoder().encode(1, text + "\ud800")


def test_ascii_slice_is_the_ascii_of_a_slice(codec):
    """ascii_slice(text, start, stop) == text[start:stop].encode("ascii"),
    clamped as a slice is; the compiled twin's is a read-only view of the
    str that keeps it alive.  Not ASCII, or a negative index: ValueError
    naming it."""
    ascii_slice = codec.primitives.ascii_slice
    text = "".join(chr(32 + i % 95) for i in range(300_001))
    for start, stop in [(0, 0), (0, 1), (5, 17), (0, 262_144), (262_144, 524_288), (299_999, 400_000),
                        (400_000, 500_000), (10, 3), (0, 300_001)]:
        piece = ascii_slice(text, start, stop)
        assert bytes(piece) == text[start:stop].encode("ascii"), (start, stop)
    view = memoryview(ascii_slice("k" * 1000 + "end", 1000, 2000))
    assert view.readonly and bytes(view) == b"end"
    del view
    kept = memoryview(ascii_slice("".join(["q"] * 5000), 4990, 5000))
    import gc

    gc.collect()  # the str's only reference is the slice's
    assert bytes(kept) == b"q" * 10
    with pytest.raises(ValueError, match="ASCII str, got one of 4 characters"):
        ascii_slice("abcé", 0, 2)
    with pytest.raises(ValueError, match="slice -1:3 has a negative index"):
        ascii_slice("abc", -1, 3)
    with pytest.raises(TypeError):
        ascii_slice(b"abc", 0, 3)


def test_frame_encoder_unmasked_flags_and_text(codec):
    encoder = codec.FrameEncoder(mask=False)
    wire = bytes(encoder.encode(1, "hé", fin=False, rsv1=True))
    assert wire == b"\x41\x03h\xc3\xa9"


def test_validator_basic(codec):
    v = codec.Utf8Validator()
    assert v.feed(b"h\xc3") and v.valid and not v.complete
    assert v.feed(b"\xa9") and v.complete
    assert not v.feed(b"\xed\xa0")  # a surrogate fails on its second byte
    assert not v.valid and not v.feed(b"ok")
    v.reset()
    assert v.complete and v.feed(b"ok")
    assert codec.validate_utf8(b"\xf0\x9f\x98\x80") and not codec.validate_utf8(b"\xc0\x80")


@pytest.mark.parametrize("mask", [True, False])
@pytest.mark.parametrize("size", [0, 125, 70_000, (1 << 20) - 14, 1 << 20, (2 << 20) + 3, (3 << 20) + 5])
def test_send_to_writes_whole_frames(codec, mask, size):
    import socket
    import threading

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        payload = os.urandom(size)
        encoder = codec.FrameEncoder(mask=mask)
        received = bytearray()

        def reader():
            while chunk := b.recv(1 << 20):
                received.extend(chunk)

        thread = threading.Thread(target=reader)
        thread.start()
        encoder.send_to(a.fileno(), 2, payload)
        encoder.send_to(a.fileno(), 1, "é", fin=False, rsv1=True)
        a.shutdown(socket.SHUT_WR)
        thread.join(10)
        first = codec.decode_frame(received)
        assert (first["opcode"], first["masked"], first["payload"]) == (2, mask, payload)
        second = codec.decode_frame(memoryview(received)[first["size"] :])
        assert (second["fin"], second["rsv1"], second["payload"]) == (False, True, "é".encode())
        assert first["size"] + second["size"] == len(received)


def test_send_to_reports_errors(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    b.close()
    with a:
        with pytest.raises(OSError):
            codec.FrameEncoder().send_to(a.fileno(), 2, b"x" * 100)


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask (POSIX)")
def test_hold_signals_defers_handlers_until_release(codec):
    seen: list[int] = []
    old = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    try:
        held = codec.hold_signals()
        try:
            os.kill(os.getpid(), signal.SIGUSR1)
            sum(range(1000))  # Python code, where a handler would run
            during = list(seen)
        finally:
            if held:
                codec.release_signals()
        sum(range(1000))
        # The compiled twin holds them (main thread); the pure one says it
        # cannot, and the handler ran at once.
        assert held == (codec.name == "cython")
        assert during == ([] if held else [signal.SIGUSR1])
        assert seen == [signal.SIGUSR1]
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == set(), "the mask was not restored"
    finally:
        signal.signal(signal.SIGUSR1, old)


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs pthread_sigmask (POSIX)")
def test_hold_signals_holds_nothing_outside_the_main_thread(codec):
    # CPython runs handlers only in the main thread: elsewhere nothing to hold.
    elsewhere: list[bool] = []
    thread = threading.Thread(target=lambda: elsewhere.append(codec.hold_signals()))
    thread.start()
    thread.join()
    assert elsewhere == [False]


def test_recv_into_fills_the_region_only(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        buf = bytearray(b"." * 16)
        a.sendall(b"hello world")
        assert codec.recv_into(b.fileno(), buf, 3, 5) == 5  # at most size
        assert buf == b"...hello........"
        assert codec.recv_into(b.fileno(), memoryview(buf), 10, 6) == 6
        assert buf == b"...hello.. world"
        a.close()
        assert codec.recv_into(b.fileno(), buf, 0, 16) == 0  # EOF


def test_recv_into_refuses_bad_arguments(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        fd = b.fileno()
        for start, size in [(-1, 4), (0, 0), (0, 17), (13, 4), (16, 1)]:
            with pytest.raises(ValueError, match=rf"region {start}\+{size} is outside the buffer's 16 bytes"):
                codec.recv_into(fd, bytearray(16), start, size)
        for buffer in (b"x" * 16, "text", None):
            with pytest.raises(TypeError, match="buffer must be a writable buffer"):
                codec.recv_into(fd, buffer, 0, 1)
    with pytest.raises(OSError) as closed:
        codec.recv_into(fd, bytearray(16), 0, 16)
    assert closed.value.errno == errno.EBADF


def test_recv_into_counts_bytes_of_wider_items(codec):
    # A buffer of 4-byte items: start and size count bytes, as recv does.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        items = array.array("i", [0, 0, 0])
        a.sendall(b"\x01\x00\x00\x00")
        assert codec.recv_into(b.fileno(), items, 4, 8) == 4
        assert items.tolist() == [0, 1, 0]


def test_recv_into_waits_at_most_timeout(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        buf = bytearray(8)
        started = time.monotonic()
        assert codec.recv_into(b.fileno(), buf, 0, 8, 0.1) == -1  # nothing came
        assert time.monotonic() - started >= 0.099  # never cut short
        assert codec.recv_into(b.fileno(), buf, 0, 8, 0.0) == -1
        a.sendall(b"here")
        assert codec.recv_into(b.fileno(), buf, 0, 8, 0.0) == 4
        timer = threading.Timer(0.1, a.sendall, (b"later",))
        timer.start()
        assert codec.recv_into(b.fileno(), buf, 0, 8, 10.0) == 5  # as soon as it comes
        timer.join()
        assert buf[:5] == b"later"
        a.close()
        assert codec.recv_into(b.fileno(), buf, 0, 8, 10.0) == 0  # EOF


@pytest.mark.parametrize("timeout", [-1.0, 10.0])
def test_recv_into_runs_signal_handlers(codec, alarm, timeout):
    # PEP 475: a handler's exception propagates with nothing read; a
    # handler that returns lets the wait go on (with a timeout too).
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    arm, calls = alarm
    a, b = socket.socketpair()
    with a, b:
        buf = bytearray(8)
        arm(0.05)
        with pytest.raises(KeyboardInterrupt):
            codec.recv_into(b.fileno(), buf, 0, 8, timeout)
        timer = threading.Timer(0.3, a.sendall, (b"late",))
        timer.start()
        arm(0.05)
        assert codec.recv_into(b.fileno(), buf, 0, 8, timeout) == 4
        timer.join()
        assert buf[:4] == b"late"
    assert len(calls) == 2


@pytest.mark.parametrize("kind", ["bytes", "bytearray", "memoryview", "array", "empty"])
def test_send_all_writes_everything(codec, kind):
    # 4 MiB is many times the socket buffer: the write is made in parts,
    # with a reader draining the other end meanwhile.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    payload = bytes(range(256)) * (4 * 4096) if kind != "empty" else b""
    data = {
        "bytes": payload,
        "bytearray": bytearray(payload),
        "memoryview": memoryview(bytearray(payload)),
        "array": array.array("i", payload),  # 4-byte items: every byte counts
        "empty": payload,
    }[kind]
    a, b = socket.socketpair()
    got = bytearray()

    def drain():
        while chunk := b.recv(65536):
            got.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    with a, b:
        codec.send_all(a.fileno(), data)
        a.shutdown(socket.SHUT_WR)
        reader.join(10)
    assert not reader.is_alive()
    assert got == payload


def test_send_all_refuses_bad_arguments(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        for data in ("text", None, 5):
            with pytest.raises(TypeError, match=f"data must be a bytes-like object, not {type(data).__name__}"):
                codec.send_all(a.fileno(), data)
        b.close()  # the peer is gone: EPIPE (Python ignores SIGPIPE)
        with pytest.raises(OSError) as gone:
            codec.send_all(a.fileno(), b"x" * 100_000)
        assert gone.value.errno in (errno.EPIPE, errno.ECONNRESET)
    with pytest.raises(OSError) as closed:
        codec.send_all(a.fileno(), b"x")
    assert closed.value.errno == errno.EBADF


def test_send_all_runs_signal_handlers(codec, alarm):
    # PEP 475: a write blocked on a full socket buffer runs the handler;
    # its exception propagates (part of the data written), and a handler
    # that returns lets the write go on until everything is written.
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    arm, calls = alarm
    a, b = socket.socketpair()
    with a, b:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        arm(0.05)
        with pytest.raises(KeyboardInterrupt):
            codec.send_all(a.fileno(), b"x" * 4_000_000)  # nobody reads
        b.setblocking(False)
        try:
            while b.recv(1 << 20):
                pass
        except BlockingIOError:
            pass
        b.setblocking(True)
        got = bytearray()

        def drain_later():
            time.sleep(0.3)
            while len(got) < 1_000_000:
                got.extend(b.recv(65536))

        reader = threading.Thread(target=drain_later)
        reader.start()
        arm(0.05)
        codec.send_all(a.fileno(), b"y" * 1_000_000)
        reader.join(10)
        assert got == b"y" * 1_000_000
    assert len(calls) == 2


@pytest.mark.parametrize("opcode", [-1, 16, 300])
def test_encoder_refuses_opcodes_outside_4_bits(codec, opcode):
    # The compiled encoder used to put 300 on the wire as 0xC with RSV bits.
    with pytest.raises(ValueError, match=f"invalid opcode {opcode}: must be 0-15"):
        codec.FrameEncoder().encode(opcode, b"x")


def test_send_to_says_when_a_frame_was_partly_written(codec):
    import socket

    if not codec.HAVE_FD_IO:
        pytest.skip("no descriptor I/O on this platform")
    a, b = socket.socketpair()
    with a, b:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        encoder = codec.FrameEncoder()
        encoder.send_to(a.fileno(), 2, b"small")
        assert encoder.partial is False
        got = b.recv(100)
        assert codec.decode_frame(got)["payload"] == b"small"
        a.setblocking(False)  # the big frame fills the buffer, then EAGAIN
        with pytest.raises(OSError):
            encoder.send_to(a.fileno(), 2, b"x" * (4 << 20))
        assert encoder.partial is True


def test_frame_header_primitive(codec):
    assert codec.frame_header(0x82, 5, False) == b"\x82\x05"
    assert codec.frame_header(0x81, 300, True) == b"\x81\xfe\x01\x2c"
    assert codec.frame_header(0x02, 1 << 16, False) == b"\x02\x7f" + (1 << 16).to_bytes(8, "big")
    with pytest.raises(ValueError, match="first header byte 256"):
        codec.frame_header(256, 0, False)


def test_fast_lock_is_a_non_reentrant_lock(codec):
    lock = codec.FastLock()
    assert not lock.locked()
    assert lock.acquire() is True and lock.locked()
    assert lock.acquire(False) is False  # not reentrant
    start = time.monotonic()
    assert lock.acquire(timeout=0.05) is False
    assert time.monotonic() - start >= 0.04
    lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
    with lock:
        assert lock.locked()
    assert not lock.locked()
    with pytest.raises(ValueError):
        lock.acquire(False, 1.0)
    with pytest.raises(ValueError):
        lock.acquire(timeout=-2)


def test_fast_lock_wakes_a_blocked_thread_and_excludes(codec):
    lock = codec.FastLock()
    counter = [0]

    def work():
        for _ in range(2000):
            with lock:
                value = counter[0]
                if value % 500 == 0:
                    time.sleep(0)  # let the GIL move inside
                counter[0] = value + 1

    lock.acquire()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    assert counter[0] == 0  # all blocked while it is held
    lock.release()
    for t in threads:
        t.join(10)
    assert counter[0] == 8000


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")
def test_fast_lock_blocked_acquire_runs_signal_handlers(codec):
    lock = codec.FastLock()
    lock.acquire()

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            lock.acquire(timeout=5)
        assert time.monotonic() - start < 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_fast_lock_goes_to_a_waiter_while_its_holder_loops(codec):
    """A thread that releases and takes the lock again in a loop does not
    starve a waiter.  The holder keeps the GIL between its release and its
    next acquire; a lock whose free state is a flag under the GIL would
    be taken back every time unless release() hands it over."""
    lock = codec.FastLock()
    stop = threading.Event()
    rounds = [0]

    def holder():
        while not stop.is_set():
            with lock:
                rounds[0] += 1
                deadline = time.perf_counter() + 0.0002
                while time.perf_counter() < deadline:  # holds the GIL too
                    pass

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        while rounds[0] < 3:
            time.sleep(0.001)
        got = []
        for _ in range(20):
            got.append(lock.acquire(timeout=10))
            if got[-1]:
                lock.release()
    finally:
        stop.set()
        thread.join(10)
    assert got == [True] * 20
    assert not thread.is_alive()
    assert lock.acquire(False) is True


def test_fast_lock_waiters_that_time_out_leave_it_whole(codec):
    """Waiters with short timeouts leave, some just as the lock is handed
    to them: every acquire that returned True excluded the others, and
    the lock ends free (a hand-over to waiters that all left is taken
    back)."""
    lock = codec.FastLock()
    inside = [0]
    taken = [0]
    errors = []

    def work(seed):
        for i in range(300):
            if lock.acquire(timeout=((seed + i) % 4) * 0.0001):
                try:
                    inside[0] += 1
                    if inside[0] != 1:
                        errors.append(inside[0])
                    if i % 7 == 0:
                        time.sleep(0.0001)  # hold it across a GIL switch
                    taken[0] += 1
                    inside[0] -= 1
                finally:
                    lock.release()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == [] and taken[0] > 0
    assert not lock.locked()
    assert lock.acquire(False) is True
    lock.release()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")
@pytest.mark.parametrize("other_waiter", [False, True])
def test_fast_lock_released_to_a_waiter_its_handler_interrupts(codec, other_waiter):
    """The lock is released while the main thread waits for it (by the
    signal handler itself, so that the release lands in the wait), and the
    handler's exception leaves the wait: the lock goes to the other waiter,
    or with none it ends free; it is never lost."""
    lock = codec.FastLock()
    lock.acquire()
    got = []

    def wait():
        got.append(lock.acquire(timeout=10))
        if got[-1]:
            lock.release()

    waiter = threading.Thread(target=wait)
    if other_waiter:
        waiter.start()
        time.sleep(0.05)  # blocked in acquire()

    def handler(signum, frame):
        lock.release()  # allowed from any thread, as for threading.Lock
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(KeyboardInterrupt):
            lock.acquire(timeout=10)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if other_waiter:
        waiter.join(10)
        assert got == [True]
    assert lock.acquire(timeout=5) is True
    lock.release()
    assert not lock.locked()


@pytest.mark.parametrize("room", ROOMS)
def test_a_compiled_room_calls_the_c_primitive_of_each_twin_it_names(room):
    # A room's .py star-imports the primitives' twins (_speedups_py) and its
    # .pxd cimports the C ones under the same names, which the compiled
    # build then calls.  A twin named in the .py but not cimported would
    # run as plain Python inside the compiled build, slowly and silently.
    import ast
    import pathlib
    import re

    here = pathlib.Path(_speedups_py.__file__).parent
    source = (here / f"{room}.py").read_text()
    named = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    used = named & set(_speedups_py.__all__)
    cimported = set()
    pxd = (here / f"{room}.pxd").read_text()
    for match in re.finditer(r"from websocket\._speedups cimport (?:\(([^)]*)\)|([^\n]*))", pxd):
        for part in (match.group(1) or match.group(2)).split(","):
            words = part.split()
            if len(words) == 1:  # (an aliased type is cimported for typing only)
                cimported.add(words[0])
    assert used, f"{room}.py names no primitive"
    assert used <= cimported, f"{room}.pxd does not cimport {sorted(used - cimported)}"
