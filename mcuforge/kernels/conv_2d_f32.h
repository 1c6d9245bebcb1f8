#ifndef MCUFORGE_CONV_2D_F32_H
#define MCUFORGE_CONV_2D_F32_H

#include "conv_window.h"

typedef struct {
    mcuforge_conv_geometry geom;
    int32_t groups; /* filter depth = in_c / groups */
    float act_min;
    float act_max;
} mcuforge_conv_f32_params;

/* y[oc] = clamp(sum over the taps inside the input of x * w[oc], then + bias[oc]). NHWC input, OHWI filter;
 * bias may be NULL. */
void mcuforge_conv_f32(const mcuforge_conv_f32_params *p, const float *input, const float *filter,
                       const float *bias, float *output);

#endif
