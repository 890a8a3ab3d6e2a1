"""Real proxy servers on loopback for the connectivity tests.

Each is a Debian package that ``.ci/run`` installs (tinyproxy, stunnel4,
microsocks, dante-server), started here on an ephemeral 127.0.0.1 port with
a configuration written to a temporary folder, and stopped when its ``with``
block ends:

- :func:`tinyproxy`: an HTTP proxy (CONNECT), optionally with Basic auth.
- :func:`https_proxy`: stunnel terminating TLS in front of a tinyproxy: an
  ``https://`` proxy whose certificate comes from a test CA.
- :func:`microsocks`: a SOCKS5 proxy, optionally with RFC 1929 auth.
- :func:`dante`: Dante's SOCKS 4 and 5 server.
- :class:`Socks4aPeer`: a scripted SOCKS 4a proxy.  No packaged server
  here resolves 4a host names for loopback: Dante refuses 4a requests,
  and pproxy takes the 4a marker address 0.0.0.1 for the destination.  So
  this peer checks the exact request bytes, resolves the name and relays.

A missing binary skips the test that needs it, saying which package to
install; everything else about a proxy that fails to start is an error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest

from .servers import T

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _binary(name: str, package: str) -> str:
    for folder in ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"):
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install {package}; .ci/run does)")
    return found


def _wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + T
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {out[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not listen on {LOOPBACK}:{port} within {T} s")


@contextlib.contextmanager
def _running(argv: list[str], port: int, what: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_listening(port, proc, what)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(T)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(T)
        if proc.stdout:
            proc.stdout.close()


@contextlib.contextmanager
def tinyproxy(auth: tuple[str, str] | None = None, connect_ports: list[int] | None = None) -> Iterator[str]:
    """An HTTP proxy; yields its URL (with the credentials when ``auth``).

    ``connect_ports``: the only ports CONNECT may reach (others get 403).
    """
    binary = _binary("tinyproxy", "tinyproxy")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        lines = [
            f"Port {port}",
            f"Listen {LOOPBACK}",
            "Timeout 60",
            "MaxClients 50",
            "LogLevel Info",
            f"LogFile \"{folder}/tinyproxy.log\"",
            f"Allow {LOOPBACK}",
            "DisableViaHeader Yes",
        ]
        if os.geteuid() == 0:
            lines += ["User nobody", "Group nogroup"]
        if auth is not None:
            lines.append(f"BasicAuth {auth[0]} {auth[1]}")
        for allowed in connect_ports or []:
            lines.append(f"ConnectPort {allowed}")
        conf = os.path.join(folder, "tinyproxy.conf")
        with open(conf, "w") as file:
            file.write("\n".join(lines) + "\n")
        os.chmod(folder, 0o777)  # the log, for the user it drops to
        with _running([binary, "-d", "-c", conf], port, "tinyproxy"):
            userinfo = f"{auth[0]}:{auth[1]}@" if auth else ""
            yield f"http://{userinfo}{LOOPBACK}:{port}"


@contextlib.contextmanager
def https_proxy(cert_pem: str, key_pem: str, auth: tuple[str, str] | None = None) -> Iterator[str]:
    """stunnel with the given certificate in front of a tinyproxy: yields
    the ``https://`` proxy URL."""
    binary = _binary("stunnel4", "stunnel4")
    with tinyproxy(auth) as inner:
        inner_port = int(inner.rsplit(":", 1)[1])
        port = free_port()
        with tempfile.TemporaryDirectory() as folder:
            conf = os.path.join(folder, "stunnel.conf")
            with open(conf, "w") as file:
                file.write(
                    "foreground = yes\n"
                    "pid =\n"
                    "debug = 4\n"
                    f"[proxy]\naccept = {LOOPBACK}:{port}\n"
                    f"connect = {LOOPBACK}:{inner_port}\n"
                    f"cert = {cert_pem}\nkey = {key_pem}\n"
                )
            with _running([binary, conf], port, "stunnel"):
                userinfo = f"{auth[0]}:{auth[1]}@" if auth else ""
                yield f"https://{userinfo}localhost:{port}"


@contextlib.contextmanager
def microsocks(auth: tuple[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """A SOCKS5 proxy; yields (host, port)."""
    binary = _binary("microsocks", "microsocks")
    port = free_port()
    argv = [binary, "-i", LOOPBACK, "-p", str(port)]
    if auth is not None:
        argv += ["-u", auth[0], "-P", auth[1]]
    with _running(argv, port, "microsocks"):
        yield LOOPBACK, port


@contextlib.contextmanager
def dante() -> Iterator[tuple[str, int]]:
    """Dante's SOCKS server (versions 4 and 5, no auth) passing only
    connections to 127.0.0.1; yields (host, port)."""
    binary = _binary("danted", "dante-server")
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        conf = os.path.join(folder, "danted.conf")
        with open(conf, "w") as file:
            file.write(
                f"logoutput: {folder}/danted.log\n"
                f"internal: {LOOPBACK} port = {port}\n"
                f"external: {LOOPBACK}\n"
                "clientmethod: none\n"
                "socksmethod: none\n"
                "user.privileged: root\n"
                "user.unprivileged: nobody\n"
                f"client pass {{\n  from: {LOOPBACK}/32 to: 0.0.0.0/0\n}}\n"
                f"socks pass {{\n  from: {LOOPBACK}/32 to: {LOOPBACK}/32\n  command: connect\n}}\n"
                "socks block {\n  from: 0.0.0.0/0 to: 0.0.0.0/0\n}\n"
            )
        os.chmod(folder, 0o777)
        with _running([binary, "-f", conf, "-N", "1"], port, "danted"):
            yield LOOPBACK, port



class Socks4aPeer:
    """A one-connection SOCKS 4a proxy (the 4a extension to SOCKS 4: the
    address 0.0.0.x, then the user id and the host name, NUL-terminated)
    that records the request and relays to the name it resolves."""

    def __init__(self) -> None:
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(T)
        self.port = int(self.listener.getsockname()[1])
        self.request = b""
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(T)
            with conn:
                while self.request.count(b"\0") < 2 or len(self.request) < 9:
                    chunk = conn.recv(1024)
                    if not chunk:
                        return
                    self.request += chunk
                port = int.from_bytes(self.request[2:4], "big")
                name = self.request[8:].split(b"\0")[1].decode()
                upstream = socket.create_connection((name, port), timeout=T)
                conn.sendall(b"\0\x5a" + b"\0" * 6)  # granted
                with upstream:
                    relay(conn, upstream)
        except BaseException as exc:  # re-raised by close()
            self.error = exc

    def close(self) -> None:
        self.thread.join(T)
        self.listener.close()
        if self.error is not None:
            raise self.error


def relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until both sides end."""

    def pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    other = threading.Thread(target=pump, args=(b, a), daemon=True)
    other.start()
    pump(a, b)
    other.join(T)
