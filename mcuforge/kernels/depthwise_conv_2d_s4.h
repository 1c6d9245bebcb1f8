#ifndef MCUFORGE_DEPTHWISE_CONV_2D_S4_H
#define MCUFORGE_DEPTHWISE_CONV_2D_S4_H

#include "conv_window.h"
#include "int4_s8.h"

/* DEPTHWISE_CONV_2D with int8 activations and symmetric int4 filters (zero point 0), packed two per byte. */
typedef struct {
    mcuforge_conv_geometry geom; /* out_c = in_c * depth_multiplier */
    int32_t depth_multiplier;    /* output channel oc filters input channel oc / depth_multiplier */
    int32_t input_offset;        /* -input zero point */
    int32_t output_offset;       /* output zero point */
    int32_t act_min;
    int32_t act_max;
    mcuforge_requant requant;
} mcuforge_depthwise_conv_s4_params;

/* TFLite's DepthwiseConvPerChannel with the filter [1, KH, KW, out_c] packed in order (int4_s8.h): tap (ky, kx)
 * of channel oc is weight (ky * KW + kx) * out_c + oc. bias may be NULL. */
void mcuforge_depthwise_conv_s4(const mcuforge_depthwise_conv_s4_params *p, const int8_t *input,
                                const uint8_t *filter, const int32_t *bias, int8_t *output);

#endif
