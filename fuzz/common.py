"""What the fuzz targets share: both builds of the compiled rooms
(``_codec.ROOMS``), the pure one instrumented for coverage."""

from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace

import atheris

from websocket._codec import ROOMS, load_pure


def both_builds(name: str) -> tuple[SimpleNamespace, SimpleNamespace]:
    """(pure, compiled), each every room's names in one namespace.  The pure
    build is loaded from its files, not through an import hook, so its
    functions and methods are instrumented here, after the fact."""
    pure = SimpleNamespace()
    for module in load_pure(f"_{name}").values():
        for key, thing in vars(module).items():
            setattr(pure, key, thing)
            if isinstance(thing, type) and thing.__module__ == module.__name__:
                for attribute in vars(thing).values():
                    if callable(attribute) and hasattr(attribute, "__code__"):
                        atheris.instrument_func(attribute)
            elif getattr(thing, "__module__", None) == module.__name__ and hasattr(thing, "__code__"):
                atheris.instrument_func(thing)
    compiled = SimpleNamespace()
    for room in ROOMS:
        module = importlib.import_module(f"websocket.{room}")
        if str(module.__file__).endswith(".py"):
            sys.exit(f"the compiled {module.__name__} is not built (pip install -e .)")
        for key, thing in vars(module).items():
            setattr(compiled, key, thing)
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
