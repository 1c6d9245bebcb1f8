#ifndef MCUFORGE_REDUCE_S8_H
#define MCUFORGE_REDUCE_S8_H

#include "mcuforge_common.h"

/* Enough for any input up to 8-D: the emitter drops size-1 dimensions and merges neighbours of the same kind,
 * so kept and reduced dimensions alternate. */
#define MCUFORGE_REDUCE_MAX_DIMS 4

/* A reduction as two walks over the input, strides in elements, innermost dimension last:
 * the kept dimensions give one output element each, in output order; the reduced ones the `count` elements
 * combined into it, visited in increasing input order (as TFLite's reference kernels). */
typedef struct {
    int32_t out_rank;
    int32_t out_dims[MCUFORGE_REDUCE_MAX_DIMS];
    int32_t out_strides[MCUFORGE_REDUCE_MAX_DIMS];
    int32_t reduce_rank;
    int32_t reduce_dims[MCUFORGE_REDUCE_MAX_DIMS];
    int32_t reduce_strides[MCUFORGE_REDUCE_MAX_DIMS];
    int32_t out_count; /* product of out_dims */
    int32_t count;     /* product of reduce_dims */
    /* MEAN only (unused by REDUCE_MAX): */
    int32_t input_offset;  /* -input zero point * count, wrapped to int32 */
    int32_t multiplier;    /* input_scale / output_scale / count, as Q31 ... */
    int32_t shift;         /* ... times 2^shift */
    int32_t output_offset; /* output zero point */
} mcuforge_reduce_params;

/* reference_ops::QuantizedMeanOrSum: requant(sum(x) - zero_point * count) + output zero point, with 1/count
 * folded into the multiplier. */
void mcuforge_mean_s8(const mcuforge_reduce_params *p, const int8_t *input, int8_t *output);

/* Maximum of the raw values (input and output share their quantization). */
void mcuforge_reduce_max_s8(const mcuforge_reduce_params *p, const int8_t *input, int8_t *output);

#endif
