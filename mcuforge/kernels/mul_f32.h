#ifndef MCUFORGE_MUL_F32_H
#define MCUFORGE_MUL_F32_H

#include "mcuforge_common.h"
#include "broadcast.h"

typedef struct {
    mcuforge_broadcast shape;
    float act_min;
    float act_max;
} mcuforge_mul_f32_params;

/* y = clamp(a * b), broadcasting a and b to y's shape. y may be the very buffer of a or b when that input has
 * y's shape. */
void mcuforge_mul_f32(const mcuforge_mul_f32_params *p, const float *a, const float *b, float *y);

#endif
