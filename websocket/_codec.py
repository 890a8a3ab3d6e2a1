"""Picks the implementation once, at import: compiled or pure Python.

The compiled one is the Cython build of ``_protocol.py`` (through
``_protocol.pxd``) with the compiled primitives of ``_speedups.pyx``; the
pure one is ``_protocol.py`` run as it is with the primitives of
``_speedups_py.py``.  ``WEBSOCKET_NO_EXTENSIONS`` set to anything but "" or
"0" forces pure Python, as does an interpreter other than CPython; it then
loads ``_protocol.py`` and ``_tls.py`` (the TLS layer, compiled the same
way) from source even where a compiled build sits beside them (an
editable install), so that one process never mixes the two.  Everything
else in the package imports the protocol and the TLS layer from here.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from types import ModuleType

__all__ = ["implementation", "protocol", "tls", "load_pure_protocol"]

_FORCE_PURE = os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0")


def load_pure_protocol(name: str = "websocket._protocol", source: str = "_protocol.py") -> ModuleType:
    """Run ``source`` (``_protocol.py``, or ``_tls.py``) from source as
    module ``name`` (plain Python)."""
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(os.path.dirname(__file__), source)
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
tls: ModuleType
if _FORCE_PURE or platform.python_implementation() != "CPython":
    protocol = load_pure_protocol()
    tls = load_pure_protocol("websocket._tls", "_tls.py")
else:
    from . import _protocol as protocol  # the compiled build when there is one
    from . import _tls as tls

if tls.COMPILED != protocol.COMPILED:
    # One built and the other not (a build interrupted between the two):
    # the compiled TLS layer takes the compiled lock, and would be slow
    # Python beside a compiled protocol.
    raise ImportError(
        f"websocket._protocol ({protocol.__file__}) and websocket._tls ({tls.__file__}) "
        "are not the same build; reinstall websocket-fast"
    )

#: "cython" when the compiled protocol and primitives are in use, else "python".
implementation = "cython" if protocol.COMPILED else "python"


def _source_tree_warning(package_dir: str) -> str | None:
    """Why the pure twin runs where the compiled one was wanted, when the
    cause is that ``websocket`` was imported from a source checkout (a
    ``_speedups.pyx`` beside it; wheels ship no .pyx) in which the
    extension was never built: Python puts the current directory first on
    ``sys.path``, so from the repository root the checkout shadows an
    installed wheel."""
    if not os.path.exists(os.path.join(package_dir, "_speedups.pyx")):
        return None
    return (
        f"websocket was imported from the source tree {package_dir}, where the "
        "compiled extension is not built, so the slow pure-Python codec runs. "
        "Run from another directory to use the installed wheel, or build in place "
        "with 'pip install -e .' (WEBSOCKET_NO_EXTENSIONS=1 silences this)."
    )


if implementation == "python" and not _FORCE_PURE and platform.python_implementation() == "CPython":
    _why = _source_tree_warning(os.path.dirname(os.path.abspath(__file__)))
    if _why is not None:
        import warnings

        warnings.warn(_why, RuntimeWarning, stacklevel=2)
