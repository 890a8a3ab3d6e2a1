/* Socket I/O on a descriptor, for the compiled send and receive paths.
 *
 * ws_send_all() returns 0 once every byte is written, EINTR when a signal
 * interrupted it (the caller checks Python's signal handlers and calls
 * again with the bytes not yet written), or another errno.  MSG_NOSIGNAL
 * keeps a closed peer from raising SIGPIPE (Python ignores it anyway).
 * ws_recv() makes one recv() and returns 0 with the count in *got (0 at
 * EOF), or the errno (EINTR: the caller runs the signal handlers first).
 * ws_readable() waits up to timeout_ms for bytes to read (poll): 1 when
 * they are there (or the socket failed: the recv then says so), 0 when
 * none came in time, or -errno.  ws_monotonic() is CLOCK_MONOTONIC in
 * seconds, for the remaining wait after a signal (only differences of it
 * are used).
 * ws_hold_signals() blocks every signal in the calling thread, keeping the
 * mask it replaced (1 on success); ws_release_signals() puts that mask
 * back.  For one thread at a time: the main thread, where CPython runs
 * signal handlers (the one caller, _speedups.hold_signals, checks).
 * POSIX only: on Windows the Python-level path is used (WS_HAVE_FD_IO 0).
 */
#ifndef WS_IO_H
#define WS_IO_H

#include "ws_compat.h"

#if defined(_WIN32)
#define WS_HAVE_FD_IO 0
WS_INLINE int ws_send_all(int fd, const unsigned char *buf, size_t len, size_t *done)
{
    (void)fd; (void)buf; (void)len; (void)done;
    return 38; /* ENOSYS */
}
WS_INLINE int ws_recv(int fd, unsigned char *buf, size_t len, size_t *got)
{
    (void)fd; (void)buf; (void)len; (void)got;
    return 38; /* ENOSYS */
}
WS_INLINE int ws_readable(int fd, int timeout_ms)
{
    (void)fd; (void)timeout_ms;
    return -38; /* ENOSYS */
}
WS_INLINE double ws_monotonic(void)
{
    return 0.0;
}
WS_INLINE unsigned char *ws_chunk_alloc(size_t len)
{
    (void)len;
    return NULL;
}
WS_INLINE void ws_chunk_free(unsigned char *p, size_t len)
{
    (void)p; (void)len;
}
WS_INLINE int ws_hold_signals(void)
{
    return 0;
}
WS_INLINE void ws_release_signals(void)
{
}
#else
#define WS_HAVE_FD_IO 1
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/types.h>
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* *done counts the bytes written, also when an error stops it early.
 *
 * A blocking send() that a signal interrupts after some bytes went out
 * returns that short count instead of failing with EINTR, so a short write
 * is reported as EINTR too: the caller then runs Python's signal handlers
 * (which may raise) before it calls again.  Without that, a handler would
 * wait for the whole frame to be written. */
WS_INLINE int ws_send_all(int fd, const unsigned char *buf, size_t len, size_t *done)
{
    while (*done < len) {
        ssize_t n = send(fd, buf + *done, len - *done, MSG_NOSIGNAL);
        if (n < 0)
            return errno ? errno : EIO;
        *done += (size_t)n;
        if (*done < len)
            return EINTR;
    }
    return 0;
}

WS_INLINE int ws_recv(int fd, unsigned char *buf, size_t len, size_t *got)
{
    ssize_t n = recv(fd, buf, len, 0);
    if (n < 0)
        return errno ? errno : EIO;
    *got = (size_t)n;
    return 0;
}

WS_INLINE int ws_readable(int fd, int timeout_ms)
{
    struct pollfd p;
    int n;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return -(errno ? errno : EIO);
    return n > 0;
}

/* The send path's buffer, mapped on its own instead of malloc'ed: a
 * long-lived megabyte in the middle of malloc's heap splits the free space
 * around it, so that the caller's own big temporaries (two 1 MiB strs per
 * message in the z-send bench loop) no longer fit below it and go on the
 * heap's top, which glibc then trims (brk) and faults in again for every
 * message.  NULL when the mapping fails. */
WS_INLINE unsigned char *ws_chunk_alloc(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : (unsigned char *)p;
}

WS_INLINE void ws_chunk_free(unsigned char *p, size_t len)
{
    if (p != NULL)
        munmap(p, len);
}

WS_INLINE double ws_monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static sigset_t ws_held_mask;

WS_INLINE int ws_hold_signals(void)
{
    sigset_t all;
    sigfillset(&all);
    return pthread_sigmask(SIG_BLOCK, &all, &ws_held_mask) == 0;
}

WS_INLINE void ws_release_signals(void)
{
    pthread_sigmask(SIG_SETMASK, &ws_held_mask, NULL);
}
#endif

#endif /* WS_IO_H */
