#ifndef MCUFORGE_BROADCAST_H
#define MCUFORGE_BROADCAST_H

#include "mcuforge_common.h"

#define MCUFORGE_BROADCAST_RANK 6

/* How a binary element-wise op walks its output, precomputed by the compiler: the output shape with its size-1
 * dimensions dropped and neighbouring dimensions that both inputs broadcast alike merged, padded at the front to
 * MCUFORGE_BROADCAST_RANK with 1, and each input's element strides (0 along a dimension it broadcasts). Equal
 * shapes collapse to one row; a scalar or per-channel operand to rows along which it steps by 0 or 1. */
typedef struct {
    int32_t dims[MCUFORGE_BROADCAST_RANK];
    int32_t a_strides[MCUFORGE_BROADCAST_RANK];
    int32_t b_strides[MCUFORGE_BROADCAST_RANK];
} mcuforge_broadcast;

/* Rows of the output: every dimension but the innermost, which is one row (dims[RANK - 1] elements, inputs
 * stepping by a_strides/b_strides[RANK - 1], each 0 or 1). */
MCUFORGE_INLINE int32_t mcuforge_broadcast_rows(const mcuforge_broadcast *bc) {
    int32_t rows = 1;
    int32_t d;
    for (d = 0; d < MCUFORGE_BROADCAST_RANK - 1; ++d) {
        rows *= bc->dims[d];
    }
    return rows;
}

/* Element offsets in a and b of the first element of output row `row` (rows in row-major order). */
void mcuforge_broadcast_row(const mcuforge_broadcast *bc, int32_t row, size_t *a_offset, size_t *b_offset);

#endif
