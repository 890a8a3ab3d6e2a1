"""websocket: a fast synchronous WebSocket client (RFC 6455, RFC 7692).

The public names are listed in ``__all__``; everything else is private.
``implementation`` says which build runs: "cython" (the protocol and its
primitives compiled) or "python".
"""

from ._client import MessageStream, WsClient, connect
from ._codec import clash_warning as _clash_warning
from ._codec import implementation
from ._codec import protocol as _protocol_module
from ._compat import *  # noqa: F403 - websocket-client's names (see _compat.__all__)
from ._compat import __all__ as _compat_names
from ._exceptions import (
    BufferTooSmall,
    ConcurrencyError,
    ConnectionClosed,
    HandshakeError,
    IncompleteFrame,
    InvalidURI,
    MessageTooBig,
    ProtocolError,
    ProxyError,
    WebSocketError,
    WebSocketTimeout,
)
from ._frames import CloseCode, Opcode, State, encode_close_frame, parse_close_frame
from ._handshake import (
    build_handshake_request,
    generate_key,
    validate_handshake_response,
)
from ._messages import (
    BinaryMessage,
    CloseMessage,
    Message,
    PingMessage,
    PongMessage,
    TextBytesMessage,
    TextMessage,
)
from ._reconnect import reconnecting
from ._url import parse_url

encode_frame = _protocol_module.encode_frame
decode_frame = _protocol_module.decode_frame

__version__ = "0.1.0"

__all__ = [
    "WsClient",
    "MessageStream",
    "connect",
    "reconnecting",
    "encode_frame",
    "decode_frame",
    "build_handshake_request",
    "validate_handshake_response",
    "generate_key",
    "encode_close_frame",
    "parse_close_frame",
    "parse_url",
    "Opcode",
    "CloseCode",
    "State",
    "WebSocketError",
    "InvalidURI",
    "HandshakeError",
    "ProxyError",
    "ProtocolError",
    "IncompleteFrame",
    "MessageTooBig",
    "BufferTooSmall",
    "ConnectionClosed",
    "WebSocketTimeout",
    "ConcurrencyError",
    # The types of receive()'s messages (TypedDicts), for type checkers.
    "Message",
    "TextMessage",
    "TextBytesMessage",
    "BinaryMessage",
    "PingMessage",
    "PongMessage",
    "CloseMessage",
    "implementation",
    "__version__",
    # websocket-client's API on our core (README: "Coming from websocket-client").
    *_compat_names,
]

# websocket-client uses the import name "websocket" too (README: "The import
# name").  Installed into the same environment, its modules land in this
# directory; one stat at import tells.
_clash = _clash_warning()
if _clash is not None:
    import warnings

    warnings.warn(_clash, RuntimeWarning, stacklevel=2)
