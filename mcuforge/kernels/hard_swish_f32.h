#ifndef MCUFORGE_HARD_SWISH_F32_H
#define MCUFORGE_HARD_SWISH_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t size;
} mcuforge_hard_swish_f32_params;

/* reference_ops::HardSwish<float>: x * min(6, max(0, x + 3)) / 6, in float. Element-wise: output may be the
 * very buffer of input. */
void mcuforge_hard_swish_f32(const mcuforge_hard_swish_f32_params *p, const float *input, float *output);

#endif
