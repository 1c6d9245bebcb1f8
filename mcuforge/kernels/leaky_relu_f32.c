#include "leaky_relu_f32.h"

void mcuforge_leaky_relu_f32(const mcuforge_leaky_relu_f32_params *p, const float *input, float *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * p->alpha;
    }
}
