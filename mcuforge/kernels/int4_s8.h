/* INT4 weights in flash, packed two per byte (quant/int4.py): element 2k in the low nibble of byte k, element
 * 2k + 1 in its high nibble, each a two's complement int4 (TFLite's and CMSIS-NN's packing). The kernels decode
 * each byte where they use it (no scratch, and the int8 kernels' order of reads and writes), one decoded weight
 * feeding several multiplies where the layout allows. */
#ifndef MCUFORGE_INT4_S8_H
#define MCUFORGE_INT4_S8_H

#include "mcuforge_common.h"

/* The low and the high nibble of a weight byte, sign-extended by shifts (one SBFX each on Arm): the conversion of
 * a uint32_t above INT32_MAX to int32_t wraps and >> of a negative int32_t is arithmetic on every compiler we
 * target, as mcuforge_common.h assumes. */
MCUFORGE_INLINE int32_t mcuforge_s4_low(uint32_t byte) {
    return (int32_t)(byte << 28) >> 28;
}

MCUFORGE_INLINE int32_t mcuforge_s4_high(uint32_t byte) {
    return (int32_t)(byte << 24) >> 28;
}

/* Weight number k of the packed stream. */
MCUFORGE_INLINE int32_t mcuforge_s4_at(const uint8_t *packed, size_t k) {
    const uint32_t byte = packed[k >> 1];
    return (k & 1u) ? mcuforge_s4_high(byte) : mcuforge_s4_low(byte);
}

/* sum over i < n of (x[i] + offset) * w[start + i], w the packed stream: `start` may fall mid-byte. */
int32_t mcuforge_dot_s4(const int8_t *x, const uint8_t *packed, size_t start, int32_t n, int32_t offset);

/* Two pixels (xa, xb) times the n weights of the packed stream from `start` (any nibble), added to acc[0] and
 * acc[1]: each decoded weight feeds both pixels. Two bytes a step: one multiply-accumulate per product. */
MCUFORGE_INLINE void mcuforge_dot_s4_2px(const int8_t *xa, const int8_t *xb, const uint8_t *packed, size_t start,
                                         int32_t n, int32_t *acc) {
    int32_t a = acc[0];
    int32_t b = acc[1];
    const uint8_t *w;
    if ((start & 1u) && n > 0) { /* a high nibble first: then whole bytes */
        const int32_t w0 = mcuforge_s4_high(packed[start >> 1]);
        a += *xa++ * w0;
        b += *xb++ * w0;
        ++start;
        --n;
    }
    w = packed + (start >> 1);
#define MCUFORGE_S4_STEP(byte) do { \
        const int32_t w0 = mcuforge_s4_low(byte); \
        const int32_t w1 = mcuforge_s4_high(byte); \
        a += xa[0] * w0; \
        b += xb[0] * w0; \
        a += xa[1] * w1; \
        b += xb[1] * w1; \
        xa += 2; \
        xb += 2; \
    } while (0)
    for (; n >= 4; n -= 4) {
        const uint32_t first = w[0];
        const uint32_t second = w[1];
        w += 2;
        MCUFORGE_S4_STEP(first);
        MCUFORGE_S4_STEP(second);
    }
    if (n >= 2) {
        const uint32_t byte = *w++;
        MCUFORGE_S4_STEP(byte);
        n -= 2;
    }
#undef MCUFORGE_S4_STEP
    if (n > 0) { /* the last weight is a low nibble */
        const int32_t w0 = mcuforge_s4_low(*w);
        a += xa[0] * w0;
        b += xb[0] * w0;
    }
    acc[0] = a;
    acc[1] = b;
}

#endif
