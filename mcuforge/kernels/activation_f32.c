#include "activation_f32.h"

void mcuforge_activation_f32(const mcuforge_activation_f32_params *p, const float *input, float *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float v = input[i] < p->act_min ? p->act_min : input[i];
        output[i] = v > p->act_max ? p->act_max : v;
    }
}
