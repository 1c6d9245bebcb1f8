#ifndef MCUFORGE_ADD_SUB_F32_H
#define MCUFORGE_ADD_SUB_F32_H

#include "mcuforge_common.h"
#include "broadcast.h"

typedef struct {
    mcuforge_broadcast shape;
    int32_t subtract; /* 0: a + b, 1: a - b */
    float act_min;
    float act_max;
} mcuforge_add_sub_f32_params;

/* y = clamp(a +/- b), broadcasting a and b to y's shape. y may be the very buffer of a or b when that input has
 * y's shape. */
void mcuforge_add_sub_f32(const mcuforge_add_sub_f32_params *p, const float *a, const float *b, float *y);

#endif
