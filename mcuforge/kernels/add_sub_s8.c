#include "add_sub_s8.h"

MCUFORGE_INLINE int32_t rescale(int32_t x, int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift) {
    /* |x + offset| <= 255, so the product stays below 2^28 and the shift cannot overflow. */
    return mcuforge_requantize((x + offset) * ((int32_t)1 << left_shift), multiplier, shift);
}

static void add_sub_row(const mcuforge_add_sub_params *p, const int8_t *a, int32_t a_step, const int8_t *b,
                        int32_t b_step, int8_t *y, int32_t n) {
    /* An input that does not step along the row (scalar or broadcast) is rescaled once per row. */
    const int32_t a_fixed = a_step ? 0 : rescale(a[0], p->input1_offset, p->left_shift, p->input1_multiplier,
                                                 p->input1_shift);
    const int32_t b_fixed = b_step ? 0 : rescale(b[0], p->input2_offset, p->left_shift, p->input2_multiplier,
                                                 p->input2_shift);
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t sa = a_step ? rescale(a[i], p->input1_offset, p->left_shift, p->input1_multiplier,
                                            p->input1_shift) : a_fixed;
        const int32_t sb = b_step ? rescale(b[i], p->input2_offset, p->left_shift, p->input2_multiplier,
                                            p->input2_shift) : b_fixed;
        const int32_t raw = p->subtract ? sa - sb : sa + sb;
        const int32_t out = mcuforge_requantize(raw, p->output_multiplier, p->output_shift) + p->output_offset;
        y[i] = (int8_t)mcuforge_clamp(out, p->act_min, p->act_max);
    }
}

void mcuforge_add_sub_s8(const mcuforge_add_sub_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
    const int32_t n = p->shape.dims[MCUFORGE_BROADCAST_RANK - 1];
    const int32_t rows = mcuforge_broadcast_rows(&p->shape);
    int32_t row;
    for (row = 0; row < rows; ++row) {
        size_t ia;
        size_t ib;
        mcuforge_broadcast_row(&p->shape, row, &ia, &ib);
        add_sub_row(p, a + ia, p->shape.a_strides[MCUFORGE_BROADCAST_RANK - 1], b + ib,
                    p->shape.b_strides[MCUFORGE_BROADCAST_RANK - 1], y + (size_t)row * (size_t)n, n);
    }
}
