"""The types of the messages ``WsClient.receive()`` returns.

At run time a message is a plain ``dict`` (the protocol copies a small
template per message, the cheapest object CPython makes); these
``TypedDict``s only tell type checkers which keys each kind has.  ``type``
tells them apart, so a checker narrows on it::

    msg = ws.receive()
    if msg["type"] == "close":
        print(msg["code"], msg["reason"])   # CloseMessage
    elif msg["type"] == "binary":
        handle(msg["data"])                 # bytes

A text message's ``data`` is ``str`` (:class:`TextMessage`), or its UTF-8
``bytes`` on a connection opened with ``decode_text=False``
(:class:`TextBytesMessage`).  ``WsClient`` is generic in which one its
``receive()`` returns (``TextMessageT``), and a checker reads it off the
``decode_text`` argument: ``WsClient`` alone means the default,
``WsClient[TextMessage]``.  Frames are defined in RFC 6455 section 5.6
(data) and 5.5 (control).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias, TypedDict, TypeVar

__all__ = [
    "Message",
    "TextMessage",
    "TextBytesMessage",
    "BinaryMessage",
    "PingMessage",
    "PongMessage",
    "CloseMessage",
    "TextMessageT",
    "Received",
]


class TextMessage(TypedDict):
    """A text message, decoded (the default, ``decode_text=True``)."""

    type: Literal["text"]
    data: str


class TextBytesMessage(TypedDict):
    """A text message as its UTF-8 bytes, checked (``decode_text=False``)."""

    type: Literal["text"]
    data: bytes


class BinaryMessage(TypedDict):
    type: Literal["binary"]
    data: bytes


class PingMessage(TypedDict):
    """A ping from the server; it has been answered already."""

    type: Literal["ping"]
    data: bytes


class PongMessage(TypedDict):
    type: Literal["pong"]
    data: bytes


class CloseMessage(TypedDict):
    """The server's close frame (RFC 6455 section 5.5.1): code 1005 when it
    sent none; ``data`` is the frame's payload as received."""

    type: Literal["close"]
    code: int
    reason: str
    data: bytes


Message = (
    TextMessage | TextBytesMessage | BinaryMessage | PingMessage | PongMessage | CloseMessage
)


if TYPE_CHECKING:
    # PEP 696's default (typing_extensions for checkers; no run-time need):
    # a bare ``WsClient`` annotation is a ``WsClient[TextMessage]``.
    from typing_extensions import TypeVar as _TypeVarWithDefault

    TextMessageT = _TypeVarWithDefault(
        "TextMessageT", bound=TextMessage | TextBytesMessage, default=TextMessage
    )
else:
    TextMessageT = TypeVar("TextMessageT", bound=TextMessage | TextBytesMessage)

#: What a ``WsClient[TextMessageT]`` receives: ``Received[TextMessage]`` is
#: :data:`Message` without :class:`TextBytesMessage`.
Received: TypeAlias = TextMessageT | BinaryMessage | PingMessage | PongMessage | CloseMessage
