#ifndef MCUFORGE_CONV_2D_SPARSE_DENSE_S8_H
#define MCUFORGE_CONV_2D_SPARSE_DENSE_S8_H

#include "conv_2d_sparse_s8.h"

/* The layer of mcuforge_conv_sparse_1x1_s8_fast (conv_2d_sparse_s8.h; stride 1 besides) whose filters are only
 * moderately sparse: "sparse storage, dense compute". With the DSP extension, blocks of `filters` filters (an
 * even count but maybe the last block) are decoded into dense int8 rows in `scratch` and each block runs through
 * the dense SIMD pointwise kernel (mcuforge_conv_1x1_s8_fast) over every pixel, `chunk` pixels at a time, whose
 * outputs are then copied to their channels. Every block reads the whole input again, so the output may not
 * overlap the input (the op's row window says so: ops/conv_2d.py). Scratch (ops/conv_2d_sparse.py): the decoded
 * rows (filters in_c bytes) and 32 bytes of slack, a chunk's outputs (chunk filters bytes), rounded up to a
 * multiple of 16, then the dense kernel's scratch for `filters` filters. Elsewhere: the sparse _fast kernel,
 * `scratch` unused. */
void mcuforge_conv_sparse_1x1_s8_dense(const mcuforge_conv_params *p, const int8_t *input,
                                       const uint8_t *bitmap, const int8_t *values, int8_t *output, void *scratch,
                                       int32_t filters, int32_t chunk);

#endif
