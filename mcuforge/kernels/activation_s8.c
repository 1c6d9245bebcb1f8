#include "activation_s8.h"

void mcuforge_activation_s8(const mcuforge_activation_params *p, const int8_t *input, int8_t *output) {
    int32_t i;
    if (!p->requantize) {
        const int32_t offset = p->input_offset + p->output_offset;
        for (i = 0; i < p->size; ++i) {
            output[i] = (int8_t)mcuforge_clamp((int32_t)input[i] + offset, p->act_min, p->act_max);
        }
        return;
    }
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcuforge_requantize((int32_t)input[i] + p->input_offset, p->multiplier, p->shift);
        output[i] = (int8_t)mcuforge_clamp(v + p->output_offset, p->act_min, p->act_max);
    }
}
