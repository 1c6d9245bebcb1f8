#include "dsp_s8.h"

#if defined(MCUFORGE_DSP)

void mcuforge_dsp_channels(mcuforge_dsp_channel *table, int32_t n, const int32_t *bias, const mcuforge_requant *q,
                           int32_t zero_point, int32_t mode) {
    int32_t c;
    for (c = 0; c < n; ++c) {
        const int32_t k = q->per_channel ? c : 0;
        const int32_t shift = -q->shift[k];
        table[c].bias = bias[c];
        table[c].multiplier = q->multiplier[k];
        table[c].round = shift > 0 ? (int32_t)(1u << (shift - 1)) : 0;
        if (mode == MCUFORGE_DSP_FAST) {
            table[c].round += zero_point * (1 << shift);
        }
        table[c].shift = shift;
        table[c].correction = shift > 0 ? -1 : 0;
    }
}

#else
typedef int mcuforge_dsp_s8_unused; /* ISO C wants a non-empty translation unit */
#endif
