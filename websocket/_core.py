"""websocket-client's ``websocket._core`` on this package: the low-level
:class:`WebSocket`, :func:`create_connection` and the default timeout
(all defined in ``_compat.py``)."""

from __future__ import annotations

from ._compat import WebSocket, create_connection, getdefaulttimeout, setdefaulttimeout

__all__ = ["WebSocket", "create_connection", "getdefaulttimeout", "setdefaulttimeout"]
