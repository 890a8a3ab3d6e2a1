"""Declares the one compiled extension; everything else is in pyproject.toml.

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


ext_modules = []
if _want_extension():
    from Cython.Build import cythonize

    compile_args = [] if sys.platform == "win32" else ["-O3"]
    ext_modules = cythonize(
        [
            Extension(
                "websocket._speedups",
                ["websocket/_speedups.pyx"],
                include_dirs=["csrc"],
                depends=["csrc/ws_compat.h", "csrc/ws_io.h", "csrc/ws_mask.h", "csrc/ws_utf8.h"],
                extra_compile_args=compile_args,
            )
        ],
        annotate=os.environ.get("WEBSOCKET_ANNOTATE", "") not in ("", "0"),
    )

setup(ext_modules=ext_modules)
