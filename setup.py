"""Declares the compiled extensions; everything else is in pyproject.toml.

Three extensions: the primitives (``_speedups.pyx``, hand-written Cython
over ``csrc/``), the protocol (``_protocol.py``, the same file that runs as
plain Python, compiled in Cython's pure-Python mode through
``_protocol.pxd``) and the TLS layer (``_tls.py``, the same way through
``_tls.pxd``).  WEBSOCKET_NO_EXTENSIONS=1 (anything but "" or "0")
builds pure Python, as does any interpreter other than CPython.  Otherwise
a failed compile fails the install: a silent fallback would ship a slow
wheel.
"""

import os
import platform
import sys

from setuptools import Extension, setup


def _want_extension() -> bool:
    if os.environ.get("WEBSOCKET_NO_EXTENSIONS", "") not in ("", "0"):
        return False
    return platform.python_implementation() == "CPython"


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
            Extension(
                "websocket._protocol",
                ["websocket/_protocol.py"],
                include_dirs=["csrc"],
                depends=headers + ["websocket/_csrc.pxd", "websocket/_protocol.pxd", "websocket/_speedups.pxd"],
                extra_compile_args=compile_args,
            ),
            Extension(
                "websocket._tls",
                ["websocket/_tls.py"],
                depends=["websocket/_tls.pxd", "websocket/_speedups.pxd"],
                extra_compile_args=compile_args,
            ),
        ],
        compiler_directives={
            "language_level": 3,
            # Types come from _protocol.pxd and _tls.pxd; annotations are for mypy.
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
