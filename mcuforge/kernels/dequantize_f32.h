#ifndef MCUFORGE_DEQUANTIZE_F32_H
#define MCUFORGE_DEQUANTIZE_F32_H

#include "mcuforge_common.h"

typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} mcuforge_dequantize_f32_params;

/* int8 -> float32 DEQUANTIZE: scale * (x - zero_point). TFLite multiplies in double and narrows; the exact product
 * of a float32 scale and a 9-bit integer fits a double, so one float32 multiply rounds it identically. */
void mcuforge_dequantize_f32(const mcuforge_dequantize_f32_params *p, const int8_t *input, float *output);

#endif
