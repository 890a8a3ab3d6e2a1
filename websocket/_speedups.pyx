# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True
"""Compiled primitives: the twin of ``_speedups_py.py``.

Only what pure Python cannot do fast lives here and in its twin: XOR
masking with a key phase (RFC 6455 §5.3), incremental UTF-8 validation
(§8.1), frame-header encoding and masked frame building into a buffer, the
fd write and read fast paths, a writable view into a bytes object being filled, and a
cheap lock.  Every protocol rule is in ``_protocol.py``, compiled on its own.
Same names, signatures, results and exceptions as the twin
(``_speedups.pyi`` is the contract); the C is in ``csrc/``.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_FillInfo, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy, strerror

import os

from websocket._csrc cimport (WS_HAVE_FD_IO, WS_UTF8_ACCEPT, WS_UTF8_REJECT, ws_mask,
                              ws_chunk_alloc, ws_chunk_free, ws_hold_signals, ws_monotonic,
                              ws_readable, ws_recv, ws_release_signals, ws_send_all, ws_utf8_feed)

cdef extern from "Python.h":
    int PyErr_CheckSignals() except -1
    # PEP 393: an ASCII str stores one byte per character, its UTF-8.
    bint PyUnicode_IS_ASCII(object text)
    void *PyUnicode_DATA(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)

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

cdef enum:
    _REUSE_FROM = 65536
    _REUSE_UP_TO = 16777216
    _KEY_BLOCK = 1024
    _SEND_CHUNK = 1048576  # measured: 4.4 GB/s, against 4.0 GB/s with 256 KiB

#: FrameEncoder.send_to() works on this platform (not on Windows).
HAVE_FD_IO = bool(WS_HAVE_FD_IO)

REUSE_FROM = _REUSE_FROM
REUSE_UP_TO = _REUSE_UP_TO


cdef int _get_buffer(object obj, Py_buffer *view, str what) except -1:
    """Acquire a contiguous byte buffer of ``obj`` (copying if it is not)."""
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
        return 0
    except BufferError:
        pass
    except TypeError:
        raise TypeError(f"{what} must be a bytes-like object, not {type(obj).__name__}") from None
    # A non-contiguous buffer: the twin copies it too.
    PyObject_GetBuffer(memoryview(obj).tobytes(), view, PyBUF_SIMPLE)
    return 0


cdef int _get_payload(object payload, Py_buffer *view) except -1:
    """A frame's payload as a buffer: a str is its UTF-8, an ASCII one read
    in place (see ascii_slice) instead of encoded into a new bytes object."""
    if isinstance(payload, str):
        if PyUnicode_IS_ASCII(payload):
            PyBuffer_FillInfo(view, payload, PyUnicode_DATA(payload), PyUnicode_GET_LENGTH(payload), 1, PyBUF_SIMPLE)
            return 0
        payload = (<str>payload).encode("utf-8")
    return _get_buffer(payload, view, "payload")


cdef int _get_key(object key, unsigned char *out) except -1:
    cdef Py_buffer view
    _get_buffer(key, &view, "mask key")
    try:
        if view.len != 4:
            raise ValueError(f"mask key must be 4 bytes, got {view.len}")
        memcpy(out, view.buf, 4)
    finally:
        PyBuffer_Release(&view)
    return 0


cdef size_t _phase(object phase) except? 99:
    if not isinstance(phase, int) or isinstance(phase, bool):
        raise TypeError(f"phase must be an int, not {type(phase).__name__}")
    if phase < 0:
        raise ValueError(f"phase must be >= 0, got {phase}")
    return <size_t>(phase & 3)


cpdef object mask(object data, object key, object phase=0):
    cdef Py_buffer view
    cdef unsigned char k[4]
    cdef unsigned char *dst
    cdef size_t p
    _get_buffer(data, &view, "data")
    try:
        _get_key(key, k)
        p = _phase(phase)
        out = PyBytes_FromStringAndSize(NULL, view.len)
        dst = <unsigned char *>PyBytes_AS_STRING(out)
        with nogil:
            ws_mask(dst, <const unsigned char *>view.buf, <size_t>view.len, k, p)
        return out
    finally:
        PyBuffer_Release(&view)


def mask_into(dst, src, key, phase=0):
    cdef Py_buffer out
    cdef Py_buffer view
    cdef unsigned char k[4]
    cdef size_t p = _phase(phase)
    cdef size_t result
    try:
        PyObject_GetBuffer(dst, &out, PyBUF_WRITABLE)
    except (BufferError, TypeError):
        raise TypeError("dst must be a writable buffer") from None
    try:
        _get_buffer(src, &view, "data")
        try:
            _get_key(key, k)
            if out.len < view.len:
                raise ValueError(f"dst of {out.len} bytes is shorter than src of {view.len}")
            with nogil:
                result = ws_mask(<unsigned char *>out.buf, <const unsigned char *>view.buf,
                                 <size_t>view.len, k, p)
            return result
        finally:
            PyBuffer_Release(&view)
    finally:
        PyBuffer_Release(&out)


cdef inline int _b0_checked(int opcode, bint fin, bint rsv1) except -1:
    if opcode < 0 or opcode > 0xF:
        raise ValueError(f"invalid opcode {opcode}: must be 0-15")
    return opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)


cpdef bytes frame_header(int b0, unsigned long long length, bint masked):
    if b0 < 0 or b0 > 0xFF:
        raise ValueError(f"first header byte {b0} out of range 0-255")
    cdef unsigned char out[10]
    return PyBytes_FromStringAndSize(<char *>out, _write_header(out, b0, length, masked))


cdef inline Py_ssize_t _write_header(unsigned char *out, int b0, uint64_t length,
                                     bint masked) noexcept nogil:
    cdef unsigned char m = 0x80 if masked else 0
    cdef int i
    out[0] = <unsigned char>b0
    if length < 126:
        out[1] = m | <unsigned char>length
        return 2
    if length < 0x10000:
        out[1] = m | 126
        out[2] = <unsigned char>(length >> 8)
        out[3] = <unsigned char>length
        return 4
    out[1] = m | 127
    for i in range(8):
        out[2 + i] = <unsigned char>(length >> (56 - 8 * i))
    return 10


cdef object _encode(int b0, const unsigned char *data, Py_ssize_t n, bint masked,
                    const unsigned char *key):
    cdef unsigned char header[14]
    cdef Py_ssize_t hlen = _write_header(header, b0, <uint64_t>n, masked)
    cdef Py_ssize_t klen = 4 if masked else 0
    out = PyBytes_FromStringAndSize(NULL, hlen + klen + n)
    cdef unsigned char *p = <unsigned char *>PyBytes_AS_STRING(out)
    memcpy(p, header, hlen)
    if masked:
        memcpy(p + hlen, key, 4)
        with nogil:
            ws_mask(p + hlen + 4, data, <size_t>n, key, 0)
    else:
        memcpy(p + hlen, data, n)
    return out


cdef class Utf8Validator:
    def __cinit__(self):
        self.state = WS_UTF8_ACCEPT

    def reset(self):
        self.state = WS_UTF8_ACCEPT

    cdef bint _feed(self, const unsigned char *p, size_t n) noexcept nogil:
        self.state = ws_utf8_feed(self.state, p, n, NULL)
        return self.state != WS_UTF8_REJECT

    def feed(self, data):
        cdef Py_buffer view
        _get_buffer(data, &view, "data")
        try:
            return self._feed(<const unsigned char *>view.buf, <size_t>view.len)
        finally:
            PyBuffer_Release(&view)

    @property
    def valid(self):
        return self.state != WS_UTF8_REJECT

    @property
    def complete(self):
        return self.state == WS_UTF8_ACCEPT


def validate_utf8(data):
    cdef Py_buffer view
    cdef uint32_t state
    _get_buffer(data, &view, "data")
    try:
        with nogil:
            state = ws_utf8_feed(WS_UTF8_ACCEPT, <const unsigned char *>view.buf,
                                 <size_t>view.len, NULL)
        return state == WS_UTF8_ACCEPT
    finally:
        PyBuffer_Release(&view)


cdef int _os_error(int err) except -1:
    """Raise OSError for the errno ``err``, with the system's message."""
    raise OSError(err, strerror(err).decode("utf-8", "replace"))


cdef int _send_all(int fd, const unsigned char *buf, size_t length, size_t *done) except -1:
    """Write all of buf to fd, releasing the GIL; signals are checked on
    EINTR (a handler's exception propagates, the frame then half-sent).
    ``*done`` counts the bytes written, also when it raises."""
    cdef int err
    done[0] = 0
    while True:
        with nogil:
            err = ws_send_all(fd, buf, length, done)
        if err == 0:
            return 0
        if err != 4:  # EINTR
            _os_error(err)
        PyErr_CheckSignals()


cpdef Py_ssize_t recv_into(int fd, object buffer, Py_ssize_t start, Py_ssize_t size,
                           double timeout=-1.0) except -2:
    """Receive once from the blocking socket ``fd`` into
    ``buffer[start:start + size]``, without the GIL: the count, 0 at EOF.

    ``timeout`` (seconds, when >= 0): wait at most that long for bytes
    (poll), and return -1 if none came.  A signal that interrupts the wait
    runs Python's handlers (PEP 475): their exception propagates with
    nothing read, else it waits on (for what is left of ``timeout``).
    The protocol's receive fast path calls this in C (``_speedups.pxd``),
    where ``socket.recv_into`` plus a memoryview of the region cost about
    1,900 instructions per read in argument parsing and view slicing.
    """
    cdef Py_buffer view
    cdef size_t got = 0
    cdef int err
    cdef int ms
    cdef double deadline = 0.0, left
    if not WS_HAVE_FD_IO:
        raise OSError(38, "recv_into() is not available on this platform")
    try:
        PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE)
    except (BufferError, TypeError):
        raise TypeError("buffer must be a writable buffer") from None
    try:
        if start < 0 or size < 1 or start > view.len - size:
            raise ValueError(f"region {start}+{size} is outside the buffer's {view.len} bytes")
        if timeout >= 0.0:
            deadline = ws_monotonic() + timeout
            left = timeout
            while True:
                # Whole milliseconds, rounded up: a wait is never cut short.
                ms = <int>min(left * 1000.0 + 0.999999, 2147483647.0)
                with nogil:
                    err = ws_readable(fd, ms)
                if err > 0:
                    break
                if err == 0:
                    return -1
                if err != -4:  # EINTR
                    _os_error(-err)
                PyErr_CheckSignals()
                left = deadline - ws_monotonic()
                if left <= 0.0:
                    return -1
        while True:
            with nogil:
                err = ws_recv(fd, <unsigned char *>view.buf + start, <size_t>size, &got)
            if err == 0:
                return <Py_ssize_t>got
            if err != 4:  # EINTR
                _os_error(err)
            PyErr_CheckSignals()
    finally:
        PyBuffer_Release(&view)


cpdef send_all(int fd, object data):
    """Write all of ``data`` (a bytes-like object) to the blocking socket
    ``fd``, without the GIL.  A signal that interrupts the write runs
    Python's handlers: their exception propagates with part of ``data``
    written, else the write goes on (PEP 475).  The TLS layer's send fast
    path (``_tls.TLSLayer.write_ready``) calls this in C, where
    ``socket.sendall`` cost a Python method call with argument parsing
    per frame.
    """
    cdef Py_buffer view
    cdef size_t done = 0
    if not WS_HAVE_FD_IO:
        raise OSError(38, "send_all() is not available on this platform")
    _get_buffer(data, &view, "data")
    try:
        _send_all(fd, <const unsigned char *>view.buf, <size_t>view.len, &done)
    finally:
        PyBuffer_Release(&view)


# -- signals held while TLS decrypts -------------------------------------------

cdef extern from "pythread.h":
    unsigned long PyThread_get_thread_ident()

import threading as _threading

cdef unsigned long _main_thread = _threading.main_thread().ident


cpdef bint hold_signals() except -1:
    """Run the signal handlers now due, then keep new signals from reaching
    Python's handlers until :func:`release_signals`: True if it did (this
    is the main thread), False elsewhere (CPython runs handlers only in the
    main thread, so nothing needs holding there).

    Why: ``ssl.SSLObject.read`` runs pending handlers right after
    ``SSL_read``, and a handler's exception then discards the plaintext
    that call took from the TLS session: bytes of the stream lost for
    good.  The TLS layer holds signals around its reads; they arrive when
    released, as the OS keeps a blocked signal pending.  A signal the OS
    gives to another thread still sets Python's flag meanwhile: the layer
    fails the connection then, rather than lose bytes silently.  A handler's
    exception raised here propagates, with nothing read.
    """
    if PyThread_get_thread_ident() != _main_thread:
        return False
    if not ws_hold_signals():
        return False
    try:
        PyErr_CheckSignals()
    except BaseException:
        ws_release_signals()
        raise
    return True


cpdef release_signals():
    """End :func:`hold_signals` (only after it returned True)."""
    ws_release_signals()


cdef class FrameEncoder:
    # Attributes and cpdef methods: in _speedups.pxd, so that the
    # protocol's send_ready calls send_to and encode in C.

    def __init__(self, mask=True):
        self._mask = bool(mask)
        self._keys = b""
        self._key_pos = _KEY_BLOCK
        self._buf = bytearray()

    def __dealloc__(self):
        ws_chunk_free(self._chunk, _SEND_CHUNK)

    cpdef send_to(self, int fd, int opcode, object payload, bint fin=True, bint rsv1=False):
        """Encode one frame and write all of it to the blocking socket fd.

        The frame is built in a reused buffer of 1 MiB, masked piece by
        piece as it is written, so a large payload is read once and the
        kernel copies from cache; the GIL is released while writing.

        Raises:
            OSError: the write failed; ``partial`` then says whether part
                of the frame was written (the stream cannot go on).
        """
        cdef Py_buffer view
        cdef const unsigned char *key = NULL
        cdef const unsigned char *src
        cdef unsigned char *p
        cdef Py_ssize_t hlen, room, n, off = 0
        cdef size_t phase = 0, done = 0
        cdef Py_ssize_t written = 0
        cdef int b0 = _b0_checked(opcode, fin, rsv1)
        self.partial = False
        if not WS_HAVE_FD_IO:
            raise OSError(38, "send_to() is not available on this platform")
        if self._chunk == NULL:
            self._chunk = ws_chunk_alloc(_SEND_CHUNK)
            if self._chunk == NULL:
                raise MemoryError()
        _get_payload(payload, &view)
        try:
            p = self._chunk
            src = <const unsigned char *>view.buf
            hlen = _write_header(p, b0, <uint64_t>view.len, self._mask)
            if self._mask:
                key = self._next_key()
                memcpy(p + hlen, key, 4)
                hlen += 4
            while True:
                room = _SEND_CHUNK - hlen
                n = view.len - off if view.len - off < room else room
                if self._mask:
                    phase = ws_mask(p + hlen, src + off, <size_t>n, key, phase)
                else:
                    memcpy(p + hlen, src + off, n)
                try:
                    _send_all(fd, p, <size_t>(hlen + n), &done)
                finally:
                    written += done
                    self.partial = 0 < written and done < <size_t>(hlen + n)
                off += n
                if off >= view.len:
                    return None
                hlen = 0
        finally:
            PyBuffer_Release(&view)

    cdef const unsigned char *_next_key(self) except NULL:
        if self._key_pos >= _KEY_BLOCK:
            self._keys = os.urandom(_KEY_BLOCK)
            self._key_pos = 0
        cdef const unsigned char *k = <const unsigned char *>PyBytes_AS_STRING(self._keys) + self._key_pos
        self._key_pos += 4
        return k

    cpdef encode(self, int opcode, object payload, bint fin=True, bint rsv1=False):
        cdef Py_buffer view
        cdef const unsigned char *key = NULL
        cdef Py_ssize_t hlen, total
        cdef unsigned char *p
        cdef int b0 = _b0_checked(opcode, fin, rsv1)
        _get_payload(payload, &view)
        try:
            if self._mask:
                key = self._next_key()
            total = view.len + (14 if self._mask else 10)
            if total <= _REUSE_FROM or total > _REUSE_UP_TO:
                return _encode(b0, <const unsigned char *>view.buf, view.len, self._mask, key)
            # Large frames reuse one buffer: a fresh megabyte-sized object per
            # frame costs more in page faults than the masking itself.  A new
            # bytearray (not a resize) keeps views of the old one valid.
            if len(self._buf) < total:
                self._buf = bytearray(total)
            p = <unsigned char *>(<char *>self._buf)
            hlen = _write_header(p, b0, <uint64_t>view.len, self._mask)
            if self._mask:
                memcpy(p + hlen, key, 4)
                hlen += 4
                with nogil:
                    ws_mask(p + hlen, <const unsigned char *>view.buf, <size_t>view.len, key, 0)
            else:
                memcpy(p + hlen, view.buf, view.len)
            return memoryview(self._buf)[:hlen + view.len]
        finally:
            PyBuffer_Release(&view)


cdef class _Region:
    """Exports a buffer over memory that ``owner`` holds, read-only or not:
    part of a bytes object being filled (writable_bytes) or an ASCII str's
    own characters (ascii_slice).  Holding ``owner`` keeps the memory alive
    for as long as the buffer is exported."""
    cdef object owner
    cdef char *ptr
    cdef Py_ssize_t size
    cdef bint readonly

    def __getbuffer__(self, Py_buffer *buffer, int flags):
        PyBuffer_FillInfo(buffer, self, self.ptr, self.size, self.readonly, flags)

    def __releasebuffer__(self, Py_buffer *buffer):
        pass

    def __len__(self):
        return self.size


cdef object _region(object owner, char *ptr, Py_ssize_t size, bint readonly):
    cdef _Region r = _Region.__new__(_Region)
    r.owner = owner
    r.ptr = ptr
    r.size = size
    r.readonly = readonly
    return memoryview(r)


cpdef object writable_bytes(bytes owner, Py_ssize_t offset, Py_ssize_t size):
    """A writable memoryview of ``owner[offset:offset + size]``.

    Only for a bytes object nobody else holds yet: the protocol receives a
    big frame's payload straight into the bytes object it will return.
    """
    if offset < 0 or size < 0 or offset + size > len(owner):
        raise ValueError(f"range {offset}+{size} outside bytes of {len(owner)}")
    return _region(owner, PyBytes_AS_STRING(owner) + offset, size, False)


cpdef object ascii_slice(str text, Py_ssize_t start, Py_ssize_t stop):
    """``text[start:stop].encode("ascii")`` of an ASCII str, as a read-only
    buffer over the str's own characters: no copy.

    An ASCII str stores one byte per character (PEP 393), which is its
    UTF-8.  A 1 MiB text message compressed in pieces this way allocates
    nothing per piece; encoded whole, it allocated, filled and freed 1 MiB
    per message.  ``start`` and ``stop`` are clamped as a slice's are
    (no negative indices).
    """
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    if not PyUnicode_IS_ASCII(text):
        raise ValueError(f"ascii_slice() needs an ASCII str, got one of {n} characters that is not")
    if start < 0 or stop < 0:
        raise ValueError(f"slice {start}:{stop} has a negative index")
    stop = min(stop, n)
    start = min(start, stop)
    return _region(text, <char *>PyUnicode_DATA(text) + start, stop - start, True)


# -- a lock for the per-message path ------------------------------------------

cdef extern from "pythread.h":  # PyThread_type_lock: in _speedups.pxd
    ctypedef enum PyLockStatus:
        PY_LOCK_FAILURE
        PY_LOCK_ACQUIRED
        PY_LOCK_INTR
    PyThread_type_lock PyThread_allocate_lock()
    void PyThread_free_lock(PyThread_type_lock)
    PyLockStatus PyThread_acquire_lock_timed(PyThread_type_lock, long long microseconds, int intr_flag) nogil
    void PyThread_release_lock(PyThread_type_lock)

cdef extern from *:
    """
    /* With a GIL, FastLock's state is a flag the GIL guards; without one
       (the free-threaded build) it is the OS lock itself. */
    #ifdef Py_GIL_DISABLED
    #define WS_GIL_GUARDS_LOCK 0
    #else
    #define WS_GIL_GUARDS_LOCK 1
    #endif
    """
    const bint WS_GIL_GUARDS_LOCK

from time import monotonic as _monotonic


cdef class FastLock:
    """A non-reentrant lock like ``threading.Lock``, cheaper to take when
    it is free.  A blocked acquire releases the GIL and runs signal
    handlers, like ``threading.Lock``.  Its attributes and cpdef methods
    are declared in ``_speedups.pxd``, where the protocol takes it with C
    calls.

    With a GIL, the lock's state is ``_held``, a flag that only code
    holding the GIL reads or writes, so a free lock is taken by testing and
    setting it, with no call.  Trying the OS lock instead (as
    ``threading.Lock`` does, and this class did) costs about 190
    instructions per acquire under callgrind on CPython 3.10-3.12, whose
    ``PyThread_acquire_lock_timed`` reads the monotonic clock for a
    deadline even for a try: on every ``send()`` and ``receive()``.

    The OS lock (``_lock``) then only carries the lock from a releasing
    thread to a waiting one.  It is held, except while ``release()`` hands
    the lock over: with threads waiting, ``release()`` leaves ``_held``
    set and releases the OS lock (``_signalled``), and the waiter that
    takes it owns the lock.  A direct hand-over, so that a thread that
    releases and takes the lock again in a loop cannot starve a waiter
    (the waiter needs the GIL to look at a flag, and the looping thread
    holds it); a waiter that times out or is interrupted while the lock
    is handed to it, with no other waiter left, takes the hand-over back
    and frees the lock.  Without a GIL (``Py_GIL_DISABLED``) a flag would
    race, so there the OS lock is the state, as before (a ``PyMutex``,
    whose free path is one atomic compare-and-swap).
    """

    def __cinit__(self):
        self._lock = PyThread_allocate_lock()
        if self._lock == NULL:
            raise MemoryError()
        if WS_GIL_GUARDS_LOCK:
            PyThread_acquire_lock_timed(self._lock, -1, 0)  # held unless handing over

    def __dealloc__(self):
        if self._lock != NULL:
            PyThread_free_lock(self._lock)

    cpdef bint acquire(self, bint blocking=True, double timeout=-1) except -1:
        if timeout != -1:
            if not blocking:
                raise ValueError("can't specify a timeout for a non-blocking call")
            if timeout < 0:
                raise ValueError(f"timeout value must be -1 or non-negative, got {timeout}")
        if WS_GIL_GUARDS_LOCK:
            if not self._held:
                self._held = True
                return True
            if not blocking:
                return False
            self._waiters += 1
            try:
                return self._wait(timeout)
            finally:
                self._waiters -= 1
                if self._signalled and self._waiters == 0:
                    # Handed over to waiters that all left: take it back.
                    PyThread_acquire_lock_timed(self._lock, 0, 0)
                    self._signalled = False
                    self._held = False
        if PyThread_acquire_lock_timed(self._lock, 0, 0) == PY_LOCK_ACQUIRED:
            self._held = True
            return True
        if not blocking:
            return False
        if self._wait(timeout):
            self._held = True
            return True
        return False

    cdef bint _wait(self, double timeout) except -1:
        """Wait for the OS lock (with a GIL: for a hand-over), running
        signal handlers; False once ``timeout`` (-1: none) has passed."""
        cdef PyLockStatus r
        cdef long long us
        cdef double deadline = 0
        if timeout >= 0:
            deadline = _monotonic() + timeout
        while True:
            us = -1 if timeout < 0 else <long long>(max(0.0, deadline - _monotonic()) * 1e6 + 0.999)
            with nogil:
                r = PyThread_acquire_lock_timed(self._lock, us, 1)
            if r == PY_LOCK_ACQUIRED:
                if WS_GIL_GUARDS_LOCK:
                    self._signalled = False  # handed over: the lock is ours
                return True
            if r == PY_LOCK_FAILURE:
                return False
            PyErr_CheckSignals()  # PY_LOCK_INTR: a handler's exception propagates

    cpdef release(self):
        if not self._held or self._signalled:  # free, or being handed over
            raise RuntimeError("release unlocked lock")
        if not WS_GIL_GUARDS_LOCK:
            self._held = False
            PyThread_release_lock(self._lock)
        elif self._waiters:
            self._signalled = True  # _held stays set: the lock goes to a waiter
            PyThread_release_lock(self._lock)
        else:
            self._held = False

    def locked(self):
        return self._held

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
