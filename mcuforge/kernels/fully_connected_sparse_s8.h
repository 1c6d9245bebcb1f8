#ifndef MCUFORGE_FULLY_CONNECTED_SPARSE_S8_H
#define MCUFORGE_FULLY_CONNECTED_SPARSE_S8_H

#include "sparse_s8.h"

/* FULLY_CONNECTED with int8 activations and sparse symmetric int8 weights (zero point 0), stored compressed:
 * for each output unit u, a bitmap of (depth + 7) / 8 bytes whose bit d % 8 of byte d / 8 is set when w[u][d] is
 * nonzero, and, for all rows in order, the nonzero weights packed one after the other (quant/sparse.py; the
 * bitmap is walked by sparse_s8.h). */
typedef struct {
    int32_t batches; /* rows of the input */
    int32_t depth;   /* input features */
    int32_t units;   /* output features */
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min;
    int32_t act_max;
    mcuforge_requant requant;
} mcuforge_fc_sparse_params;

/* y[b][u] = clamp(requant(sum_d (x[b][d] + in_off) * w[u][d] + bias[u]) + out_off), summing only the nonzero
 * w[u][d] (the zero ones add exactly 0). bias may be NULL. */
void mcuforge_fully_connected_sparse_s8(const mcuforge_fc_sparse_params *p, const int8_t *input,
                                        const uint8_t *bitmap, const int8_t *values, const int32_t *bias,
                                        int8_t *output);

#endif
