#include "leaky_relu_s8.h"

void mcuforge_leaky_relu_s8(const mcuforge_leaky_relu_params *p, const int8_t *input, int8_t *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] + p->input_offset;
        const int32_t v = x >= 0 ? mcuforge_requantize(x, p->identity_multiplier, p->identity_shift)
                                 : mcuforge_requantize(x, p->alpha_multiplier, p->alpha_shift);
        output[i] = (int8_t)mcuforge_clamp(v + p->output_offset, -128, 127);
    }
}
