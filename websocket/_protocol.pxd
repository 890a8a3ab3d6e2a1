# C types for _protocol.py, which Cython compiles in pure-Python mode like
# _parser.py.  The logic is all in the .py; this file says what is a C
# integer or a cdef class, so that the hot paths run without Python objects.

cimport cython

from websocket._compression cimport Deflater, Inflater
from websocket._parser cimport FrameParser
# (The types under other names: the .py star-imports the twins, and their
# classes must not overwrite C types; it constructs the encoder with
# new_encoder().)
from websocket._speedups cimport FrameEncoder as _Encoder
from websocket._speedups cimport frame_header, mask, new_encoder
from websocket._writer cimport FrameWriter

cdef object _CONNECTING, _OPEN, _CLOSING, _CLOSED
cdef int _CLOSE, _PING, _PONG


cdef class ClientProtocol:
    cdef public FrameParser parser
    cdef public _Encoder encoder  # Engine.send_ready calls send_to and encode in C
    cdef readonly FrameWriter writer
    cdef public bint auto_pong
    cdef str _key
    cdef bytes _request
    cdef list _offered
    cdef bytearray _head
    cdef object _response
    cdef readonly object state
    cdef public object subprotocol, response_status, response_headers
    cdef public object close_sent, close_received, failure
    cdef readonly object pending
    cdef readonly object failed_with
    cdef readonly bint unresponsive
    cdef object _mutex
    cdef object _deflate_settings
    cdef public object agreement
    cdef readonly list pings
    cdef object _latency
    cdef public object ping_interval, ping_timeout
    cdef double _last_received
    cdef object _keepalive_ping

    cpdef bint is_open(self)
    cpdef bytes response_start(self)
    @cython.locals(i=Py_ssize_t)
    cdef _queue_pong(self, bytes payload)
    cpdef bint is_closed(self)
    @cython.locals(due=double)
    cdef double _read_wait(self, double now)
    cpdef data_received(self, double now)
    cpdef check_open(self)
    cpdef object next_message(self)
    cpdef object data_to_send(self)
