# C types for _compression.py, which Cython compiles in pure-Python mode like
# _parser.py and _protocol.py: the logic is all in the .py.

cimport cython

from websocket._speedups cimport ascii_slice

# INFLATE_CHUNK, INFLATE_KEEP and JOIN_MAX stay Python objects: _parser.py
# imports two of them (into C integers there), and a module's C variables
# are not attributes others can import.


cdef class Inflater:
    cdef int _wbits
    cdef bint _reset
    cdef object _z
    cdef public bytearray out
    cdef public Py_ssize_t size
    cdef public object whole
    cdef bytearray _join

    @cython.locals(joined=bint, join=bytearray, cut=bint, before=Py_ssize_t)
    cpdef Py_ssize_t inflate(self, object data, long long limit, bint final, bint whole=*,
                             bint tailed=*) except -1
    @cython.locals(size=Py_ssize_t, want=Py_ssize_t, got=Py_ssize_t)
    cdef bint _pump(self, object z, object data, long long limit, bint whole=*) except -1
    cpdef done(self)
    cdef bint _ends_between_blocks(self, object z) except -1


cdef class Deflater:
    cdef object _z
    cdef int _flush
    cdef bytearray _out

    @cython.locals(total=Py_ssize_t, size=Py_ssize_t, at=Py_ssize_t, out=bytes)
    cpdef object compress(self, object payload, bint final=*)
    cdef Py_ssize_t _append(self, Py_ssize_t size, bytes done) except -1
