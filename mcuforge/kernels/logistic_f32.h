#ifndef MCUFORGE_LOGISTIC_F32_H
#define MCUFORGE_LOGISTIC_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t size;
} mcuforge_logistic_f32_params;

/* reference_ops::Logistic<float>: 1 / (1 + exp(-x)), exp(x) below -9 and exactly 1 above 16.619...
 * Element-wise: output may be the very buffer of input. Needs the C math library (expf). */
void mcuforge_logistic_f32(const mcuforge_logistic_f32_params *p, const float *input, float *output);

#endif
