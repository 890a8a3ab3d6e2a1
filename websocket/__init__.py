"""websocket: a fast synchronous WebSocket client (RFC 6455, RFC 7692).

The public names are listed in ``__all__``; everything else is private.
``implementation`` says which build runs: "cython" (the protocol and its
primitives compiled) or "python".
"""

from typing import TYPE_CHECKING

# websocket-client uses the import name "websocket" too (README: "The import
# name").  Installed into the same environment, its modules land in this
# directory, some over ours: warn before importing any of them.
from ._clash import clash_warning as _clash_warning

if (_clash := _clash_warning()) is not None:
    import warnings

    warnings.warn(_clash, RuntimeWarning, stacklevel=2)

from ._abnf import *  # noqa: E402, F403 - websocket-client's frames (see _abnf.__all__)
from ._abnf import __all__ as _abnf_names
from ._app import WebSocketApp, set_reconnect
from ._client import MessageStream, WsClient, connect
from ._codec import implementation
from ._codec import parser as _parser_module
from ._codec import protocol as _protocol_module
from ._compat import *  # noqa: F403 - websocket-client's names (see _compat.__all__)
from ._compat import __all__ as _compat_names
from ._exceptions import *  # noqa: F403 - and websocket-client's names for them
from ._exceptions import CLIENT_NAMES as _client_exception_names
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
from ._frames import (
    CloseCode,
    CloseInfo,
    Frame,
    Opcode,
    State,
    encode_close_frame,
    parse_close_frame,
)
from ._handshake import (
    build_handshake_request,
    generate_key,
    validate_handshake_response,
)
from ._logging import (
    debug,
    dump,
    error,
    isEnabledForDebug,
    isEnabledForError,
    isEnabledForTrace,
    trace,
    warning,
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
from ._options import ClientOptions
from ._reconnect import reconnecting
from ._socket import DEFAULT_SOCKET_OPTION, recv, recv_line, send, sock_opt
from ._url import URLParts, parse_url

if TYPE_CHECKING:
    # One source for both builds: the checker reads its signatures there.
    from ._parser import decode_frame
    from ._protocol import encode_frame
else:
    encode_frame = _protocol_module.encode_frame
    decode_frame = _parser_module.decode_frame

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
    # ... and of the helpers' results.
    "Frame",
    "CloseInfo",
    "URLParts",
    "ClientOptions",
    "implementation",
    "__version__",
    # websocket-client's API on our core (README: "Coming from websocket-client").
    *_compat_names,
    "WebSocketApp",
    "set_reconnect",
    *_abnf_names,
    *_client_exception_names,
    # ... and the rest of its top level, from the modules named as its are.
    "DEFAULT_SOCKET_OPTION",
    "sock_opt",
    "recv",
    "recv_line",
    "send",
    "debug",
    "dump",
    "error",
    "trace",
    "warning",
    "isEnabledForDebug",
    "isEnabledForError",
    "isEnabledForTrace",
]
