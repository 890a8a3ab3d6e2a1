/* Checks ws_mask() against the byte loop of RFC 6455 section 5.3 on every
 * path this build has: the byte loop (< 16 bytes), 8-byte words, SSE2 or
 * NEON blocks, and AVX2 (>= 256 bytes, when the CPU has it; run again with
 * it turned off), for every length up to 1100, source and destination
 * offsets 0-35 (alignments), each key phase, in place and out of place,
 * and a payload masked in chunks.  Exit status 0 when all agree.
 *
 *   cc -O2 -Icsrc csrc/test_mask.c -o /tmp/test_mask && /tmp/test_mask
 *   aarch64-linux-gnu-gcc -O2 -static -Icsrc csrc/test_mask.c -o /tmp/t \
 *       && qemu-aarch64 /tmp/t
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ws_mask.h"

static const unsigned char KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

static unsigned char src_buf[1200 + 64], dst_buf[1200 + 64], want[1200 + 64];

static int check_all(const char *what)
{
    size_t len, soff, doff, phase, i;
    long cases = 0;
    for (len = 0; len <= 1100; len += (len < 300 ? 1 : 7))
        for (soff = 0; soff < 36; soff += (len < 300 ? 1 : 5))
            for (doff = 0; doff < 36; doff += 7)
                for (phase = 0; phase < 4; phase++) {
                    unsigned char *src = src_buf + soff, *dst = dst_buf + doff;
                    size_t next;
                    for (i = 0; i < len; i++)
                        src[i] = (unsigned char)(i * 131 + soff);
                    for (i = 0; i < len; i++)
                        want[i] = src[i] ^ KEY[(phase + i) & 3];
                    memset(dst_buf, 0xAA, sizeof dst_buf);
                    next = ws_mask(dst, src, len, KEY, phase);
                    if (next != ((phase + len) & 3) || memcmp(dst, want, len) != 0 ||
                        (doff > 0 && dst[-1] != 0xAA) || dst[len] != 0xAA) {
                        printf("%s: FAIL len=%zu src+%zu dst+%zu phase=%zu\n", what, len, soff, doff, phase);
                        return 1;
                    }
                    /* In place (dst == src). */
                    ws_mask(src, src, len, KEY, phase);
                    if (memcmp(src, want, len) != 0) {
                        printf("%s: FAIL in place len=%zu src+%zu phase=%zu\n", what, len, soff, phase);
                        return 1;
                    }
                    cases++;
                }
    /* Chunked: a payload masked in pieces of awkward sizes equals it masked whole. */
    {
        size_t at = 0, step = 1, ph = 0;
        for (i = 0; i < 1100; i++)
            src_buf[i] = (unsigned char)(i * 7);
        for (i = 0; i < 1100; i++)
            want[i] = src_buf[i] ^ KEY[i & 3];
        while (at < 1100) {
            size_t n = step < 1100 - at ? step : 1100 - at;
            ph = ws_mask(dst_buf + at, src_buf + at, n, KEY, ph);
            at += n;
            step = step * 3 + 1;
        }
        if (memcmp(dst_buf, want, 1100) != 0) {
            printf("%s: FAIL chunked\n", what);
            return 1;
        }
    }
    printf("%s: %ld cases agree\n", what, cases);
    return 0;
}

int main(void)
{
    int failed = 0;
#if defined(WS_HAVE_NEON)
    failed |= check_all("aarch64 NEON");
#elif defined(WS_HAVE_AVX2_TARGET)
    failed |= check_all(ws_have_avx2() ? "x86_64 AVX2+SSE2" : "x86_64 SSE2 (no AVX2 on this CPU)");
    ws_avx2_state = 0; /* as on a CPU without AVX2 */
    failed |= check_all("x86_64 SSE2 only");
#elif defined(WS_HAVE_SSE2)
    failed |= check_all("SSE2");
#else
    failed |= check_all("portable 8-byte words");
#endif
    return failed;
}
