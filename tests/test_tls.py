"""The TLS layer (``websocket/_tls.py``) on both builds: the Cython build
of the file and the file run as Python.  A real TLS server (an
``SSLSocket``, trustme's certificate) holds the other end of a socket
pair; the client tests run it through ``WsClient`` too."""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time

import pytest
import trustme

from .conftest import TWINS, load_twin


@pytest.fixture(params=TWINS)
def layer_module(request):
    """The TLS layer's module: each build in turn (a missing compiled one
    is an error, as for the codec)."""
    return load_twin(request.param).tls


@pytest.fixture(scope="module")
def contexts():
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


def _open(module, contexts, serve):
    """A handshaken layer on one end of a socket pair; ``serve(tls_sock)``
    runs in a thread on the other end."""
    server_ctx, client_ctx = contexts
    a, b = socket.socketpair()
    a.settimeout(10)
    b.settimeout(10)

    def run():
        with server_ctx.wrap_socket(b, server_side=True) as tls_sock:
            serve(tls_sock)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    layer = module.TLSLayer(client_ctx, "localhost", a)
    while True:
        try:
            with layer.lock:
                layer.obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        out = layer.output()
        if out:
            a.sendall(out)
        if done:
            break
        layer.feed(a.recv(65536))
    a.settimeout(None)  # blocking, as the shell leaves it once open
    return layer, a, thread


def _receive(layer, sock, size):
    """``size`` bytes of plaintext: read_ready first, and the full path
    (fill, read_into) when it leaves the rest to it (0)."""
    view = memoryview(bytearray(70_000))
    got = bytearray()
    while len(got) < size:
        n = layer.read_ready(view)
        if n == 0:
            if not layer.fill(sock):
                layer.feed(b"")
            n = layer.read_into(view) or 0
            if n == 0 and layer.ended:
                break
        got += view[:n]
    return bytes(got)


def _echo_each(sizes):
    """A server that reads each message whole before it sends it back (an
    echo while the client still writes 1 MB would fill both directions)."""

    def serve(tls_sock):
        for size in sizes:
            data = bytearray()
            while len(data) < size:
                data += tls_sock.recv(size - len(data))
            tls_sock.sendall(data)

    return serve


@pytest.mark.parametrize("descriptor", [False, True], ids=["socket methods", "descriptor in C"])
def test_round_trips_whole_and_across_records(layer_module, contexts, descriptor):
    payloads = [b"ping", bytes(range(256)) * 16, os.urandom(1_000_000), bytearray(b"views too")]
    layer, sock, thread = _open(layer_module, contexts, _echo_each([len(p) for p in payloads]))
    with sock:
        layer.use_descriptor(descriptor, descriptor)
        assert (layer.write_fd >= 0, layer.read_fd >= 0) == (descriptor, descriptor)
        for payload in payloads:
            layer.write_ready(payload)  # 1 MB: 62 records, several reads
            assert _receive(layer, sock, len(payload)) == payload
    thread.join(10)


def test_the_read_buffer_starts_small_and_grows_with_full_reads(layer_module, contexts):
    """An idle connection keeps READ_FIRST for ciphertext; reads that fill
    it double it, up to READ_SIZE, and every byte still arrives."""
    payload = os.urandom(4_000_000)
    layer, sock, thread = _open(layer_module, contexts, lambda tls_sock: tls_sock.sendall(payload))
    with sock:
        assert (layer.read_size, len(layer.scratch)) == (32 * 1024, 32 * 1024)
        time.sleep(0.2)  # let the kernel's buffer fill: the first reads come back full
        assert _receive(layer, sock, len(payload)) == payload
        assert layer.read_size == len(layer.scratch)
        assert 32 * 1024 < layer.read_size <= layer_module.READ_SIZE == 256 * 1024
    thread.join(10)


def test_the_end_of_the_stream_is_left_to_the_full_receive(layer_module, contexts):
    # close_notify: read_ready reports 0 (the full receive's to take), and
    # every later read reports the same end.
    def say_and_close(tls_sock):
        tls_sock.sendall(b"last words")
        tls_sock.setblocking(False)  # send close_notify, wait for no answer
        with pytest.raises(ssl.SSLWantReadError):
            tls_sock.unwrap()

    layer, sock, thread = _open(layer_module, contexts, say_and_close)
    with sock:
        layer.use_descriptor(True, True)
        assert _receive(layer, sock, 100) == b"last words"
        assert layer.ended
        view = memoryview(bytearray(16))
        assert layer.read_ready(view) == 0
        assert layer.read_into(view) == 0
    thread.join(10)


@pytest.mark.parametrize("stopped", [False, True], ids=["without the guard", "after stop_reading"])
def test_stop_reading_never_reads_a_descriptor_the_os_gave_again(layer_module, contexts, stopped):
    # The race close() in another thread opens: the socket closes, the OS
    # gives its number to the next socket, and a receive that read the
    # number would take that socket's bytes.  After stop_reading(),
    # read_ready goes through the socket object, which knows it is closed.
    def idle(tls_sock):
        try:
            tls_sock.recv(1)
        except OSError:
            pass

    layer, sock, thread = _open(layer_module, contexts, idle)
    number = sock.fileno()
    layer.use_descriptor(True, True)
    if stopped:
        layer.stop_reading()
        assert layer.read_fd == -1
    view = memoryview(bytearray(64))
    other, peer = socket.socketpair()
    with other, peer:
        sock.close()
        os.dup2(other.fileno(), number)  # the number now names `other`
        try:
            peer.sendall(b"not yours")
            if stopped:
                with pytest.raises(OSError) as closed:
                    layer.read_ready(view)
                assert not isinstance(closed.value, ssl.SSLError)
                assert other.recv(64) == b"not yours"  # still there, unread
            else:
                # Without the guard the read takes the other socket's bytes
                # (what this test would catch): fed in as ciphertext, they
                # make a broken record.
                with pytest.raises(ssl.SSLError):
                    layer.read_ready(view)
        finally:
            os.close(number)
    thread.join(10)
