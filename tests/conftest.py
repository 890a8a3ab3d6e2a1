"""Shared fixtures.

``codec`` runs a test on both codec twins.  The compiled twin failing to
import is an error, not a skip: only WEBSOCKET_NO_EXTENSIONS (the pure-Python
run of the suite) leaves it out.
"""

from __future__ import annotations

import importlib
import os

import pytest

NO_EXTENSIONS = os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0")
TWINS = ["python"] if NO_EXTENSIONS else ["cython", "python"]
MODULES = {"cython": "websocket._speedups", "python": "websocket._speedups_py"}

#: Multiplies every network timeout in the tests (slow or loaded machines).
TIMEOUT_FACTOR = float(os.environ.get("WEBSOCKET_TEST_TIMEOUT_FACTOR", "1"))


def load_twin(name: str):
    """Import a codec twin; a missing compiled extension raises."""
    try:
        return importlib.import_module(MODULES[name])
    except ImportError as exc:
        raise RuntimeError(
            f"the compiled extension {MODULES[name]} is missing ({exc}); build it with "
            "'pip install -e .' or set WEBSOCKET_NO_EXTENSIONS=1 for a pure-Python run"
        ) from exc


@pytest.fixture(params=TWINS)
def codec(request):
    """The codec module under test: each twin in turn."""
    return load_twin(request.param)


@pytest.fixture(params=[(a, b) for a in TWINS for b in TWINS if a != b] or [("python", "python")])
def codec_pair(request):
    """(encoder twin, decoder twin): encode with one, decode with the other."""
    return tuple(load_twin(name) for name in request.param)
