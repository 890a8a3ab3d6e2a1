"""permessage-deflate negotiation (RFC 7692 §5, §7.1).

Pure functions of the handshake: the client's settings, checked when the
client is made; the offer it sends; and every check of the server's answer,
which either gives the :class:`Agreement` both directions then follow or
raises HandshakeError naming the parameter at fault.  Compressing and
decompressing messages is the protocol's work (``_protocol.py``).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from ._exceptions import HandshakeError
from ._handshake import parse_extensions

__all__ = ["Agreement", "DeflateSettings", "NAME"]

NAME = "permessage-deflate"
#: RFC 7692 §7.1.2: window bits are 8-15, written without leading zeros.
_WINDOW_BITS = re.compile(r"^(8|9|1[0-5])$")
_PARAMS = (
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
)


def _check_int(name: str, value: object, low: int, high: int, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        kind = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {kind}, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be {low}-{high}, got {value}")


@dataclass(frozen=True)
class Agreement:
    """What the handshake settled, for each direction (RFC 7692 §7.1).

    Attributes:
        client_max_window_bits: the window this client compresses with
            (8 means it sends messages uncompressed: zlib cannot compress
            raw deflate with a 256-byte window, and §6 lets a sender leave
            any message uncompressed).
        server_max_window_bits: the window the server compresses with, the
            one this client decompresses with.
        client_no_context_takeover: this client starts each message with
            an empty window.
        server_no_context_takeover: so does the server: the client keeps no
            decompression state between messages.
    """

    client_max_window_bits: int = 15
    server_max_window_bits: int = 15
    client_no_context_takeover: bool = False
    server_no_context_takeover: bool = False


@dataclass(frozen=True)
class DeflateSettings:
    """The client's permessage-deflate options (``WsClient(compression=
    "deflate", ...)``), validated on construction.

    Attributes:
        client_max_window_bits: None offers ``client_max_window_bits``
            without a value: the server may pick the client's window (8-15).
            9-15 offers that value: the client compresses with at most it.
        server_max_window_bits: None offers nothing (the server uses up to
            15); 8-15 asks the server to compress with at most that window.
        client_no_context_takeover: the client offers to reset its
            compression context after each message.
        server_no_context_takeover: asks the server to reset its context;
            the client then keeps no decompressor between messages.
        compression_level: zlib level, 0-9 (-1: zlib's default, 6).
        memory_level: zlib memLevel, 1-9: the compressor's hash table.
    """

    client_max_window_bits: int | None = None
    server_max_window_bits: int | None = None
    client_no_context_takeover: bool = False
    server_no_context_takeover: bool = False
    compression_level: int = zlib.Z_DEFAULT_COMPRESSION
    memory_level: int = 8

    def __post_init__(self) -> None:
        # zlib refuses raw deflate with a 256-byte window, so this client
        # cannot promise to compress with 8 bits (it still accepts a server
        # that asks for 8: it then sends uncompressed).
        _check_int("client_max_window_bits", self.client_max_window_bits, 9, 15, True)
        _check_int("server_max_window_bits", self.server_max_window_bits, 8, 15, True)
        for name in ("client_no_context_takeover", "server_no_context_takeover"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, not {type(getattr(self, name)).__name__}")
        _check_int("compression_level", self.compression_level, -1, 9)
        _check_int("memory_level", self.memory_level, 1, 9)

    def offer(self) -> str:
        """The Sec-WebSocket-Extensions value the client sends (§7.1)."""
        parts = [NAME]
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_max_window_bits is None:
            parts.append("client_max_window_bits")
        else:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        if self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        return "; ".join(parts)

    def accept(self, value: str) -> Agreement:
        """Check the server's Sec-WebSocket-Extensions answer to :meth:`offer`.

        RFC 7692 §5: the answer holds at most one element per offer; it must
        be this extension with known parameters, none repeated (§7), values
        in range and within what was offered (§7.1.1, §7.1.2).

        Raises:
            HandshakeError: naming the offending extension, parameter or value.
        """
        elements = parse_extensions(value)
        for name, _ in elements:
            if name.lower() != NAME:
                raise HandshakeError(
                    f"server accepted extension {name!r}, which the client did not offer"
                )
        if len(elements) > 1:
            raise HandshakeError(
                f"server accepted {NAME} {len(elements)} times in {value!r}; one was offered"
            )
        seen: dict[str, str | None] = {}
        for param, arg in elements[0][1]:
            key = param.lower()
            if key not in _PARAMS:
                raise HandshakeError(f"server answered {NAME} with unknown parameter {param!r}")
            if key in seen:
                raise HandshakeError(f"server answered {NAME} with parameter {param!r} twice")
            seen[key] = arg
        for key in ("server_no_context_takeover", "client_no_context_takeover"):
            if key in seen and seen[key] is not None:
                raise HandshakeError(f"{key} takes no value, the server sent {seen[key]!r}")
        bits = {}
        for key in ("server_max_window_bits", "client_max_window_bits"):
            if key in seen:
                arg = seen[key]
                if arg is None or not _WINDOW_BITS.match(arg):
                    raise HandshakeError(f"{key} must be 8-15, the server sent {arg!r}")
                bits[key] = int(arg)
        if self.server_no_context_takeover and "server_no_context_takeover" not in seen:
            # §7.1.1.1: accepting this offer means answering with the parameter.
            raise HandshakeError(
                "server_no_context_takeover was offered but the server did not accept it"
            )
        server_bits = bits.get("server_max_window_bits")
        if self.server_max_window_bits is not None:
            # §7.1.2.1: accepted "with the same or smaller value as the offer".
            if server_bits is None:
                raise HandshakeError(
                    f"server_max_window_bits={self.server_max_window_bits} was offered but the"
                    " server did not accept it"
                )
            if server_bits > self.server_max_window_bits:
                raise HandshakeError(
                    f"server_max_window_bits={server_bits} exceeds the"
                    f" {self.server_max_window_bits} offered"
                )
        client_bits = bits.get("client_max_window_bits")
        # This client always offers client_max_window_bits (§7.1.2.2: without
        # it in the offer the server may not send it), so any value 8-15 is
        # allowed when the offer had none, and at most the offered one if it had.
        offered = self.client_max_window_bits
        if client_bits is not None and offered is not None and client_bits > offered:
            raise HandshakeError(
                f"client_max_window_bits={client_bits} exceeds the {offered} offered"
            )
        if client_bits is None:
            client_bits = 15 if offered is None else offered
        return Agreement(
            client_max_window_bits=client_bits,
            server_max_window_bits=15 if server_bits is None else server_bits,
            client_no_context_takeover=(
                self.client_no_context_takeover or "client_no_context_takeover" in seen
            ),
            server_no_context_takeover="server_no_context_takeover" in seen,
        )
