#ifndef MCUFORGE_LUT_S8_H
#define MCUFORGE_LUT_S8_H

#include "mcuforge_common.h"

/* An int8 -> int8 element-wise function as a 256-entry table, indexed by the input's bits read as uint8_t
 * (table[0..127] for inputs 0..127, table[128..255] for -128..-1). The compiler fills the table from the
 * reference kernel at build time (LOGISTIC, TANH, HARD_SWISH), so the lookup is bit-exact by construction. */
typedef struct {
    int32_t size;
    const int8_t *table; /* 256 entries */
} mcuforge_lut_s8_params;

/* Element-wise: output may be the very buffer of input. */
void mcuforge_lut_s8(const mcuforge_lut_s8_params *p, const int8_t *input, int8_t *output);

#endif
