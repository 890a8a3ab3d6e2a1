"""Declares the compiled extensions; everything else is in pyproject.toml.

The primitives (``_speedups.pyx``, hand-written Cython over ``csrc/``) and
the rooms that run on every message, each the same ``.py`` file that runs as
plain Python, compiled in Cython's pure-Python mode through its ``.pxd``:
the compression (``_compression.py``), the receive buffer
(``_buffer.py``), the frame reader (``_reader.py``), the parser (``_parser.py``), the
frame writer (``_writer.py``), the protocol (``_protocol.py``), the TLS layer (``_tls.py``) and the blocking
engine (``_engine.py``).
WEBSOCKET_NO_EXTENSIONS=1 (anything but "" or "0") builds pure Python, as
does any interpreter other than CPython.  Otherwise a failed compile fails
the install: a silent fallback would ship a slow wheel.
"""

import os
import platform
import sys

from setuptools import Extension, setup


def _want_extension() -> bool:
    if os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0"):
        return False
    return platform.python_implementation() == "CPython"


#: The rooms compiled from their .py through their .pxd (as _codec.ROOMS).
ROOMS = ["_compression", "_buffer", "_reader", "_parser", "_writer", "_protocol", "_tls", "_engine"]
#: Any of these changing rebuilds every room: a .pxd is read by the rooms
#: that cimport it.
PXDS = ["_csrc", "_speedups", *ROOMS]

ext_modules = []
if _want_extension():
    from Cython.Build import cythonize

    compile_args = [] if sys.platform == "win32" else ["-O3"]
    headers = ["csrc/ws_compat.h", "csrc/ws_io.h", "csrc/ws_mask.h", "csrc/ws_utf8.h"]
    ext_modules = cythonize(
        [
            Extension(
                "websocket._speedups",
                ["websocket/_speedups.pyx"],
                include_dirs=["csrc"],
                depends=headers + ["websocket/_csrc.pxd", "websocket/_speedups.pxd"],
                extra_compile_args=compile_args,
            ),
            *(
                Extension(
                    f"websocket.{room}",
                    [f"websocket/{room}.py"],
                    include_dirs=["csrc"],
                    depends=headers + [f"websocket/{pxd}.pxd" for pxd in PXDS],
                    extra_compile_args=compile_args,
                )
                for room in ROOMS
            ),
        ],
        compiler_directives={
            "language_level": 3,
            # Types come from the .pxd files; annotations are for mypy.
            "annotation_typing": False,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
            # Free-threaded CPython (3.14t) may import these without turning
            # the GIL back on: the review is in the README's "Threads" (the
            # protocol's cross-thread state is under its mutex, per-direction
            # state under the shell's send and receive locks, and the
            # module-level state is read-only or an atomic CPU flag).
            "freethreading_compatible": True,
        },
        annotate=os.environ.get("WEBSOCKET_ANNOTATE", "") not in ("", "0"),
    )

setup(ext_modules=ext_modules)
