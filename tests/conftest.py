"""Shared fixtures.

``codec`` runs a test on both implementations: the compiled one (the Cython
build of ``_protocol.py`` with the primitives of ``_speedups.pyx``) and the
pure one (``_protocol.py`` run as Python with ``_speedups_py``).  The
compiled build failing to import is an error, not a skip: only
WEBSOCKET_NO_EXTENSIONS (the pure-Python run of the suite) leaves it out.
"""

from __future__ import annotations

import importlib
import os
import signal
import types

import pytest

from websocket._codec import ROOMS, load_pure

NO_EXTENSIONS = os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0")
TWINS = ["python"] if NO_EXTENSIONS else ["cython", "python"]
PRIMITIVES = {"cython": "websocket._speedups", "python": "websocket._speedups_py"}

#: Multiplies every network timeout in the tests (slow or loaded machines).
TIMEOUT_FACTOR = float(os.environ.get("WEBSOCKET_TEST_TIMEOUT_FACTOR", "1"))


_LOADED: dict[str, types.SimpleNamespace] = {}


def load_twin(name: str) -> types.SimpleNamespace:
    """One implementation's primitives and protocol in one namespace; a
    missing compiled build raises."""
    if name in _LOADED:
        return _LOADED[name]
    hint = "build it with 'pip install -e .' or set WEBSOCKET_NO_EXTENSIONS=1 for a pure-Python run"
    try:
        primitives = importlib.import_module(PRIMITIVES[name])
    except ImportError as exc:
        raise RuntimeError(f"the compiled extension {PRIMITIVES[name]} is missing ({exc}); {hint}") from exc
    rooms = {room: importlib.import_module(f"websocket.{room}") for room in ROOMS}
    if name == "cython":
        for module in rooms.values():
            if str(module.__file__).endswith(".py"):
                raise RuntimeError(f"{module.__name__} is not compiled ({module.__file__}); {hint}")
    elif rooms["_protocol"].COMPILED:
        rooms = load_pure("_py")
    twin = types.SimpleNamespace(
        name=name,
        primitives=primitives,
        compression=rooms["_compression"],
        buffer=rooms["_buffer"],
        reader=rooms["_reader"],
        parser=rooms["_parser"],
        writer=rooms["_writer"],
        protocol=rooms["_protocol"],
        tls=rooms["_tls"],
        engine=rooms["_engine"],
    )
    for module in (primitives, twin.compression, twin.parser, twin.protocol, twin.engine):
        for attr in module.__all__:
            setattr(twin, attr, getattr(module, attr))
    _LOADED[name] = twin
    return twin


@pytest.fixture(params=TWINS)
def codec(request):
    """The codec module under test: each twin in turn."""
    return load_twin(request.param)


@pytest.fixture(params=[(a, b) for a in TWINS for b in TWINS if a != b] or [("python", "python")])
def codec_pair(request):
    """(encoder twin, decoder twin): encode with one, decode with the other."""
    return tuple(load_twin(name) for name in request.param)


#: Proxy variables would route the suite's loopback connections through a
#: proxy of the machine's; the proxy tests set their own.
_PROXY_VARIABLES = [
    f"{name}_proxy" for name in ("http", "https", "all", "no")
] + ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"]


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch):
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def alarm():
    """SIGALRM whose handler raises KeyboardInterrupt the first time and
    returns after that: yields (arm, calls), ``arm(seconds)`` setting the
    timer and ``calls`` counting the handler's runs."""
    if not hasattr(signal, "setitimer"):
        pytest.skip("needs setitimer (POSIX)")
    calls = []

    def handler(signum, frame):
        calls.append(signum)
        if len(calls) == 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        yield (lambda seconds: signal.setitimer(signal.ITIMER_REAL, seconds)), calls
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pytest_configure(config):
    # Also declared in pyproject.toml; here too for runs from a copy of
    # tests/ against an installed wheel (.ci/dist-check, cibuildwheel).
    config.addinivalue_line("markers", "autobahn: runs the Autobahn|Testsuite fuzzingserver (slow)")
