#ifndef MCUFORGE_FULLY_CONNECTED_F32_H
#define MCUFORGE_FULLY_CONNECTED_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t batches;
    int32_t depth;
    int32_t units;
    float act_min;
    float act_max;
} mcuforge_fc_f32_params;

void mcuforge_fully_connected_f32(const mcuforge_fc_f32_params *p, const float *input, const float *weights,
                                  const float *bias, float *output);

#endif
