#ifndef MCUFORGE_CONV_2D_HYBRID_H
#define MCUFORGE_CONV_2D_HYBRID_H

#include "conv_window.h"

/* A "dynamic range" quantized conv: float activations, int8 filter with one scale, float bias. */
typedef struct {
    mcuforge_conv_geometry geom; /* one group */
    float filter_scale;
    float act_min;
    float act_max;
} mcuforge_conv_hybrid_params;

/* LiteRT's EvalHybrid: each batch item is quantized symmetrically to int8 (scale max|x| / 127) into `scratch`
 * (in_h * in_w * in_c bytes), convolved in int32, then y = clamp((float)acc * (scale * filter_scale) + bias).
 * Reads the whole item before writing its outputs. bias may be NULL. */
void mcuforge_conv_hybrid(const mcuforge_conv_hybrid_params *p, const float *input, const int8_t *filter,
                          const float *bias, float *output, int8_t *scratch);

#endif
