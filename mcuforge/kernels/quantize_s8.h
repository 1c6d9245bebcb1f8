#ifndef MCUFORGE_QUANTIZE_S8_H
#define MCUFORGE_QUANTIZE_S8_H

#include "mcuforge_common.h"

/* int8 -> int8 QUANTIZE (TFLite's Requantize): x - input zero point, requantized by input_scale / output_scale,
 * plus the output zero point, saturated to int8. */
typedef struct {
    int32_t size;
    int32_t input_offset; /* -input zero point */
    int32_t multiplier;
    int32_t shift;
    int32_t output_offset; /* output zero point */
} mcuforge_requantize_params;

/* Element-wise: output may be the very buffer of input. */
void mcuforge_requantize_s8(const mcuforge_requantize_params *p, const int8_t *input, int8_t *output);

#endif
