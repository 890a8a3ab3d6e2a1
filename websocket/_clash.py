"""Whether websocket-client was installed into this package's directory.

Checked first thing at import, with nothing but ``os``: websocket-client's
modules share names with ours (``_exceptions.py``, ``_abnf.py``, ...), so
once they overwrote ours any later import may fail, and the warning must
come before it.
"""

from __future__ import annotations

import os

__all__ = ["clash_warning"]

#: Modules websocket-client has (1.x) and this package never will.
_CLIENT_ONLY = ("_cookiejar.py", "_http.py", "_utils.py")


def clash_warning(package_dir: str = os.path.dirname(os.path.abspath(__file__))) -> str | None:
    """What breaks when websocket-client is installed beside this package.

    Both distributions install the package ``websocket``, so they share one
    directory: websocket-client's modules sit beside ours, whichever
    ``__init__.py`` was written last wins, and uninstalling either deletes
    files the other needs.  Its ``_abnf.py``, ``_core.py`` and others have
    namesakes here (websocket-client's import paths); these do not.
    """
    if not any(os.path.exists(os.path.join(package_dir, name)) for name in _CLIENT_ONLY):
        return None
    return (
        f"websocket-client is installed in {package_dir} too: it and websocket-fast "
        "both use the import name 'websocket', and 'pip uninstall websocket-client' "
        "would delete this package's __init__.py. Fix: pip uninstall -y "
        "websocket-client websocket-fast && pip install websocket-fast (its "
        "create_connection and WebSocketApp are provided: README, 'Coming from "
        "websocket-client')."
    )
