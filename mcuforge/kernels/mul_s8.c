#include "mul_s8.h"

void mcuforge_mul_s8(const mcuforge_mul_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
    const int32_t n = p->shape.dims[MCUFORGE_BROADCAST_RANK - 1];
    const size_t a_step = (size_t)p->shape.a_strides[MCUFORGE_BROADCAST_RANK - 1];
    const size_t b_step = (size_t)p->shape.b_strides[MCUFORGE_BROADCAST_RANK - 1];
    const int32_t rows = mcuforge_broadcast_rows(&p->shape);
    int32_t row;
    int32_t i;
    for (row = 0; row < rows; ++row) {
        size_t ia;
        size_t ib;
        int8_t *out = y + (size_t)row * (size_t)n;
        mcuforge_broadcast_row(&p->shape, row, &ia, &ib);
        for (i = 0; i < n; ++i) {
            const int32_t va = (int32_t)a[ia + (size_t)i * a_step] + p->input1_offset;
            const int32_t vb = (int32_t)b[ib + (size_t)i * b_step] + p->input2_offset;
            const int32_t v = mcuforge_requantize(va * vb, p->multiplier, p->shift) + p->output_offset;
            out[i] = (int8_t)mcuforge_clamp(v, p->act_min, p->act_max);
        }
    }
}
