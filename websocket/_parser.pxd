# C types for _parser.py, which Cython compiles in pure-Python mode
# (https://cython.readthedocs.io/en/latest/src/tutorial/pure.html).  The
# logic is all in the .py; this file only says what is a C integer, a
# pointer or a cdef class, so that the hot paths run without Python objects.

cimport cython
from libc.stdint cimport uint32_t

from websocket._compression cimport Inflater
from websocket._speedups cimport (bytes_at, copy_to, mask, new_bytes, new_utf8_validator, tail_in, tail_out,
                                  text_at, unmask_at, utf8_at, writable_bytes)

cdef object _NEED, _DROPPED
cdef int _IDLE, _STREAMING, _INTO, _DISCARD
cdef int _TEXT, _BINARY, _PING, _PONG
cdef Py_ssize_t BIG_FRAME, HEADER_MAX, READ_MIN, READ_MAX, READ_GROWN, FRAGMENT_COST, INFLATE_KEEP, JOIN_MAX
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


cdef class _ReceiveBuffer:
    cdef bytearray _buf
    cdef object _view
    cdef Py_ssize_t _start, _end, _read
    cdef _Header _h
    cdef object _direct
    cdef Py_ssize_t _direct_base, _direct_filled
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


cdef class _FrameReader(_ReceiveBuffer):
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
                   start=Py_ssize_t, avail=Py_ssize_t, msg=dict, zmsg=bint, end=Py_ssize_t,
                   w=cython.p_uchar, saved=uint32_t)
    cdef object _whole_frame(self)
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
                   start=Py_ssize_t, avail=Py_ssize_t)
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
