#include "fully_connected_s4.h"

/* The two's complement value of the low four bits of `nibble`. */
MCUFORGE_INLINE int32_t mcuforge_s4_value(uint32_t nibble) {
    return (int32_t)((nibble & 0x0Fu) ^ 0x08u) - 8;
}

/* Weight number k of the packed stream. */
MCUFORGE_INLINE int32_t mcuforge_s4_at(const uint8_t *packed, size_t k) {
    const uint32_t byte = packed[k >> 1];
    return mcuforge_s4_value((k & 1u) ? (byte >> 4) : byte);
}

void mcuforge_fully_connected_s4(const mcuforge_fc_s4_params *p, const int8_t *input, const uint8_t *weights,
                                 const int32_t *bias, int8_t *output) {
    const size_t depth = (size_t)p->depth;
    int32_t b;
    int32_t u;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        for (u = 0; u < p->units; ++u) {
            /* Row u starts at weight u * depth: mid-byte when that is odd. */
            const size_t start = (size_t)u * depth;
            const int32_t c = p->requant.per_channel ? u : 0;
            const uint8_t *w;
            size_t d = 0;
            int32_t acc = 0;
            if ((start & 1u) && depth > 0) {
                acc += ((int32_t)x[0] + p->input_offset) * mcuforge_s4_at(weights, start);
                d = 1;
            }
            w = weights + ((start + d) >> 1);
            for (; d + 1 < depth; d += 2) {
                const uint32_t byte = *w++;
                acc += ((int32_t)x[d] + p->input_offset) * mcuforge_s4_value(byte);
                acc += ((int32_t)x[d + 1] + p->input_offset) * mcuforge_s4_value(byte >> 4);
            }
            if (d < depth) {
                acc += ((int32_t)x[d] + p->input_offset) * mcuforge_s4_at(weights, start + d);
            }
            if (bias) {
                acc += bias[u];
            }
            acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
            output[(size_t)b * (size_t)p->units + (size_t)u] = (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
        }
    }
}
