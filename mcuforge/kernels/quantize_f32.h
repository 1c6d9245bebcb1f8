#ifndef MCUFORGE_QUANTIZE_F32_H
#define MCUFORGE_QUANTIZE_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} mcuforge_quantize_f32_params;

/* float32 -> int8 QUANTIZE (TFLite's AffineQuantize): zero_point + round(x / scale), the quotient taken in float32
 * and rounded half away from zero (as roundf, without libm), saturated to int8; NaN gives the zero point.
 * Element-wise: output may share input's buffer (byte i of the output lies in input element i / 4, already read). */
void mcuforge_quantize_f32(const mcuforge_quantize_f32_params *p, const float *input, int8_t *output);

#endif
