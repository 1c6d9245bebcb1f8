#include "broadcast.h"

void mcuforge_broadcast_row(const mcuforge_broadcast *bc, int32_t row, size_t *a_offset, size_t *b_offset) {
    size_t a = 0;
    size_t b = 0;
    int32_t d;
    for (d = MCUFORGE_BROADCAST_RANK - 2; d >= 0; --d) {
        const int32_t index = row % bc->dims[d];
        row /= bc->dims[d];
        a += (size_t)index * (size_t)bc->a_strides[d];
        b += (size_t)index * (size_t)bc->b_strides[d];
    }
    *a_offset = a;
    *b_offset = b;
}
