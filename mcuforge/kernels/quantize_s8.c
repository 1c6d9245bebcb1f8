#include "quantize_s8.h"

void mcuforge_requantize_s8(const mcuforge_requantize_params *p, const int8_t *input, int8_t *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = mcuforge_requantize((int32_t)input[i] + p->input_offset, p->multiplier, p->shift);
        output[i] = (int8_t)mcuforge_clamp(v + p->output_offset, -128, 127);
    }
}
