#ifndef MCUFORGE_SOFTMAX_F32_H
#define MCUFORGE_SOFTMAX_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t rows;
    int32_t depth;
    float beta;
} mcuforge_softmax_f32_params;

/* reference_ops::Softmax<float> over rows of `depth` values: exp((x - max) * beta), summed in row order, then
 * each exp divided by the sum. The exps are kept in the output row, after their input is read: output may be
 * the very buffer of input. Needs the C math library (expf). */
void mcuforge_softmax_f32(const mcuforge_softmax_f32_params *p, const float *input, float *output);

#endif
