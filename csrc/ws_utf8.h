/* Incremental UTF-8 validation (RFC 3629; RFC 6455 section 8.1).
 *
 * A deterministic automaton over byte classes.  The state is carried across
 * calls, so a text message can be checked chunk by chunk as it arrives, and
 * it rejects at the first byte after which no continuation could make the
 * input valid: overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and code points above U+10FFFF (F4 90.., F5..FF) fail on the
 * byte that makes them so.  That matches CPython's strict decoder on every
 * complete input.
 *
 * States: 0 at a character boundary; 1..7 inside a sequence (which bytes may
 * come next); 8 rejected, and it stays rejected.
 */
#ifndef WS_UTF8_H
#define WS_UTF8_H

#include "ws_compat.h"

#define WS_UTF8_ACCEPT 0u
#define WS_UTF8_REJECT 8u

/* Byte classes: 0 ASCII, 1 80..8F, 2 90..9F, 3 A0..BF, 4 never valid
 * (C0 C1 F5..FF), 5 C2..DF, 6 E0, 7 E1..EC EE EF, 8 ED, 9 F0, 10 F1..F3,
 * 11 F4. */
static const uint8_t ws_utf8_class[256] = {
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,
    3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,
    4,4,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,
    6,7,7,7,7,7,7,7,7,7,7,7,7,8,7,7,9,10,10,10,11,4,4,4,4,4,4,4,4,4,4,4,
};
static const uint8_t ws_utf8_next[9][12] = {
    {0,8,8,8,8,1,3,2,4,6,5,7},
    {8,0,0,0,8,8,8,8,8,8,8,8},
    {8,1,1,1,8,8,8,8,8,8,8,8},
    {8,8,8,1,8,8,8,8,8,8,8,8},
    {8,1,1,8,8,8,8,8,8,8,8,8},
    {8,2,2,2,8,8,8,8,8,8,8,8},
    {8,8,2,2,8,8,8,8,8,8,8,8},
    {8,2,8,8,8,8,8,8,8,8,8,8},
    {8,8,8,8,8,8,8,8,8,8,8,8},
};

/* Feeds len bytes to the automaton in state and returns the new state.  On
 * rejection, *fail_at (if not NULL) is the index of the offending byte. */
WS_INLINE uint32_t ws_utf8_feed(uint32_t state, const unsigned char *p,
                                size_t len, size_t *fail_at)
{
    size_t i = 0;

    if (state == WS_UTF8_REJECT) {
        if (fail_at)
            *fail_at = 0;
        return state;
    }
    while (i < len) {
        if (state == WS_UTF8_ACCEPT) {
            /* ASCII runs are the common case: skip them 16 or 8 at a time. */
#ifdef WS_HAVE_SSE2
            while (i + 16 <= len &&
                   _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i))) == 0)
                i += 16;
#endif
            while (i + 8 <= len && (ws_load64(p + i) & 0x8080808080808080ULL) == 0)
                i += 8;
            if (i >= len)
                break;
        }
        state = ws_utf8_next[state][ws_utf8_class[p[i]]];
        if (state == WS_UTF8_REJECT) {
            if (fail_at)
                *fail_at = i;
            return state;
        }
        i++;
    }
    return state;
}

#endif /* WS_UTF8_H */
