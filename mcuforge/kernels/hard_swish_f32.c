#include "hard_swish_f32.h"

void mcuforge_hard_swish_f32(const mcuforge_hard_swish_f32_params *p, const float *input, float *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float x = input[i];
        float relu6 = x + 3.0f;
        relu6 = relu6 < 0.0f ? 0.0f : relu6;
        relu6 = relu6 > 6.0f ? 6.0f : relu6;
        output[i] = x * relu6 / 6.0f;
    }
}
