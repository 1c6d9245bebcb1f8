#include "fully_connected_s8.h"

void mcuforge_fully_connected_s8(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights,
                                 const int32_t *bias, int8_t *output) {
    int32_t b;
    int32_t u;
    int32_t d;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * (size_t)p->depth;
        for (u = 0; u < p->units; ++u) {
            const int8_t *w = weights + (size_t)u * (size_t)p->depth;
            const int32_t c = p->requant.per_channel ? u : 0;
            int32_t acc = 0;
            for (d = 0; d < p->depth; ++d) {
                acc += ((int32_t)x[d] + p->input_offset) * ((int32_t)w[d] + p->weights_offset);
            }
            if (bias) {
                acc += bias[u];
            }
            acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
            output[(size_t)b * (size_t)p->units + (size_t)u] = (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
        }
    }
}
