#ifndef MCUFORGE_POOLING_F32_H
#define MCUFORGE_POOLING_F32_H

#include "mcuforge_common.h"

/* NHWC pooling geometry as in pooling_s8.h, with a float activation range. */
typedef struct {
    int32_t batches;
    int32_t in_h;
    int32_t in_w;
    int32_t channels;
    int32_t out_h;
    int32_t out_w;
    int32_t filter_h;
    int32_t filter_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_top;
    int32_t pad_left;
    float act_min;
    float act_max;
} mcuforge_pool_f32_params;

/* Windows clamped to the input; output rows in increasing order, reading no input row before
 * r * stride_h - pad_top for output row r (see pooling_s8.h). */
void mcuforge_avg_pool_f32(const mcuforge_pool_f32_params *p, const float *input, float *output);
void mcuforge_max_pool_f32(const mcuforge_pool_f32_params *p, const float *input, float *output);

#endif
