# C types for _buffer.py, which Cython compiles in pure-Python mode
# (https://cython.readthedocs.io/en/latest/src/tutorial/pure.html).  The
# logic is all in the .py; this file only says what is a C integer, a
# pointer or a cdef class, so that the hot paths run without Python objects.

cimport cython

from websocket._speedups cimport new_bytes, writable_bytes

cdef Py_ssize_t BIG_FRAME, HEADER_MAX, READ_MIN, READ_MAX, READ_GROWN


cdef class _ReceiveBuffer:
    cdef bytearray _buf
    cdef object _view
    cdef Py_ssize_t _start, _end, _read
    cdef object _direct
    cdef Py_ssize_t _direct_base, _direct_filled
    cdef long long _direct_length
    cdef bint _after_big, _into_direct, _exactly
    cdef Py_ssize_t _offered
    cdef object _offered_view
    cdef bytearray _msg
    cdef object _error
    cdef list _reads

    @cython.locals(at=Py_ssize_t)
    cpdef object get_buffer(self)
    @cython.locals(size=Py_ssize_t, keep=Py_ssize_t, want=Py_ssize_t)
    cdef Py_ssize_t _offer(self) except -2
    @cython.locals(keep=Py_ssize_t, buf=bytearray)
    cdef _move(self, Py_ssize_t size)
    cpdef object read_with(self, object reader)
    cdef object _settle(self)
    cpdef buffer_updated(self, Py_ssize_t nbytes)
    @cython.locals(read=Py_ssize_t)
    cdef _book(self, Py_ssize_t nbytes)
    cdef object _direct_view(self, Py_ssize_t want)
    @cython.locals(filled=Py_ssize_t)
    cdef object _to_exact(self, Py_ssize_t want)
