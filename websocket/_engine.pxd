# C types for _engine.py, which Cython compiles in pure-Python mode like the
# protocol's rooms: the logic is all in the .py.

cimport cython

from websocket._parser cimport FrameParser
from websocket._protocol cimport ClientProtocol
# (FastLock under another name: the .py star-imports the twins, and their
# class must not overwrite the C type; it constructs locks with new_lock().)
from websocket._speedups cimport FastLock as _Lock
from websocket._speedups cimport new_lock, recv_into, seconds_of, send_all

cdef object _OPEN
cdef double _TIMEOUT_MAX


cdef class Transport:
    cdef readonly ClientProtocol proto
    cdef readonly FrameParser parser
    cdef readonly _Lock send_lock
    cdef public int send_fd, read_fd
    cdef public object sock, tls, flush_out, wpoll, rpoll, recv_now, shell

    @cython.locals(flags=int, proto=ClientProtocol)
    cpdef bint fill(self, object deadline) except -1
    @cython.locals(flags=int, proto=ClientProtocol)
    cdef bint _fill_tls(self, object deadline) except -1
    cpdef shutdown_write(self)
    @cython.locals(lock=_Lock, locked=bint)
    cpdef close_socket(self, bint have_send_lock, object lock_deadline)
    cpdef dropped(self)
    cpdef drain(self, object deadline)
    @cython.locals(total=Py_ssize_t, done=Py_ssize_t, flags=int)
    cpdef write(self, object data, object deadline)


@cython.final
cdef class Engine(Transport):
    cdef readonly _Lock recv_lock
    cdef public bint plain, tls_out
    cdef public object writer, reader
    cdef public unsigned long handed
    cdef public object send_failure
    cdef public double deadline
    cdef public object full_receive, on_message

    @cython.locals(fd=int, compressed=bint)
    cpdef bint send_ready(self, int opcode, object payload, bint compress=*) except -1
    @cython.locals(use=bint)
    cpdef int send_data(self, int opcode, object payload, object compress, object timeout) except -2
    cpdef bint take(self) except -1
    cpdef give_back(self)
    @cython.locals(lock=_Lock, proto=ClientProtocol, parser=FrameParser, fd=int,
                   at=Py_ssize_t, n=Py_ssize_t, wait=double, seconds=double, keep=double, read=bint)
    cpdef object receive_ready(self, object timeout=*)
