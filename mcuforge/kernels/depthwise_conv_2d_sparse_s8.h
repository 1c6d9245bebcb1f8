#ifndef MCUFORGE_DEPTHWISE_CONV_2D_SPARSE_S8_H
#define MCUFORGE_DEPTHWISE_CONV_2D_SPARSE_S8_H

#include "conv_window.h"
#include "sparse_s8.h"

/* DEPTHWISE_CONV_2D with int8 activations and sparse symmetric int8 filters (zero point 0), stored in the format
 * of quant/sparse.py: the [1, KH, KW, out_c] filter seen as out_c rows of kernel_h * kernel_w taps in (ky, kx)
 * order; for each row a bitmap of (KH * KW + 7) / 8 bytes, and, for all rows in order, the nonzero weights. */
typedef struct {
    mcuforge_conv_geometry geom; /* out_c = in_c * depth_multiplier */
    int32_t depth_multiplier;    /* output channel oc filters input channel oc / depth_multiplier */
    int32_t input_offset;        /* -input zero point */
    int32_t output_offset;       /* output zero point */
    int32_t act_min;
    int32_t act_max;
    /* bias[oc] + input_offset * (sum of filter oc): the accumulator's start when no tap is padded. */
    const int32_t *bias_folded;
    mcuforge_requant requant;
} mcuforge_depthwise_conv_sparse_params;

/* TFLite's DepthwiseConvPerChannel summing only the nonzero weights (the zero ones add exactly 0). bias may be
 * NULL; it is read only for windows that reach into the padding. Output rows are produced in increasing order
 * and only taps inside the input are read (conv_window.h). */
void mcuforge_depthwise_conv_sparse_s8(const mcuforge_depthwise_conv_sparse_params *p, const int8_t *input,
                                       const uint8_t *bitmap, const int8_t *values, const int32_t *bias,
                                       int8_t *output);

#endif
