#include "dsp_window_s8.h"

#if defined(MCUFORGE_DSP)

/* One group into a column's two words at dst, dst + 1. */
#define MCUFORGE_WIDEN_GROUP(dst, x) do { \
        const uint32_t x_ = (x); \
        (dst)[0] = mcuforge_sxtb16(x_); \
        (dst)[1] = mcuforge_sxtb16_ror8(x_); \
    } while (0)

/* Group x of column 0 and group y of column 1 into the block's next four words (dsp_gemm_s8.h's layout). */
#define MCUFORGE_WIDEN_PAIR(block, x, y) do { \
        const uint32_t x_ = (x); \
        const uint32_t y_ = (y); \
        (block)[0] = mcuforge_sxtb16(x_); \
        (block)[1] = mcuforge_sxtb16_ror8(x_); \
        (block)[2] = mcuforge_sxtb16(y_); \
        (block)[3] = mcuforge_sxtb16_ror8(y_); \
        (block) += 4; \
    } while (0)

void mcuforge_dsp_widen_runs(uint32_t *dst, const int8_t *src, size_t stride, int32_t rows, int32_t groups) {
    do {
        const int8_t *s = src;
        int32_t g;
        for (g = groups >> 1; g > 0; --g) { /* two groups an iteration: the two loads pipeline */
            const uint32_t a = mcuforge_read_s8x4(s);
            const uint32_t b = mcuforge_read_s8x4(s + 4);
            MCUFORGE_WIDEN_GROUP(dst, a);
            MCUFORGE_WIDEN_GROUP(dst + 4, b);
            dst += 8;
            s += 8;
        }
        if (groups & 1) {
            MCUFORGE_WIDEN_GROUP(dst, mcuforge_read_s8x4(s));
            dst += 4;
        }
        src += stride;
    } while (--rows > 0);
}

/* Three runs of 9 values (a 3x3 window of 3 channels, the usual first layer) from r0 into the column at dst: 7
 * groups, the seams taken from loads that end at a run's last value (no byte past the window is read). The loads
 * come first: after a store GCC may not move them (int8 data may alias the block), and back to back they
 * pipeline. */
MCUFORGE_INLINE void pack_3x9(uint32_t *dst, const int8_t *r0, size_t stride) {
    const int8_t *r1 = r0 + stride;
    const int8_t *r2 = r1 + stride;
    const uint32_t a = mcuforge_read_s8x4(r0);
    const uint32_t b = mcuforge_read_s8x4(r0 + 4);
    const uint32_t c = mcuforge_read_s8x4(r0 + 5);
    const uint32_t d = mcuforge_read_s8x4(r1);
    const uint32_t e = mcuforge_read_s8x4(r1 + 3);
    const uint32_t f = mcuforge_read_s8x4(r1 + 5);
    const uint32_t h = mcuforge_read_s8x4(r2);
    const uint32_t i = mcuforge_read_s8x4(r2 + 2);
    const uint32_t j = mcuforge_read_s8x4(r2 + 5);
    MCUFORGE_WIDEN_GROUP(dst, a);
    MCUFORGE_WIDEN_GROUP(dst + 4, b);
    MCUFORGE_WIDEN_GROUP(dst + 8, c >> 24 | d << 8);
    MCUFORGE_WIDEN_GROUP(dst + 12, e);
    MCUFORGE_WIDEN_GROUP(dst + 16, f >> 16 | h << 16);
    MCUFORGE_WIDEN_GROUP(dst + 20, i);
    MCUFORGE_WIDEN_GROUP(dst + 24, j >> 8);
}

void mcuforge_dsp_window_pair(uint32_t *block, const int8_t *src, size_t second, size_t stride, int32_t rows,
                              int32_t n) {
    uint32_t carry_a = 0; /* the values of a group split by a seam, `have` of them (0 to 3), each window */
    uint32_t carry_b = 0;
    int32_t have = 0;
    if (rows == 3 && n == 9) { /* a loop, not two copies: the code is the larger part of the function */
        int32_t column;
        for (column = 0; column < 2; ++column, src += second) {
            pack_3x9(block + 2 * column, src, stride);
        }
        return;
    }
    do {
        const int8_t *s = src;
        int32_t left = n;
        if (have > 0) { /* n > 1: the group takes 4 - have <= n values of this run */
            MCUFORGE_WIDEN_PAIR(block, carry_a | mcuforge_read_s8x4(s) << 8 * have,
                                carry_b | mcuforge_read_s8x4(s + second) << 8 * have);
            s += 4 - have;
            left -= 4 - have;
        }
        for (; left >= 8; left -= 8, s += 8) { /* two groups an iteration: the four loads pipeline */
            const uint32_t a0 = mcuforge_read_s8x4(s);
            const uint32_t b0 = mcuforge_read_s8x4(s + second);
            const uint32_t a1 = mcuforge_read_s8x4(s + 4);
            const uint32_t b1 = mcuforge_read_s8x4(s + second + 4);
            MCUFORGE_WIDEN_PAIR(block, a0, b0);
            MCUFORGE_WIDEN_PAIR(block, a1, b1);
        }
        if (left >= 4) {
            MCUFORGE_WIDEN_PAIR(block, mcuforge_read_s8x4(s), mcuforge_read_s8x4(s + second));
            s += 4;
            left -= 4;
        }
        have = left;
        if (have > 0) {
            const uint32_t mask = (1u << 8 * have) - 1u;
            carry_a = mcuforge_read_s8x4(s) & mask;
            carry_b = mcuforge_read_s8x4(s + second) & mask;
        }
        src += stride;
    } while (--rows > 0);
    if (have > 0) { /* the window's last group: zeros after its values */
        MCUFORGE_WIDEN_PAIR(block, carry_a, carry_b);
    }
}

#else
typedef int mcuforge_dsp_window_s8_unused; /* ISO C wants a non-empty translation unit */
#endif
