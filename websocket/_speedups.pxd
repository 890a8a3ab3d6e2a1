# What other compiled modules see of _speedups.pyx: the lock, so that the
# protocol's fast paths (ClientProtocol.receive_ready and send_ready) take
# and release the shell's locks with C calls, not Python method calls.

cimport cython

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
