#include "fully_connected_sparse_s8.h"

void mcuforge_fully_connected_sparse_s8(const mcuforge_fc_sparse_params *p, const int8_t *input,
                                        const uint8_t *bitmap, const int8_t *values, const int32_t *bias,
                                        int8_t *output) {
    const size_t row_bytes = ((size_t)p->depth + 7u) / 8u;
    int32_t b;
    int32_t u;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * (size_t)p->depth;
        const int8_t *w = values; /* the packed nonzeros of row u follow those of row u - 1 */
        for (u = 0; u < p->units; ++u) {
            const int32_t c = p->requant.per_channel ? u : 0;
            int32_t acc = mcuforge_sparse_dot(x, 1, bitmap + (size_t)u * row_bytes, 0, (size_t)p->depth,
                                              p->input_offset, &w);
            if (bias) {
                acc += bias[u];
            }
            acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
            output[(size_t)b * (size_t)p->units + (size_t)u] = (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
        }
    }
}
