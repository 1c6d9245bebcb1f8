#ifndef MCUFORGE_CONV_2D_S8_H
#define MCUFORGE_CONV_2D_S8_H

#include "conv_window.h"
#include "dsp_gemm_s8.h"

/* Scratch of the DSP variant (groups == 1): the channel table (20 bytes a channel), two pixels' input windows
 * widened to q15 pairs, and one window gathered as bytes and a zero word when in_c is not a multiple of 4. */
#define MCUFORGE_CONV_DSP_SCRATCH(out_c, kernel_values, in_c) \
    (20 * (size_t)(out_c) + 4 * MCUFORGE_DSP_BLOCK_WORDS(kernel_values) + \
     ((in_c) % 4 ? (size_t)(kernel_values) + 4 : 0))

/* TFLite's ConvPerChannel: y[oc] = clamp(requant(bias[oc] + sum over the taps inside the input of
 * (x + input_offset) * w[oc]) + output_offset). NHWC input, OHWI filter [out_c, KH, KW, in_c / groups],
 * symmetric filter; bias may be NULL. */
void mcuforge_conv_s8(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output, void *scratch);

/* The same for a 1x1 filter, stride 1, no padding, one group: a matrix product over pixels. */
void mcuforge_conv_1x1_s8(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                          int8_t *output, void *scratch);

/* The same two for a layer whose DSP variant takes the fast output stage (dsp_requant MCUFORGE_DSP_FOLDED) or the
 * wide one (MCUFORGE_DSP_GENERAL), with clamp [-128, 127] and one group (the caller's promise). Identical outputs;
 * a build for a core with the DSP extension links only that variant, a build for any other core only the
 * portable code. */
void mcuforge_conv_s8_fast(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output, void *scratch);
void mcuforge_conv_1x1_s8_fast(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output, void *scratch);
void mcuforge_conv_s8_wide(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output, void *scratch);
void mcuforge_conv_1x1_s8_wide(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                               int8_t *output, void *scratch);
/* mcuforge_conv_1x1_s8_fast for a narrow layer (kernels/dsp_gemm_s8.h: in_c <= MCUFORGE_DSP_NARROW_MAX_K,
 * MCUFORGE_DSP_NARROW_FILTERS filters): `scratch` holds MCUFORGE_DSP_NARROW_SCRATCH bytes at least. */
void mcuforge_conv_1x1_s8_narrow(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                                 int8_t *output, void *scratch);
/* The same for the deeper kind (in_c <= MCUFORGE_DSP_NARROW16_MAX_K, MCUFORGE_DSP_NARROW16_FILTERS filters):
 * MCUFORGE_DSP_NARROW16_SCRATCH bytes. */
void mcuforge_conv_1x1_s8_narrow16(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output, void *scratch);
/* mcuforge_conv_1x1_s8_fast for a layer of the 3x2 tiles' shape (kernels/dsp_gemm_s8.h: out_c even, in_c a multiple
 * of 4, MCUFORGE_DSP_TILES_PER_PASS(in_c) > 0): faster, for ~1.6 KB more code. `scratch` holds the channel table
 * (20 bytes a filter), MCUFORGE_DSP_TILES_EVEN(in_c, pixels / 3) tiles of 6 in_c bytes, 4 in_c bytes and
 * MCUFORGE_DSP_TILES_ALIGN bytes. */
void mcuforge_conv_1x1_s8_tiles(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output, void *scratch);
/* mcuforge_conv_s8_fast in the same tiles, each output pixel's window gathered (any filter, stride, padding,
 * dilation; k = kernel_h kernel_w in_c for in_c): `scratch` holds the larger of what mcuforge_conv_1x1_s8_tiles
 * takes for k and MCUFORGE_CONV_DSP_SCRATCH(out_c, k, 1) (a window's bytes after the block, for the pixels the tiles
 * leave). */
void mcuforge_conv_s8_tiles(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output, void *scratch);
/* mcuforge_conv_s8_fast for that shape at any stride (a 1x1 filter, never padded: the ResNet shortcut's stride 2). */
void mcuforge_conv_s8_narrow16(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output, void *scratch);

#endif
