# C types for _writer.py, which Cython compiles in pure-Python mode like the
# protocol's rooms: the logic is all in the .py.

from websocket._compression cimport Deflater
# (FrameEncoder under another name: the .py star-imports the twins, and
# their class must not overwrite the C type; it constructs with new_encoder().)
from websocket._speedups cimport FrameEncoder as _Encoder
from websocket._speedups cimport new_encoder

cdef Py_ssize_t CONTROL_MAX
cdef int _CONTINUATION


cdef class FrameWriter:
    cdef public _Encoder encoder
    cdef public Deflater deflater
    cdef public object on_frame
    cdef int _opcode
    cdef bint _first, _compressed

    cpdef bint compresses(self, object compress) except -1
    cpdef object message(self, int opcode, object payload, bint compress)
    cpdef FrameWriter batch(self)
    cpdef begin(self, int opcode, bint compress)
    cpdef object fragment(self, object payload, bint final)
    cpdef end_fragments(self)
    cpdef object control(self, int opcode, bytes payload)
    cdef object _frame(self, int opcode, object payload, bint fin, bint rsv1)
