"""What the fuzz targets share: both builds of ``_protocol.py``, the pure
one instrumented for coverage."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import atheris

from websocket._codec import load_pure_protocol


def both_builds(name: str) -> tuple[ModuleType, ModuleType]:
    """(pure, compiled).  The pure build is loaded from its file, not
    through an import hook, so its functions and methods are instrumented
    here, after the fact."""
    pure = load_pure_protocol(f"websocket._protocol_{name}")
    for thing in list(vars(pure).values()):
        if isinstance(thing, type) and thing.__module__ == pure.__name__:
            for attribute in vars(thing).values():
                if callable(attribute) and hasattr(attribute, "__code__"):
                    atheris.instrument_func(attribute)
        elif getattr(thing, "__module__", None) == pure.__name__ and hasattr(thing, "__code__"):
            atheris.instrument_func(thing)
    compiled = importlib.import_module("websocket._protocol")
    if not compiled.COMPILED:
        sys.exit("the compiled websocket._protocol is not built (pip install -e .)")
    return pure, compiled


def split(stream: bytes, cuts: list[int]) -> list[bytes]:
    """``stream`` cut at the offsets ``cuts`` (sorted; past the end or
    repeated ones ignored) into the reads a socket might return."""
    reads, at = [], 0
    for cut in [*cuts, len(stream)]:
        cut = min(cut, len(stream))
        if cut > at:
            reads.append(stream[at:cut])
            at = cut
    return reads
