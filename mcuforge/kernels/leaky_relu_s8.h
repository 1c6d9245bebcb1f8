#ifndef MCUFORGE_LEAKY_RELU_S8_H
#define MCUFORGE_LEAKY_RELU_S8_H

#include "mcuforge_common.h"

/* TFLite's QuantizeLeakyRelu: x - zero point, requantized by input_scale / output_scale when non-negative and by
 * input_scale * alpha / output_scale when negative (a negative alpha gives a negative multiplier). */
typedef struct {
    int32_t size;
    int32_t input_offset; /* -input zero point */
    int32_t identity_multiplier;
    int32_t identity_shift;
    int32_t alpha_multiplier;
    int32_t alpha_shift;
    int32_t output_offset; /* output zero point */
} mcuforge_leaky_relu_params;

/* Element-wise: output may be the very buffer of input. */
void mcuforge_leaky_relu_s8(const mcuforge_leaky_relu_params *p, const int8_t *input, int8_t *output);

#endif
