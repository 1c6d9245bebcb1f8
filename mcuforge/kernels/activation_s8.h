#ifndef MCUFORGE_ACTIVATION_S8_H
#define MCUFORGE_ACTIVATION_S8_H

#include "mcuforge_common.h"

/* RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1 (TFLite's QuantizedReluX): requantize to the output's scale, then clamp
 * to the activation's range in output integers. When the requantization is the identity (equal scales), or for
 * TFLite Micro's RELU6 (which clamps the input's integers and ignores the output's quantization), `requantize`
 * is 0 and the kernel only offsets and clamps. */
typedef struct {
    int32_t size;
    int32_t requantize;
    int32_t input_offset; /* -input zero point */
    int32_t multiplier;
    int32_t shift;
    int32_t output_offset; /* output zero point */
    int32_t act_min;
    int32_t act_max;
} mcuforge_activation_params;

/* Element-wise: output may be the very buffer of input. */
void mcuforge_activation_s8(const mcuforge_activation_params *p, const int8_t *input, int8_t *output);

#endif
