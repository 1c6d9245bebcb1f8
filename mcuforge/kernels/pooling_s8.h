#ifndef MCUFORGE_POOLING_S8_H
#define MCUFORGE_POOLING_S8_H

#include "mcuforge_common.h"

/* NHWC pooling geometry, as TFLite's pooling.cc computes it (padding "before" sides; the odd pixel goes after). */
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
    int32_t act_min; /* fused activation, in output integers */
    int32_t act_max;
} mcuforge_pool_params;

/* Both kernels clamp each window to the input (padding enters neither the max nor the average's count), and
 * walk output rows in increasing order, reading for output row r no input row before r * stride_h - pad_top:
 * the output may overlap input rows already consumed (the planner's row_window). Input and output share
 * their quantization, so no rescaling. */

/* reference_integer_ops::AveragePool: sum / count, rounded half away from zero. */
void mcuforge_avg_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output);

/* The same for a global average pool: one output pixel per batch item whose window is the whole input (no
 * padding, filter at least the input's size; out_h = out_w = 1). Small enough for the tightest flash budgets:
 * none of the general kernel's window bookkeeping. */
void mcuforge_global_avg_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output);

/* The same, one channel at a time with one tap a step on every core: about 250 B less flash than the DSP variant
 * at some 6 more cycles a tap, for small pools (ops/pooling.py picks it). Writes channel c after reading all its
 * taps, like the other kernels' output row after its window. */
void mcuforge_global_avg_pool_s8_small(const mcuforge_pool_params *p, const int8_t *input, int8_t *output);

/* reference_integer_ops::MaxPool. */
void mcuforge_max_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output);

#endif
