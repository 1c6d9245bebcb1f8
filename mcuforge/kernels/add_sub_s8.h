#ifndef MCUFORGE_ADD_SUB_S8_H
#define MCUFORGE_ADD_SUB_S8_H

#include "mcuforge_common.h"
#include "broadcast.h"
#include "dsp_s8.h"

/* TFLite's 8-bit ADD / SUB with general rescaling: each input, offset and shifted left by left_shift (20),
 * is brought to a common scale by its multiplier (at most 1/2), the two are added (or subtracted), and the
 * result is rescaled to the output. (x + offset) << 20 stays below 2^28 in magnitude for int8: no overflow. */
typedef struct {
    mcuforge_broadcast shape;
    int32_t subtract; /* 0: a + b, 1: a - b */
    int32_t left_shift;
    int32_t input1_offset; /* -zero point of a */
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_offset; /* -zero point of b */
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset; /* output zero point */
    int32_t act_min;
    int32_t act_max;
} mcuforge_add_sub_params;

/* y = clamp(requant(rescale1(a) +/- rescale2(b)) + output_offset), broadcasting a and b to y's shape.
 * Element-wise: y may be the very buffer of a or b when that input has y's shape. */
void mcuforge_add_sub_s8(const mcuforge_add_sub_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* Arena scratch of mcuforge_add_sub_s8_lut: two tables of 256 int32, 4-byte aligned. */
#define MCUFORGE_ADD_SUB_LUT_BYTES 2048

/* The same result through per-layer tables: each input's rescaled value depends on its own int8 value alone, so
 * the 256 of each input are computed once into `tables` (MCUFORGE_ADD_SUB_LUT_BYTES of scratch) and every
 * element costs two lookups, one add and the output requantization. For inputs that both step along the
 * innermost merged dimension (the emitter's choice); others take mcuforge_add_sub_s8. Same aliasing rule. */
void mcuforge_add_sub_s8_lut(const mcuforge_add_sub_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                             int32_t *tables);

#endif
