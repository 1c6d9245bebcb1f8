#include "add_sub_f32.h"

void mcuforge_add_sub_f32(const mcuforge_add_sub_f32_params *p, const float *a, const float *b, float *y) {
    const int32_t n = p->shape.dims[MCUFORGE_BROADCAST_RANK - 1];
    const size_t a_step = (size_t)p->shape.a_strides[MCUFORGE_BROADCAST_RANK - 1];
    const size_t b_step = (size_t)p->shape.b_strides[MCUFORGE_BROADCAST_RANK - 1];
    const int32_t rows = mcuforge_broadcast_rows(&p->shape);
    int32_t row;
    int32_t i;
    for (row = 0; row < rows; ++row) {
        size_t ia;
        size_t ib;
        float *out = y + (size_t)row * (size_t)n;
        mcuforge_broadcast_row(&p->shape, row, &ia, &ib);
        for (i = 0; i < n; ++i) {
            const float va = a[ia + (size_t)i * a_step];
            const float vb = b[ib + (size_t)i * b_step];
            float v = p->subtract ? va - vb : va + vb;
            v = v < p->act_min ? p->act_min : v;
            out[i] = v > p->act_max ? p->act_max : v;
        }
    }
}
