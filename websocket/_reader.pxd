# C types for _reader.py, which Cython compiles in pure-Python mode like
# _buffer.py: the logic is all in the .py.

cimport cython
from libc.stdint cimport uint32_t

from websocket._buffer cimport _ReceiveBuffer
from websocket._compression cimport Inflater
from websocket._speedups cimport (bytes_at, mask, new_bytes, new_utf8_validator, tail_in, tail_out, text_at,
                                  unmask_at, utf8_at)

cdef object _NEED
cdef int _IDLE
cdef int _TEXT, _BINARY, _PING, _PONG
cdef Py_ssize_t BIG_FRAME, CONTROL_MAX, FRAGMENT_COST, INFLATE_KEEP, JOIN_MAX
cdef long long EXACT_MAX, EXACT_AHEAD
cdef bint _EXACT_BYTES
cdef dict _TEXT_MSG, _BINARY_MSG, _PING_MSG, _PONG_MSG

cdef dict _message(dict template, object data)

cpdef bint _reserved(int opcode) noexcept


cdef class _Header:
    cdef public bint fin, rsv1, rsv2, rsv3, masked
    cdef public int opcode
    cdef public bytes key
    cdef public long long length
    cdef public Py_ssize_t size
    cdef public str error


@cython.locals(b0=int, b1=int, opcode=int, length=cython.ulonglong, i=int, size=Py_ssize_t)
cdef inline int _parse_header(const unsigned char *p, Py_ssize_t start, Py_ssize_t avail,
                              _Header h) except -2


cdef class _FrameReader(_ReceiveBuffer):
    cdef _Header _h
    cdef readonly object max_size
    cdef long long _max
    cdef bint _mask_allowed, _decode_text
    cdef bint _have_hdr, _text
    cdef Py_ssize_t _checked
    cdef int _msg_opcode
    cdef long long _msg_cost
    cdef object _utf8
    cdef object _inflater
    cdef bint _zmsg
    cdef object _zin
    cdef long long _zmax
    cdef readonly int last_opcode
    cdef public object held, held_into
    cdef public bint hold
    cdef public Py_ssize_t held_size
    cdef public object on_control, on_error
    cdef int _stream
    cdef readonly bint piece_fin

    cpdef set_inflater(self, Inflater inflater)
    cpdef object next_whole(self)
    cdef _failed(self, object exc)
    @cython.locals(p='const unsigned char *', h=_Header, opcode=int, hlen=int, length=Py_ssize_t,
                   start=Py_ssize_t, msg=dict, zmsg=bint, end=Py_ssize_t,
                   w=cython.p_uchar, saved=uint32_t)
    cdef object _whole_frame(self)
    # Both fast paths' test for a whole small data frame (FrameParser's too).
    @cython.final
    @cython.locals(h=_Header, hlen=int, start=Py_ssize_t, avail=Py_ssize_t, limit=cython.longlong)
    cdef int _small_frame(self) except -2
    cdef object _decode(self, const unsigned char *p, Py_ssize_t start, Py_ssize_t length)
    @cython.locals(h=_Header, opcode=int, length=cython.longlong, avail=Py_ssize_t, limit=cython.longlong,
                   extra=cython.longlong, bit=int, parsed=int)
    cdef bint _advance_header(self, bint direct) except -1
    cdef str _fragments_note(self, int opcode, long long length)
    cdef _start_direct(self, int opcode, long long length, Py_ssize_t avail)
    @cython.locals(done=Py_ssize_t)
    cdef _progress(self, object obj, Py_ssize_t base, Py_ssize_t upto)
    @cython.locals(p=cython.p_uchar)
    cdef _unmask(self, object obj, Py_ssize_t at, Py_ssize_t n, Py_ssize_t phase)
    @cython.locals(h=_Header, length=Py_ssize_t, base=Py_ssize_t, avail=Py_ssize_t, opcode=int,
                   fin=bint, zmsg=bint, p='const unsigned char *')
    cdef object _next_frame(self)
    @cython.locals(inflater=Inflater, before=Py_ssize_t, size=Py_ssize_t, text=bint,
                   p='const unsigned char *')
    cdef object _inflate_frame(self, object src, bint fin, bint tailed=*)
    cdef dict _control_message(self, int opcode, bytes data)
    @cython.locals(opcode=int)
    cdef dict _finish_message(self)
    @cython.locals(complete=bint)
    cdef dict _checked_text(self, object data, Py_ssize_t length)
