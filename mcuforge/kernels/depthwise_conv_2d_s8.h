#ifndef MCUFORGE_DEPTHWISE_CONV_2D_S8_H
#define MCUFORGE_DEPTHWISE_CONV_2D_S8_H

#include "conv_window.h"
#include "dsp_s8.h"

/* Scratch of the DSP variant: the channel table and the filter as q15 pairs (44 bytes a channel), and three
 * input rows widened channel by channel to `width` values (see depthwise_conv_2d_s8.c). */
#define MCUFORGE_DEPTHWISE_DSP_SCRATCH(channels, width) \
    (44 * (size_t)(channels) + 6 * (size_t)(channels) * (size_t)(width))

/* TFLite's DepthwiseConvPerChannel: filter [1, KH, KW, out_c], symmetric; bias may be NULL. */
void mcuforge_depthwise_conv_s8(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output, void *scratch);

/* The same for a layer whose DSP variant takes the fast output stage (dsp_requant MCUFORGE_DSP_FOLDED: the _fast_
 * entries, one per row shape) or the wide one (MCUFORGE_DSP_GENERAL: _wide), with clamp [-128, 127] (the caller's
 * promise). Identical outputs; a build for a core with the DSP extension links only that variant, a build for any
 * other core only the portable code.
 * _fast_long: stride 1 only (the stride-2 assembly is not linked), any row length (blocks of six outputs, then up
 * to two pairs and a triple as needed). */
void mcuforge_depthwise_conv_s8_fast_long(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                          const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch);
/* The same for stride 2 only (the stride-1 assembly is not linked). */
void mcuforge_depthwise_conv_s8_fast_s2_long(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                             const int8_t *filter, const int32_t *bias, int8_t *output,
                                             void *scratch);
/* Both strides, any row length, in one assembly function (for a model with layers of each: about 490 bytes less
 * than the two functions; about as fast at stride 1, 4 cycles more per channel and block of six at stride 2). */
void mcuforge_depthwise_conv_s8_fast_both_long(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                               const int8_t *filter, const int32_t *bias, int8_t *output,
                                               void *scratch);
/* The same for rows of 6k or 6k + 3 outputs only (the caller's promise): no pairs' phase, about 400 bytes less. */
void mcuforge_depthwise_conv_s8_fast_both_no_pairs(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                                   const int8_t *filter, const int32_t *bias, int8_t *output,
                                                   void *scratch);
/* And for stride 1 with rows of exactly 5 outputs (KWS): each row of a channel in one block. */
void mcuforge_depthwise_conv_s8_fast_w5(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                        const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch);
void mcuforge_depthwise_conv_s8_wide(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                     const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch);

#endif
