#ifndef MCUFORGE_DEPTHWISE_CONV_2D_S8_H
#define MCUFORGE_DEPTHWISE_CONV_2D_S8_H

#include "conv_window.h"

typedef struct {
    mcuforge_conv_geometry geom; /* out_c = in_c * depth_multiplier */
    int32_t depth_multiplier;    /* output channel oc filters input channel oc / depth_multiplier */
    int32_t input_offset;        /* -input zero point */
    int32_t output_offset;       /* output zero point */
    int32_t act_min;
    int32_t act_max;
    /* bias[oc] + input_offset * (sum of the filter's taps for oc): the accumulator's start when no tap is padded. */
    const int32_t *bias_folded;
    mcuforge_requant requant;
} mcuforge_depthwise_conv_params;

/* TFLite's DepthwiseConvPerChannel: filter [1, KH, KW, out_c], symmetric; bias may be NULL. */
void mcuforge_depthwise_conv_s8(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output);

#endif
