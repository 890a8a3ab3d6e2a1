/* Portability helpers shared by the websocket C headers.
 *
 * Everything here is header-only (static inline) with a ws_ prefix.
 * Unaligned loads and stores go through memcpy, which compilers turn into
 * a single instruction where the CPU allows it; never *(uint64_t *)p.
 */
#ifndef WS_COMPAT_H
#define WS_COMPAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(_MSC_VER)
#define WS_INLINE static __inline
#else
#define WS_INLINE static inline
#endif

#if defined(__x86_64__) || defined(_M_X64) || defined(__SSE2__)
#define WS_HAVE_SSE2 1
#include <emmintrin.h>
#endif

/* AVX2 is used only when the compiler can target it per function and the
 * CPU reports it at run time, so the wheel still runs on older CPUs. */
#if defined(WS_HAVE_SSE2) && defined(__GNUC__) && !defined(__clang_major__) && \
    (__GNUC__ >= 5)
#define WS_HAVE_AVX2_TARGET 1
#elif defined(WS_HAVE_SSE2) && defined(__clang_major__) && (__clang_major__ >= 4)
#define WS_HAVE_AVX2_TARGET 1
#endif
#ifdef WS_HAVE_AVX2_TARGET
#include <immintrin.h>
#endif

/* NEON is part of every AArch64 CPU: no run-time check is needed. */
#if defined(__aarch64__) || defined(_M_ARM64)
#define WS_HAVE_NEON 1
#include <arm_neon.h>
#endif

WS_INLINE uint64_t ws_load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

WS_INLINE void ws_store64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

#endif /* WS_COMPAT_H */
