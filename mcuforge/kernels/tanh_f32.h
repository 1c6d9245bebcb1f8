#ifndef MCUFORGE_TANH_F32_H
#define MCUFORGE_TANH_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t size;
} mcuforge_tanh_f32_params;

/* std::tanh on float: the C library's tanhf. Element-wise: output may be the very buffer of input. Needs the C
 * math library. */
void mcuforge_tanh_f32(const mcuforge_tanh_f32_params *p, const float *input, float *output);

#endif
