#include "dsp_gemm_s8.h"

#if defined(MCUFORGE_DSP)

void mcuforge_dsp_widen(uint32_t *block, int32_t column, int32_t k0, const int8_t *src, int32_t n) {
    uint32_t *dst = block + k0 + 2 * column; /* value k0 opens group k0 / 4, at word k0 */
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint32_t lo = mcuforge_read_s8x4(src + i);
        const uint32_t hi = mcuforge_read_s8x4(src + i + 4);
        dst[0] = mcuforge_sxtb16(lo);
        dst[1] = mcuforge_sxtb16_ror8(lo);
        dst[4] = mcuforge_sxtb16(hi);
        dst[5] = mcuforge_sxtb16_ror8(hi);
        dst += 8;
    }
    for (; i < n; i += 4) {
        const uint32_t x = n - i >= 4 ? mcuforge_read_s8x4(src + i) : mcuforge_read_s8_partial(src + i, n - i);
        dst[0] = mcuforge_sxtb16(x);
        dst[1] = mcuforge_sxtb16_ror8(x);
        dst += 4;
    }
}

void mcuforge_dsp_fill(uint32_t *block, int32_t column, int32_t k0, int32_t n, int32_t value) {
    const uint32_t pair = ((uint32_t)value & 0xFFFFu) * 0x10001u;
    uint32_t *dst = block + k0 + 2 * column;
    int32_t i;
    for (i = 0; i < n; i += 4) {
        dst[0] = pair;
        dst[1] = pair;
        dst += 4;
    }
}

#else
typedef int mcuforge_dsp_gemm_s8_unused; /* ISO C wants a non-empty translation unit */
#endif
