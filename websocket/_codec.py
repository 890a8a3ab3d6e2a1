"""Picks the implementation once, at import: compiled or pure Python.

The compiled one is the Cython build of the rooms (``ROOMS``: each ``.py``
compiled through its ``.pxd``) with the compiled primitives of
``_speedups.pyx``; the pure one is the same files run as they are with the
primitives of ``_speedups_py.py``.  ``WEBSOCKET_NO_EXTENSIONS`` set to
anything but "" or "0" forces pure Python, as does an interpreter other
than CPython; the rooms are then loaded from source even where a compiled
build sits beside them (an editable install), so that one process never
mixes the two.  Everything else in the package imports the rooms from here.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import sys
from types import ModuleType

__all__ = ["ROOMS", "compression", "engine", "implementation", "load_pure", "parser", "protocol", "speedups", "tls"]

_FORCE_PURE = os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0")

#: The rooms compiled from their own .py through a .pxd (setup.py's list),
#: each after the rooms it imports.
ROOMS = ("_compression", "_buffer", "_reader", "_parser", "_writer", "_protocol", "_tls", "_engine")

_PURE: dict[str, dict[str, ModuleType]] = {}


def load_pure(suffix: str = "") -> dict[str, ModuleType]:
    """Run every room from its source, as plain Python; {room: module}.

    With no ``suffix``, under their own names: the pure build, loaded before
    anything imported a compiled room.  With one (tests, fuzzing, the codec
    benchmark), as ``websocket.<room><suffix>`` beside the compiled build:
    while each runs, the names of the rooms it imports give the pure ones,
    and are given back to the compiled ones after.
    """
    if suffix in _PURE:
        return _PURE[suffix]
    here = os.path.dirname(__file__)
    saved = {room: sys.modules.get(f"websocket.{room}") for room in ROOMS}
    rooms: dict[str, ModuleType] = {}
    loaded = False
    try:
        for room in ROOMS:
            name = f"websocket.{room}{suffix}"
            spec = importlib.util.spec_from_file_location(name, os.path.join(here, f"{room}.py"))
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = sys.modules[f"websocket.{room}"] = module
            spec.loader.exec_module(module)
            rooms[room] = module
        loaded = True
    finally:
        if suffix or not loaded:
            for room, before in saved.items():
                if not loaded:
                    sys.modules.pop(f"websocket.{room}{suffix}", None)
                if before is None:
                    sys.modules.pop(f"websocket.{room}", None)
                else:
                    sys.modules[f"websocket.{room}"] = before
    _PURE[suffix] = rooms
    return rooms


if _FORCE_PURE or platform.python_implementation() != "CPython":
    _rooms = load_pure()
else:
    _rooms = {room: importlib.import_module(f"websocket.{room}") for room in ROOMS}
    _mixed = [str(module.__file__) for module in _rooms.values() if str(module.__file__).endswith(".py")]
    if _mixed and len(_mixed) != len(ROOMS):
        # Some built and others not (a build interrupted in between): a
        # compiled room cimports the others' C types, and a pure one beside
        # a compiled one would be slow Python.
        raise ImportError(
            f"websocket's rooms are not all the same build ({', '.join(_mixed)} not compiled); "
            "reinstall websocket-fast"
        )

compression: ModuleType = _rooms["_compression"]
parser: ModuleType = _rooms["_parser"]
protocol: ModuleType = _rooms["_protocol"]
tls: ModuleType = _rooms["_tls"]
engine: ModuleType = _rooms["_engine"]

#: "cython" when the compiled rooms and primitives are in use, else "python".
implementation = "cython" if protocol.COMPILED else "python"
#: The primitives of that build, as Python sees them: _speedups (compiled)
#: or _speedups_py.
speedups: ModuleType = importlib.import_module(
    "websocket._speedups" if protocol.COMPILED else "websocket._speedups_py"
)


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
