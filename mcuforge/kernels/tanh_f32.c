#include "tanh_f32.h"

#include <math.h>

void mcuforge_tanh_f32(const mcuforge_tanh_f32_params *p, const float *input, float *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = tanhf(input[i]);
    }
}
