"""The contract both primitive twins satisfy (``_speedups`` and ``_speedups_py``).

Primitives only: every protocol rule is in ``_protocol.py``.
"""

from typing_extensions import Buffer as _BytesLike
from typing_extensions import disjoint_base, final

__all__ = [
    "HAVE_FD_IO",
    "mask",
    "mask_into",
    "frame_header",
    "validate_utf8",
    "Utf8Validator",
    "FrameEncoder",
    "FastLock",
    "recv_into",
    "send_all",
    "hold_signals",
    "release_signals",
    "writable_bytes",
    "ascii_slice",
]

HAVE_FD_IO: bool
REUSE_FROM: int
REUSE_UP_TO: int

def mask(data: _BytesLike, key: _BytesLike, phase: int = 0) -> bytes: ...
def mask_into(dst: _BytesLike, src: _BytesLike, key: _BytesLike, phase: int = 0) -> int: ...
def frame_header(b0: int, length: int, masked: bool) -> bytes: ...
def validate_utf8(data: _BytesLike) -> bool: ...
def recv_into(fd: int, buffer: _BytesLike, start: int, size: int, timeout: float = -1.0) -> int: ...
def send_all(fd: int, data: _BytesLike) -> None: ...
def hold_signals() -> bool: ...
def release_signals() -> None: ...
def ascii_slice(text: str, start: int, stop: int) -> _BytesLike:
    """``text[start:stop].encode("ascii")`` of an ASCII str (ValueError
    otherwise); the compiled twin's is a view of the str, without a copy."""

def writable_bytes(owner: bytes, offset: int, size: int) -> memoryview:
    """Compiled twin only: a writable view into a bytes object being filled."""

@disjoint_base
class Utf8Validator:
    def reset(self) -> None: ...
    def feed(self, data: _BytesLike) -> bool: ...
    @property
    def valid(self) -> bool: ...
    @property
    def complete(self) -> bool: ...

@final
class FrameEncoder:
    """Final in the compiled build, so that the protocol calls send_to and
    encode in C."""
    @property
    def partial(self) -> bool: ...
    def __init__(self, mask: bool = True) -> None: ...
    def encode(
        self, opcode: int, payload: str | _BytesLike, fin: bool = True, rsv1: bool = False
    ) -> _BytesLike: ...
    def send_to(
        self, fd: int, opcode: int, payload: str | _BytesLike, fin: bool = True, rsv1: bool = False
    ) -> None: ...

@final
class FastLock:
    """threading.Lock's interface (the pure twin's FastLock is threading.Lock,
    which cannot be subclassed either; the compiled one is final so that the
    protocol calls its methods in C)."""
    def acquire(self, blocking: bool = True, timeout: float = -1.0) -> bool: ...
    def release(self) -> None: ...
    def locked(self) -> bool: ...
    def __enter__(self) -> bool: ...
    def __exit__(self, *exc: object) -> None: ...
