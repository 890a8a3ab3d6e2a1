/* XOR masking of WebSocket payloads (RFC 6455 section 5.3).
 *
 *   transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4)
 *
 * ws_mask() writes src XOR key into dst (dst may equal src) and returns the
 * key phase to continue with, so a payload can be masked in chunks: the
 * phase is the offset, modulo 4, of the first byte of the chunk within the
 * payload.  Work proceeds 32 bytes (AVX2, where the CPU reports it at run
 * time), 16 bytes (SSE2 on x86_64, NEON on AArch64) and 8 bytes at a time,
 * then one byte at a time for the tail; payloads under 16 bytes take the
 * byte loop alone.  Every block is a multiple of 4 bytes long, so the
 * repeated key stays in phase.  csrc/test_mask.c checks every path against
 * the byte loop (.ci/run builds it natively and for AArch64 under qemu).
 */
#ifndef WS_MASK_H
#define WS_MASK_H

#include "ws_compat.h"

/* The 4-byte key rotated by phase, repeated to fill 8 bytes. */
WS_INLINE uint64_t ws_mask_pattern(const unsigned char key[4], size_t phase)
{
    unsigned char k[8];
    size_t i;
    for (i = 0; i < 8; i++)
        k[i] = key[(phase + i) & 3];
    return ws_load64(k);
}

WS_INLINE size_t ws_mask_tail(unsigned char *dst, const unsigned char *src,
                              size_t len, const unsigned char key[4],
                              size_t phase)
{
    size_t i;
    for (i = 0; i < len; i++)
        dst[i] = src[i] ^ key[(phase + i) & 3];
    return (phase + len) & 3;
}

#ifdef WS_HAVE_AVX2_TARGET
__attribute__((target("avx2"))) static size_t
ws_mask_avx2(unsigned char *dst, const unsigned char *src, size_t len,
             uint64_t pattern)
{
    size_t i = 0;
    __m256i k = _mm256_set1_epi64x((long long)pattern);
    for (; i + 128 <= len; i += 128) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
        __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
        __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, k));
        _mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, k));
    }
    for (; i + 32 <= len; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
    }
    return i;
}

/* -1 unknown, 0 no, 1 yes.  Threads racing here (free-threaded Python
 * runs them truly in parallel) store the same value; relaxed atomics make
 * that race defined. */
static int ws_avx2_state = -1;

WS_INLINE int ws_have_avx2(void)
{
    int state = __atomic_load_n(&ws_avx2_state, __ATOMIC_RELAXED);
    if (state < 0) {
        __builtin_cpu_init();
        state = __builtin_cpu_supports("avx2") ? 1 : 0;
        __atomic_store_n(&ws_avx2_state, state, __ATOMIC_RELAXED);
    }
    return state;
}
#endif

WS_INLINE size_t ws_mask(unsigned char *dst, const unsigned char *src,
                         size_t len, const unsigned char key[4], size_t phase)
{
    size_t i = 0;
    uint64_t pattern;

    phase &= 3;
    if (len < 16)
        return ws_mask_tail(dst, src, len, key, phase);
#ifdef WS_HAVE_AVX2_TARGET
    if (len >= 256 && ws_have_avx2()) {
        /* Stores that straddle cache lines cost more than a short scalar
         * head: bring dst to a 32-byte boundary first. */
        size_t head = (32 - ((uintptr_t)dst & 31)) & 31;
        phase = ws_mask_tail(dst, src, head, key, phase);
        dst += head;
        src += head;
        len -= head;
        i = ws_mask_avx2(dst, src, len, ws_mask_pattern(key, phase));
    }
#endif
    pattern = ws_mask_pattern(key, phase);
#ifdef WS_HAVE_SSE2
    {
        __m128i k = _mm_set1_epi64x((long long)pattern);
        for (; i + 16 <= len; i += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
            _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, k));
        }
    }
#endif
#ifdef WS_HAVE_NEON
    {
        uint8x16_t k = vreinterpretq_u8_u64(vdupq_n_u64(pattern));
        for (; i + 64 <= len; i += 64) {
            uint8x16_t a = vld1q_u8(src + i), b = vld1q_u8(src + i + 16);
            uint8x16_t c = vld1q_u8(src + i + 32), d = vld1q_u8(src + i + 48);
            vst1q_u8(dst + i, veorq_u8(a, k));
            vst1q_u8(dst + i + 16, veorq_u8(b, k));
            vst1q_u8(dst + i + 32, veorq_u8(c, k));
            vst1q_u8(dst + i + 48, veorq_u8(d, k));
        }
        for (; i + 16 <= len; i += 16)
            vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), k));
    }
#endif
    for (; i + 8 <= len; i += 8)
        ws_store64(dst + i, ws_load64(src + i) ^ pattern);
    return ws_mask_tail(dst + i, src + i, len - i, key, phase);
}

#endif /* WS_MASK_H */
