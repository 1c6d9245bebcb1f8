#ifndef MCUFORGE_REDUCE_F32_H
#define MCUFORGE_REDUCE_F32_H

#include "mcuforge_common.h"

#define MCUFORGE_REDUCE_F32_MAX_DIMS 4

/* The two input walks of reduce_s8.h: kept dimensions in output order, reduced dimensions in input order. */
typedef struct {
    int32_t out_rank;
    int32_t out_dims[MCUFORGE_REDUCE_F32_MAX_DIMS];
    int32_t out_strides[MCUFORGE_REDUCE_F32_MAX_DIMS];
    int32_t reduce_rank;
    int32_t reduce_dims[MCUFORGE_REDUCE_F32_MAX_DIMS];
    int32_t reduce_strides[MCUFORGE_REDUCE_F32_MAX_DIMS];
    int32_t out_count;
    int32_t count;
} mcuforge_reduce_f32_params;

/* sum / count, summed in input order like TFLite's reference Mean. */
void mcuforge_mean_f32(const mcuforge_reduce_f32_params *p, const float *input, float *output);

void mcuforge_reduce_max_f32(const mcuforge_reduce_f32_params *p, const float *input, float *output);

#endif
