"""websocket-client's ``websocket._app`` on this package:
:class:`WebSocketApp` and the default reconnect delay of its
``run_forever()`` (defined in ``_compat.py``)."""

from __future__ import annotations

from ._compat import WebSocketApp, set_reconnect, setReconnect

__all__ = ["WebSocketApp", "setReconnect", "set_reconnect"]
