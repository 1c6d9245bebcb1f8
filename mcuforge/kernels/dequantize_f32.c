#include "dequantize_f32.h"

void mcuforge_dequantize_f32(const mcuforge_dequantize_f32_params *p, const int8_t *input, float *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
    }
}
