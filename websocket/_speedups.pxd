# What other compiled modules see of _speedups.pyx: the lock, the frame
# encoder and the descriptor read, so that the protocol's fast paths
# (ClientProtocol.receive_ready and send_ready, and the TLS layer's) take and release the shell's
# locks, encode and write frames and read bytes with C calls, not Python
# method calls.

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
