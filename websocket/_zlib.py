"""Which zlib permessage-deflate uses, chosen once at import.

zlib-ng's (the optional ``[zlib-ng]`` extra: about twice as fast, measured
in bench/) when it is installed, else the standard library's.
``WEBSOCKET_ZLIB=zlib`` or ``=zlib-ng`` insists on one.  Kept out of the
compression room so that the protocol's rooms read no environment.
"""

from __future__ import annotations

import os
import zlib as _stdlib_zlib
from typing import Any

__all__ = ["ZLIB_BACKEND", "zlib"]


def _zlib_backend() -> Any:
    choice = os.environ.get("WEBSOCKET_ZLIB", "")
    if choice not in ("", "zlib", "zlib-ng"):
        raise ValueError(f"WEBSOCKET_ZLIB must be 'zlib' or 'zlib-ng', not {choice!r}")
    if choice != "zlib":
        try:
            from zlib_ng import zlib_ng

            return zlib_ng
        except ImportError:
            if choice:
                raise ImportError(
                    "WEBSOCKET_ZLIB=zlib-ng, but zlib-ng is not installed"
                    " (pip install 'websocket-fast[zlib-ng]')"
                ) from None
    return _stdlib_zlib


#: The module that compresses and decompresses.
zlib = _zlib_backend()
#: "zlib-ng" or "zlib": which one that is.
ZLIB_BACKEND = "zlib" if zlib is _stdlib_zlib else "zlib-ng"
