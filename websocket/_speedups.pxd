# What other compiled modules see of _speedups.pyx: the lock, the frame
# encoder and the descriptor read, so that the protocol's fast paths
# (ClientProtocol.receive_ready and send_ready, and the TLS layer's) take and release the shell's
# locks, encode and write frames and read bytes with C calls, not Python
# method calls.

cimport cython
from cpython.buffer cimport PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact
from cpython.long cimport PyLong_CheckExact
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint32_t
from libc.string cimport memcpy

from websocket._csrc cimport WS_UTF8_ACCEPT, ws_mask, ws_utf8_feed

cdef extern from "pythread.h":
    ctypedef void *PyThread_type_lock


@cython.final
cdef class FastLock:
    cdef PyThread_type_lock _lock
    cdef bint _held
    cdef bint _signalled
    cdef int _waiters

    cdef bint _wait(self, double timeout) except -1

    cpdef bint acquire(self, bint blocking=*, double timeout=*) except -1
    cpdef release(self)


@cython.final
cdef class FrameEncoder:
    cdef bint _mask
    cdef bytes _keys
    cdef Py_ssize_t _key_pos
    cdef bytearray _buf
    cdef unsigned char *_chunk  # send_to(): frames are built here, in pieces
    cdef readonly bint partial

    cdef const unsigned char *_next_key(self) except NULL

    cpdef send_to(self, int fd, int opcode, object payload, bint fin=*, bint rsv1=*)
    cpdef encode(self, int opcode, object payload, bint fin=*, bint rsv1=*)


cpdef send_all(int fd, object data)

cpdef bint hold_signals() except -1
cpdef release_signals()


cpdef Py_ssize_t recv_into(int fd, object buffer, Py_ssize_t start, Py_ssize_t size,
                           double timeout=*) except -2


cdef class Utf8Validator:
    cdef uint32_t state
    cdef bint _feed(self, const unsigned char *p, size_t n) noexcept nogil


cpdef object mask(object data, object key, object phase=*)
cpdef bytes frame_header(int b0, unsigned long long length, bint masked)
cpdef object writable_bytes(bytes owner, Py_ssize_t offset, Py_ssize_t size)
cpdef object ascii_slice(str text, Py_ssize_t start, Py_ssize_t stop)


# -- what the compiled rooms construct ----------------------------------------
# The rooms call these rather than the classes: a room star-imports the
# twins (_speedups_py), and a class of that name would overwrite the C type
# it cimports.

cdef inline FastLock new_lock():
    return FastLock()


cdef inline FrameEncoder new_encoder(bint masked):
    return FrameEncoder(masked)


cdef inline Utf8Validator new_utf8_validator():
    return Utf8Validator()


# -- a timeout, as the fast paths take it ---------------------------------------

cdef extern from *:
    """
    /* The value of an int that fits one digit (|v| < 2**30), read in
       place: receive(timeout=10) should not pay PyLong_AsDouble's call
       (about 30 instructions) per message.  0 for a bigger int. */
    static CYTHON_INLINE int ws_compact_int(PyObject *op, long *out) {
    #if PY_VERSION_HEX >= 0x030C0000
        if (!PyUnstable_Long_IsCompact((PyLongObject *)op)) return 0;
        *out = (long)PyUnstable_Long_CompactValue((PyLongObject *)op);
    #else
        Py_ssize_t size = Py_SIZE(op);
        if (size < -1 || size > 1) return 0;
        *out = (long)size * (long)((PyLongObject *)op)->ob_digit[0];
    #endif
        return 1;
    }
    """
    bint ws_compact_int(object op, long *out) noexcept


cdef inline double seconds_of(object timeout, double longest) noexcept:
    """``timeout`` as a fast path takes it: -1.0 for None (no limit), the
    seconds of a float or an int from 0 to ``longest``; -2.0 for anything
    else (negative, NaN, longer, a bool or another type), which is the
    full path's to refuse or honour.  An int is read in place: no call,
    no float object.  ``longest`` must be under 2**30."""
    cdef double v
    cdef long small
    if timeout is None:
        return -1.0
    if PyFloat_CheckExact(timeout):
        v = PyFloat_AS_DOUBLE(timeout)
    elif PyLong_CheckExact(timeout):
        # An int of more than one digit is 2**30 s (34 years) or more, or
        # negative: beyond any ``longest`` the engine gives (a year).
        if not ws_compact_int(timeout, &small):
            return -2.0
        v = <double>small
    else:
        return -2.0
    if 0.0 <= v <= longest:
        return v
    return -2.0


# -- primitives on a buffer's memory, for the compiled rooms ------------------
# Each is inlined where a room calls it, on the pointer the room holds into
# its receive buffer; _speedups_py.py has each one's twin, taking the buffer
# object itself, so that a room's source is the same in both builds.

cdef inline bytes bytes_at(const unsigned char *p, Py_ssize_t start, Py_ssize_t n):
    """A copy of ``n`` bytes at ``start``."""
    return PyBytes_FromStringAndSize(<const char *>p + start, n)


cdef inline str text_at(const unsigned char *p, Py_ssize_t start, Py_ssize_t n):
    """The UTF-8 text of ``n`` bytes at ``start`` (UnicodeDecodeError)."""
    return PyUnicode_DecodeUTF8(<const char *>p + start, n, NULL)


cdef inline bint utf8_at(const unsigned char *p, Py_ssize_t start, Py_ssize_t n) noexcept:
    """Whether ``n`` bytes at ``start`` are whole, valid UTF-8."""
    return ws_utf8_feed(WS_UTF8_ACCEPT, p + start, <size_t>n, NULL) == WS_UTF8_ACCEPT


cdef inline void unmask_at(unsigned char *p, Py_ssize_t at, Py_ssize_t n, const unsigned char *key,
                           Py_ssize_t phase) noexcept:
    """Unmask ``n`` bytes at ``at`` in place, the key at ``phase``."""
    ws_mask(p + at, p + at, <size_t>n, key, <size_t>phase)


cdef inline bytes new_bytes(Py_ssize_t n):
    """A bytes object of ``n`` to be filled in place (uninitialized)."""
    return PyBytes_FromStringAndSize(NULL, n)


cdef inline bint copy_to(object into, const unsigned char *p, Py_ssize_t start, Py_ssize_t n) except -1:
    """Copy ``n`` bytes at ``start`` into the caller's buffer ``into``;
    False (nothing copied) if it is not writable or shorter than ``n``."""
    cdef Py_buffer view
    try:
        PyObject_GetBuffer(into, &view, PyBUF_WRITABLE)
    except (TypeError, BufferError):
        return False
    if view.len < n:
        PyBuffer_Release(&view)
        return False
    memcpy(view.buf, p + start, <size_t>n)
    PyBuffer_Release(&view)
    return True


cdef inline uint32_t tail_in(unsigned char *p, Py_ssize_t at) noexcept:
    """Write the RFC 7692 §7.2.2 tail (00 00 FF FF) at ``at``; the four
    bytes it covered, for tail_out()."""
    cdef uint32_t saved
    memcpy(&saved, p + at, 4)
    memcpy(p + at, b"\x00\x00\xff\xff", 4)
    return saved


cdef inline void tail_out(unsigned char *p, Py_ssize_t at, uint32_t saved) noexcept:
    """Put back the four bytes tail_in() covered."""
    memcpy(p + at, &saved, 4)
