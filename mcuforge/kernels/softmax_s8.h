#ifndef MCUFORGE_SOFTMAX_S8_H
#define MCUFORGE_SOFTMAX_S8_H

#include "mcuforge_common.h"

/* TFLite's reference_ops::Softmax<int8_t, int8_t> over rows of `depth` values; output scale 1/256, zero point
 * -128. A difference from the row maximum takes one of 256 values, so the compiler tabulates its exp (the
 * input rescaling and gemmlowp's exp_on_negative_values, Q0.31) at build time: exp_table[max - x]. Entries
 * below TFLite's diff_min are 0, which adds nothing to the sum and gives the minimum output, as TFLite's
 * skip does. The sum (Q12.19), its reciprocal (GetReciprocal) and the output rounding run here. */
typedef struct {
    int32_t rows;
    int32_t depth;
    const int32_t *exp_table; /* 256 entries, Q0.31, indexed by max - x */
} mcuforge_softmax_s8_params;

/* Row-wise, reading a row entirely before writing it: output may be the very buffer of input.
 * A row whose exps sum to 512 or more (512+ values nearly all at the maximum) is beyond TFLite's Q12.19
 * range and its kernel aborts (the reference interpreter raises); here the output shift just grows past 31,
 * which rounds every output of such a row to the minimum, -128. Sums past 2^32 (8192+ values at the maximum)
 * wrap as TFLite's int32 sum does. */
void mcuforge_softmax_s8(const mcuforge_softmax_s8_params *p, const int8_t *input, int8_t *output);

#endif
