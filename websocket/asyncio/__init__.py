"""The asyncio client: ``ws = await websocket.asyncio.connect(url)``.

The same sans-I/O protocol as the blocking :class:`~websocket.WsClient`
(frames, limits, deflate, the handshakes), with asyncio's transport under
it (``_connection.py``, an :class:`asyncio.BufferedProtocol` that reads
into the protocol's own buffer).  Messages and exceptions are the blocking
client's.
"""

from ._client import AsyncWsClient, connect

__all__ = ["AsyncWsClient", "connect"]
