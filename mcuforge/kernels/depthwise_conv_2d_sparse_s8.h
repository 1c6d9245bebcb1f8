#ifndef MCUFORGE_DEPTHWISE_CONV_2D_SPARSE_S8_H
#define MCUFORGE_DEPTHWISE_CONV_2D_SPARSE_S8_H

#include "conv_window.h"
#include "sparse_s8.h"

/* DEPTHWISE_CONV_2D with int8 activations and sparse symmetric int8 filters (zero point 0), stored in the format
 * of quant/sparse.py: the [1, KH, KW, out_c] filter seen as out_c rows of kernel_h * kernel_w taps in (ky, kx)
 * order; for each row a bitmap of (KH * KW + 7) / 8 bytes, and, for all rows in order, the nonzero weights. */

/* TFLite's DepthwiseConvPerChannel summing only the nonzero weights (the zero ones add exactly 0). bias may be
 * NULL; it is read only for windows that reach into the padding. Output rows are produced in increasing order
 * and only taps inside the input are read (conv_window.h). */
void mcuforge_depthwise_conv_sparse_s8(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                       const uint8_t *bitmap, const int8_t *values, const int32_t *bias,
                                       int8_t *output);

#endif
