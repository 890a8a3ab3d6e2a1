"""Deadlines, waits and the locks' timeouts of the blocking client: what
``WsClient``'s sending and receiving share (``_sending.py``,
``_receiving.py``)."""

from __future__ import annotations

import math
import select
import socket
import threading
import time
from typing import Any

__all__ = ["_Poller", "_Stalled", "_acquire", "_check_timeout", "_deadline", "_remaining"]

_WOULD_BLOCK = (BlockingIOError, InterruptedError)
# Without MSG_DONTWAIT (Windows), a recv() after poll() said "readable"
# returns at once anyway.
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
# poll() takes milliseconds in a C int.
_POLL_MAX_MS = 2**31 - 1


def _check_timeout(name: str, value: object) -> float | None:
    """Seconds as a float; None for no limit (None, inf, or beyond what the
    OS can wait for)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(value).__name__}")
    if value != value or value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    # (Compared as it is: an int too big for a float, 10**400, is no
    # limit like inf, not an OverflowError.)
    if value > threading.TIMEOUT_MAX:
        return None
    return float(value)


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _acquire(lock: Any, deadline: float | None) -> bool:
    if deadline is None:
        return bool(lock.acquire())
    return bool(lock.acquire(True, _remaining(deadline)))


class _Stalled(Exception):
    """A write's deadline passed (turned into WebSocketTimeout by the
    public method that knows its name and timeout)."""

    def __init__(self, written: int = 0) -> None:
        super().__init__(written)
        self.written = written


class _Poller:
    """Waits for one socket to become readable or writable."""

    def __init__(self, sock: socket.socket, write: bool) -> None:
        self._fd = sock.fileno()
        self._write = write
        self._poll: Any = None
        if hasattr(select, "poll"):
            self._poll = select.poll()
            flags = select.POLLOUT if write else select.POLLIN | select.POLLPRI
            self._poll.register(self._fd, flags)

    def wait(self, deadline: float | None) -> bool:
        """False if the deadline passed first."""
        while True:
            # Past the deadline, one look without waiting: ready now is ready.
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._poll is not None:
                ms = None if timeout is None else min(_POLL_MAX_MS, math.ceil(timeout * 1000))
                if self._poll.poll(ms):
                    return True
            else:
                fds = [self._fd]  # Windows
                wait = None if timeout is None else min(timeout, 86400.0)
                if self._write:
                    if select.select([], fds, fds, wait)[1]:
                        return True
                elif select.select(fds, [], fds, wait)[0]:
                    return True
            if timeout == 0.0:
                return False
