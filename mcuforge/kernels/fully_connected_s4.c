#include "fully_connected_s4.h"

void mcuforge_fully_connected_s4(const mcuforge_fc_s4_params *p, const int8_t *input, const uint8_t *weights,
                                 const int32_t *bias, int8_t *output) {
    const size_t depth = (size_t)p->depth;
    int32_t b;
    int32_t u;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        for (u = 0; u < p->units; ++u) {
            /* Row u starts at weight u * depth: mid-byte when that is odd. */
            const int32_t c = p->requant.per_channel ? u : 0;
            int32_t acc = mcuforge_dot_s4(x, weights, (size_t)u * depth, p->depth, p->input_offset);
            if (bias) {
                acc += bias[u];
            }
            acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
            output[(size_t)b * (size_t)p->units + (size_t)u] = (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
        }
    }
}
