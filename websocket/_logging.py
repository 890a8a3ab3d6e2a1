"""websocket-client's ``websocket._logging`` on this package: its trace
switch and log helpers, on the ``websocket`` logger.

``trace()`` and ``dump()`` log only while :func:`enableTrace` is on;
``isEnabledForTrace()`` says whether it is.
"""

from __future__ import annotations

import logging

from . import _compat
from ._compat import enableTrace

__all__ = [
    "enableTrace",
    "dump",
    "error",
    "warning",
    "debug",
    "info",
    "trace",
    "isEnabledForError",
    "isEnabledForDebug",
    "isEnabledForTrace",
]

_logger = logging.getLogger("websocket")


def dump(title: str, message: str) -> None:
    """``message`` under a ``--- title ---`` line, while tracing."""
    if _compat._trace:
        _logger.debug("--- %s ---\n%s\n-----------------------", title, message)


def error(msg: str) -> None:
    _logger.error(msg)


def warning(msg: str) -> None:
    _logger.warning(msg)


def debug(msg: str) -> None:
    _logger.debug(msg)


def info(msg: str) -> None:
    _logger.info(msg)


def trace(msg: str) -> None:
    """``msg`` at DEBUG level, while tracing."""
    if _compat._trace:
        _logger.debug(msg)


def isEnabledForError() -> bool:  # noqa: N802 - websocket-client's name
    return _logger.isEnabledFor(logging.ERROR)


def isEnabledForDebug() -> bool:  # noqa: N802 - websocket-client's name
    return _logger.isEnabledFor(logging.DEBUG)


def isEnabledForTrace() -> bool:  # noqa: N802 - websocket-client's name
    return _compat._trace
