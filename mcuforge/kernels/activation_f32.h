#ifndef MCUFORGE_ACTIVATION_F32_H
#define MCUFORGE_ACTIVATION_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t size;
    float act_min;
    float act_max;
} mcuforge_activation_f32_params;

/* output = min(max(input, act_min), act_max); NaN passes through. Element-wise: output may be input's buffer. */
void mcuforge_activation_f32(const mcuforge_activation_f32_params *p, const float *input, float *output);

#endif
