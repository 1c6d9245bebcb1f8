#ifndef MCUFORGE_CONV_2D_SPARSE_S8_H
#define MCUFORGE_CONV_2D_SPARSE_S8_H

#include "conv_window.h"
#include "sparse_s8.h"

/* CONV_2D with int8 activations and sparse symmetric int8 filters (zero point 0), stored in the format of
 * fully_connected_sparse_s8.h (quant/sparse.py): the OHWI filter seen as out_c rows of
 * depth = kernel_h * kernel_w * in_c / groups weights in (ky, kx, c) order; for each row a bitmap of
 * (depth + 7) / 8 bytes (bit d % 8 of byte d / 8 set when weight d is nonzero), and, for all rows in order, the
 * nonzero weights packed one after the other. */

/* TFLite's ConvPerChannel: y[oc] = clamp(requant(bias[oc] + sum over the taps inside the input of
 * (x + input_offset) * w[oc]) + output_offset), summing only the nonzero weights (the zero ones add exactly 0).
 * bias may be NULL; it is read only for windows that reach into the padding (never for a 1x1 filter). Output
 * rows are produced in increasing order and only taps inside the input are read (conv_window.h). */
void mcuforge_conv_sparse_s8(const mcuforge_conv_params *p, const int8_t *input, const uint8_t *bitmap,
                             const int8_t *values, const int32_t *bias, int8_t *output);

/* The same for a 1x1 filter in one group (never padded; any stride), as a sparse matrix product: every pixel
 * starts from bias_folded, bias is not read. Two entry points, so that a build links only the one its layers
 * call: _fast takes the layer's DSP requantization when the core has the DSP extension (MCUFORGE_DSP, the folded
 * form of dsp_s8.h: the emitter checked that every TFLite shift lies in [-22, -1], every multiplier is positive,
 * every accumulator stays in [-2^30, 2^30) and the clamp is [-128, 127]); elsewhere both compute the portable
 * output stage. */
void mcuforge_conv_sparse_1x1_s8(const mcuforge_conv_params *p, const int8_t *input, const uint8_t *bitmap,
                                 const int8_t *values, int8_t *output);
void mcuforge_conv_sparse_1x1_s8_fast(const mcuforge_conv_params *p, const int8_t *input,
                                      const uint8_t *bitmap, const int8_t *values, int8_t *output);

#endif
