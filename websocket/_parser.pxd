# C types for _parser.py, which Cython compiles in pure-Python mode like
# _buffer.py and _reader.py: the logic is all in the .py.

cimport cython

from websocket._compression cimport Inflater
from websocket._reader cimport _FrameReader, _Header
from websocket._speedups cimport copy_to, utf8_at

cdef object _NEED, _DROPPED
cdef int _IDLE, _STREAMING, _INTO, _DISCARD
cdef int _TEXT, _BINARY
cdef Py_ssize_t BIG_FRAME, READ_MIN, FRAGMENT_COST


cdef class FrameParser(_FrameReader):
    cdef long long _zout
    cdef Py_ssize_t _into_at
    cdef object _into_view
    cdef object _udec
    cdef readonly long long stream_serial

    cpdef object next_message(self)
    cdef object _next_unheld(self)
    cpdef object next_piece(self)
    cpdef object next_piece_into(self, object into)
    @cython.locals(p='const unsigned char *', h=_Header, opcode=int, hlen=int, length=Py_ssize_t,
                   start=Py_ssize_t)
    cpdef Py_ssize_t whole_into(self, object into) except -2
    cdef Py_ssize_t _give_held(self, object into) except -1
    cpdef discard_message(self)
    cdef object _pieces(self, object into)
    cdef object _finish_whole(self, object into)
    @cython.locals(h=_Header, opcode=int, length=cython.longlong, base=Py_ssize_t,
                   done=Py_ssize_t, n=Py_ssize_t, fin=bint, kind=int, zmsg=bint, state=int,
                   text=bint, at=Py_ssize_t, end=Py_ssize_t)
    cdef object _piece(self, object into)
    @cython.locals(h=_Header, avail=Py_ssize_t)
    cdef _start_piecewise(self, object into)
    cdef _move_into(self, object into, Py_ssize_t at)
    @cython.locals(h=_Header, length=Py_ssize_t, filled=Py_ssize_t, kind=int, discard=bint)
    cdef object _direct_into(self, object into)
    @cython.locals(inflater=Inflater, limit=cython.longlong, size=Py_ssize_t)
    cdef object _inflate_piece(self, object src, bint fin)
