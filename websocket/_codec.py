"""Picks the codec twin once, at import.

The compiled ``_speedups`` is used when it imports; ``WEBSOCKET_NO_EXTENSIONS``
set to anything but "" or "0" forces the pure-Python ``_speedups_py`` (as does
an interpreter other than CPython).  Everything else in the package imports
the codec from here, never from a twin directly.
"""

from __future__ import annotations

import os
import platform

_FORCE_PURE = os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0")

if _FORCE_PURE or platform.python_implementation() != "CPython":
    from ._speedups_py import (
        HAVE_FD_IO,
        FastLock,
        FrameEncoder,
        FrameParser,
        Utf8Validator,
        decode_frame,
        encode_frame,
        mask,
        mask_into,
        validate_utf8,
    )

    implementation = "python"
else:
    try:
        from ._speedups import (  # type: ignore[no-redef]
            HAVE_FD_IO,
            FastLock,
            FrameEncoder,
            FrameParser,
            Utf8Validator,
            decode_frame,
            encode_frame,
            mask,
            mask_into,
            validate_utf8,
        )

        implementation = "cython"
    except ImportError:  # a source checkout or a pure-Python install
        from ._speedups_py import (
            HAVE_FD_IO,
            FastLock,
            FrameEncoder,
            FrameParser,
            Utf8Validator,
            decode_frame,
            encode_frame,
            mask,
            mask_into,
            validate_utf8,
        )

        implementation = "python"

__all__ = [
    "implementation",
    "HAVE_FD_IO",
    "FastLock",
    "FrameEncoder",
    "FrameParser",
    "Utf8Validator",
    "decode_frame",
    "encode_frame",
    "mask",
    "mask_into",
    "validate_utf8",
]
