"""``reconnecting()``: a fresh connection after every drop.

    for ws in websocket.reconnecting("wss://example.com/feed", ping_interval=20):
        try:
            for msg in ws:
                handle(msg)
        except websocket.ConnectionClosed:
            continue        # dropped: the loop connects again

Between attempts it waits with exponential backoff and full jitter (the
delay before attempt *n* is a random fraction of ``min(max_delay,
min_delay * factor ** n)``, AWS's "full jitter"), so that many clients
dropped together do not come back together.  It never retries what a retry
cannot fix: a bad URL or option, a handshake refused with a 4xx status
(other than 408 and 429), a proxy refusing with 407, a certificate that
does not verify, or a server that closed with 1008 (policy violation).
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

from ._client import WsClient
from ._messages import TextBytesMessage, TextMessage
from ._options import ClientOptions

if TYPE_CHECKING:
    from typing_extensions import Unpack
from ._exceptions import ConnectionClosed, HandshakeError, InvalidURI, ProxyError

__all__ = ["reconnecting"]

logger = logging.getLogger("websocket")

#: Close codes after which reconnecting cannot help (RFC 6455 §7.4.1).
FINAL_CLOSE_CODES = frozenset({1008})


def _final(exc: BaseException) -> bool:
    """True for a failure that reconnecting cannot fix."""
    if isinstance(exc, (InvalidURI, TypeError, ValueError, ImportError, ssl.SSLCertVerificationError)):
        return True
    if isinstance(exc, HandshakeError):
        status = exc.status
        return status is not None and 400 <= status < 500 and status not in (408, 429)
    if isinstance(exc, ProxyError):
        return exc.status == 407
    return False


def _check_delay(name: str, value: object, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not value >= low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return float(value)


class _Options(ClientOptions, total=False):
    """reconnecting()'s own options and WsClient's, for its overloads."""

    min_delay: float
    max_delay: float
    factor: float
    max_attempts: int | None
    sleep: Callable[[float], None]


# decode_text decides what a checker sees of text messages, as for WsClient.
@overload
def reconnecting(
    url: str, *, decode_text: Literal[True] = True, **options: Unpack[_Options]
) -> Iterator[WsClient[TextMessage]]: ...
@overload
def reconnecting(
    url: str, *, decode_text: Literal[False], **options: Unpack[_Options]
) -> Iterator[WsClient[TextBytesMessage]]: ...
@overload
def reconnecting(
    url: str, *, decode_text: bool, **options: Unpack[_Options]
) -> Iterator[WsClient[TextMessage | TextBytesMessage]]: ...


def reconnecting(
    url: str,
    *,
    min_delay: float = 0.5,
    max_delay: float = 30.0,
    factor: float = 2.0,
    max_attempts: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> Iterator[WsClient[Any]]:
    """Yield a connected :class:`WsClient` now and again after each drop.

    The loop body uses the connection; when it ends (normally, with
    ``continue`` after a ConnectionClosed, or because the connection
    dropped), the previous connection is closed and a new one is made.
    ``break`` stops reconnecting.

    Args:
        url, options: as for :class:`WsClient`.
        min_delay: the first backoff step, in seconds; after a connection
            that was used, the next attempt waits a random part of it.
        max_delay: the longest wait between attempts.
        factor: how much each failed attempt in a row grows the wait.
        max_attempts: failed attempts in a row before giving up (raising
            the last error); None retries for ever.
        sleep: how to wait (``time.sleep``; tests pass their own).

    Raises:
        The error of an attempt that cannot succeed by retrying (see the
        module doc), or of the last attempt when ``max_attempts`` is spent;
        ConnectionClosed when the server closed with 1008.
    """
    min_delay = _check_delay("min_delay", min_delay, 0.0)
    max_delay = _check_delay("max_delay", max_delay, min_delay)
    factor = _check_delay("factor", factor, 1.0)
    if max_attempts is not None and (isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1):
        raise ValueError(f"max_attempts must be an int >= 1 or None, got {max_attempts!r}")
    failures = 0
    while True:
        try:
            ws = WsClient(url, **options)
        except Exception as exc:
            if _final(exc):
                logger.error("not reconnecting to %s: %s", url, exc)
                raise
            failures += 1
            if max_attempts is not None and failures >= max_attempts:
                logger.error("giving up on %s after %d attempts: %s", url, failures, exc)
                raise
            delay = random.uniform(0, min(max_delay, min_delay * factor ** (failures - 1)))
            logger.warning(
                "connecting to %s failed (%s: %s); attempt %d in %.2f s",
                url, type(exc).__name__, exc, failures + 1, delay,
            )
            sleep(delay)
            continue
        failures = 0
        try:
            yield ws
        finally:
            # Closed however the loop body ended (a break included).
            ws.close()
        received = ws.close_received
        if received is not None and received[0] in FINAL_CLOSE_CODES:
            logger.error("not reconnecting to %s: the server closed with %d", url, received[0])
            raise ConnectionClosed(received[0], received[1])
        ended = ws.ended
        failure = None if ended is None else ended.__cause__
        reason = f"{type(failure).__name__}: {failure}" if failure else ended
        delay = random.uniform(0, min_delay)
        logger.warning("connection to %s ended (%s); reconnecting in %.2f s", url, reason, delay)
        sleep(delay)
