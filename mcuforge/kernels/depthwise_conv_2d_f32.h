#ifndef MCUFORGE_DEPTHWISE_CONV_2D_F32_H
#define MCUFORGE_DEPTHWISE_CONV_2D_F32_H

#include "conv_window.h"

typedef struct {
    mcuforge_conv_geometry geom; /* out_c = in_c * depth_multiplier */
    int32_t depth_multiplier;
    float act_min;
    float act_max;
} mcuforge_depthwise_conv_f32_params;

/* Filter [1, KH, KW, out_c]; output channel oc filters input channel oc / depth_multiplier; bias may be NULL. */
void mcuforge_depthwise_conv_f32(const mcuforge_depthwise_conv_f32_params *p, const float *input,
                                 const float *filter, const float *bias, float *output);

#endif
