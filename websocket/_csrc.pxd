# Declarations of the header-only C primitives in csrc/, for the compiled
# modules: _speedups.pyx (the primitives' Python face) and _protocol.pxd
# (the protocol, which calls masking on its buffers through a pointer).

from libc.stdint cimport uint32_t

cdef extern from "ws_mask.h":
    size_t ws_mask(unsigned char *dst, const unsigned char *src, size_t length,
                   const unsigned char *key, size_t phase) nogil

cdef extern from "ws_utf8.h":
    uint32_t WS_UTF8_ACCEPT
    uint32_t WS_UTF8_REJECT
    uint32_t ws_utf8_feed(uint32_t state, const unsigned char *p, size_t length,
                          size_t *fail_at) nogil

cdef extern from "ws_io.h":
    int WS_HAVE_FD_IO
    int ws_send_all(int fd, const unsigned char *buf, size_t length, size_t *done) nogil
    int ws_recv(int fd, unsigned char *buf, size_t length, size_t *got) nogil
    int ws_readable(int fd, int timeout_ms) nogil
    double ws_monotonic() nogil
    unsigned char *ws_chunk_alloc(size_t length) nogil
    void ws_chunk_free(unsigned char *p, size_t length) nogil
    int ws_hold_signals() nogil
    void ws_release_signals() nogil
