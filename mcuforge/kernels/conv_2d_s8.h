#ifndef MCUFORGE_CONV_2D_S8_H
#define MCUFORGE_CONV_2D_S8_H

#include "conv_window.h"

typedef struct {
    mcuforge_conv_geometry geom;
    int32_t groups;         /* filter depth = in_c / groups; output channel oc reads group oc / (out_c / groups) */
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    int32_t act_min;
    int32_t act_max;
    /* bias[oc] + input_offset * (sum of filter oc): the accumulator's start when no tap is padded. */
    const int32_t *bias_folded;
    mcuforge_requant requant;
} mcuforge_conv_params;

/* TFLite's ConvPerChannel: y[oc] = clamp(requant(bias[oc] + sum over the taps inside the input of
 * (x + input_offset) * w[oc]) + output_offset). NHWC input, OHWI filter [out_c, KH, KW, in_c / groups],
 * symmetric filter; bias may be NULL. */
void mcuforge_conv_s8(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output);

/* The same for a 1x1 filter, stride 1, no padding, one group: a matrix product over pixels. */
void mcuforge_conv_1x1_s8(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                          int8_t *output);

#endif
