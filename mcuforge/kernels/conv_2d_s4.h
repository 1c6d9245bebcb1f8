#ifndef MCUFORGE_CONV_2D_S4_H
#define MCUFORGE_CONV_2D_S4_H

#include "conv_window.h"
#include "int4_s8.h"

/* CONV_2D with int8 activations and symmetric int4 filters (zero point 0), packed two per byte. */
typedef struct {
    mcuforge_conv_geometry geom;
    int32_t groups;        /* filter depth = in_c / groups; output channel oc reads group oc / (out_c / groups) */
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min;
    int32_t act_max;
    /* bias[oc] + input_offset * (sum of filter oc): the accumulator's start when no tap is padded. */
    const int32_t *bias_folded;
    mcuforge_requant requant;
} mcuforge_conv_s4_params;

/* TFLite's ConvPerChannel with the OHWI filter [out_c, KH, KW, in_c / groups] packed in order (int4_s8.h):
 * y[oc] = clamp(requant(bias[oc] + sum over the taps inside the input of (x + input_offset) * w[oc]) +
 * output_offset). bias may be NULL. */
void mcuforge_conv_s4(const mcuforge_conv_s4_params *p, const int8_t *input, const uint8_t *filter,
                      const int32_t *bias, int8_t *output);

#endif
