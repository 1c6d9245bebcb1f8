#ifndef MCUFORGE_LEAKY_RELU_F32_H
#define MCUFORGE_LEAKY_RELU_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t size;
    float alpha;
} mcuforge_leaky_relu_f32_params;

/* output = input > 0 ? input : alpha * input. Element-wise: output may be the very buffer of input. */
void mcuforge_leaky_relu_f32(const mcuforge_leaky_relu_f32_params *p, const float *input, float *output);

#endif
