# C types for _tls.py, which Cython compiles in pure-Python mode like
# _protocol.py.  The logic is all in the .py; this file says what is a cdef
# class, a C integer or a C call, so that the TLS fast paths (read_ready,
# write_ready) run without Python frames.

cimport cython

# (FastLock under another name: see _engine.pxd.)
from websocket._speedups cimport FastLock as _Lock
from websocket._speedups cimport hold_signals, new_lock, recv_into, release_signals, send_all


@cython.final
cdef class TLSLayer:
    cdef readonly object incoming, outgoing, obj, sslobj
    cdef readonly TLSLayer under
    cdef readonly _Lock lock
    cdef readonly bytearray scratch
    cdef object _scratch
    cdef readonly Py_ssize_t read_size
    cdef readonly object sock
    cdef public int write_fd, read_fd
    cdef public bint ended
    cdef public object error

    cpdef use_descriptor(self, bint write, bint read)
    cpdef stop_reading(self)
    cdef bytes _wrap(self, object data)
    cpdef write_ready(self, object data)
    cpdef bint has_output(self) except -1
    cpdef object read_into(self, object view)
    @cython.locals(size=Py_ssize_t, n=Py_ssize_t, got=Py_ssize_t, held=bint)
    cdef object _read(self, object view)
    @cython.locals(n=object, fd=int, got=Py_ssize_t, size=Py_ssize_t)
    cpdef Py_ssize_t read_ready(self, object view) except -1
    @cython.locals(got=Py_ssize_t, size=Py_ssize_t)
    cpdef Py_ssize_t fill(self, object sock, int flags=*) except -1
    cdef _grow(self, Py_ssize_t got, Py_ssize_t size)
    cpdef feed(self, object data)
    cdef _feed(self, object data)
