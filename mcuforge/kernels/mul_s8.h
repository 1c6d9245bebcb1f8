#ifndef MCUFORGE_MUL_S8_H
#define MCUFORGE_MUL_S8_H

#include "mcuforge_common.h"
#include "broadcast.h"

typedef struct {
    mcuforge_broadcast shape;
    int32_t input1_offset; /* -zero point of a */
    int32_t input2_offset; /* -zero point of b */
    int32_t output_offset; /* output zero point */
    int32_t multiplier; /* scale_a * scale_b / scale_y */
    int32_t shift;
    int32_t act_min;
    int32_t act_max;
} mcuforge_mul_params;

/* y = clamp(requant((a + input1_offset) * (b + input2_offset)) + output_offset), broadcasting a and b to y's
 * shape (TFLite's MulElementwise; the product of two offset int8 values fits in int32). Element-wise: y may be
 * the very buffer of a or b when that input has y's shape. */
void mcuforge_mul_s8(const mcuforge_mul_params *p, const int8_t *a, const int8_t *b, int8_t *y);

#endif
