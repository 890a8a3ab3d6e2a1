"""Picks the implementation once, at import: compiled or pure Python.

The compiled one is the Cython build of ``_protocol.py`` (through
``_protocol.pxd``) with the compiled primitives of ``_speedups.pyx``; the
pure one is ``_protocol.py`` run as it is with the primitives of
``_speedups_py.py``.  ``WEBSOCKET_NO_EXTENSIONS`` set to anything but "" or
"0" forces pure Python, as does an interpreter other than CPython; it then
loads ``_protocol.py`` from source even where a compiled build sits beside
it (an editable install), so that one process never mixes the two.
Everything else in the package imports the protocol from here.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from types import ModuleType

__all__ = ["implementation", "protocol", "load_pure_protocol"]

_FORCE_PURE = os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0")


def load_pure_protocol(name: str = "websocket._protocol") -> ModuleType:
    """Run ``_protocol.py`` from source as module ``name`` (plain Python)."""
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(os.path.dirname(__file__), "_protocol.py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


protocol: ModuleType
if _FORCE_PURE or platform.python_implementation() != "CPython":
    protocol = load_pure_protocol()
else:
    from . import _protocol as protocol  # the compiled build when there is one

#: "cython" when the compiled protocol and primitives are in use, else "python".
implementation = "cython" if protocol.COMPILED else "python"
