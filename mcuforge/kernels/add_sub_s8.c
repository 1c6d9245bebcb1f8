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

#if defined(MCUFORGE_DSP) && !defined(MCUFORGE_SINGLE_ROUNDING)
/* DSP variant (kernels/dsp_s8.h): each of the three requantizations in a handful of exact instructions, SMMULR of
 * the doubled value for SaturatingRoundingDoublingHighMul and a nudge for RoundingDivideByPOT, as the conv
 * kernels' output stage does. Exact while every value multiplied stays below 2^30 in magnitude: with
 * |x + offset| <= 255, a left shift of at most 21 and only right shifts after it (TFLite's ADD: left shift 20,
 * multipliers below 1), the rescaled inputs stay below 2^29 and their sum below 2^30. Other parameters take the
 * portable loop. */
#define ADD_SUB_DSP 1

typedef struct {
    int32_t multiplier;
    int32_t nudge;      /* 2^(shift - 1), 0 for shift 0 */
    int32_t correction; /* -1 (a negative value rounds down one more) or 0 (shift 0) */
    int32_t shift;      /* right shift, 0..31 */
} add_sub_stage;

MCUFORGE_INLINE add_sub_stage add_sub_dsp_stage(int32_t multiplier, int32_t shift) {
    add_sub_stage st;
    st.multiplier = multiplier;
    st.shift = -shift;
    st.nudge = st.shift > 0 ? (int32_t)(1u << (st.shift - 1)) : 0;
    st.correction = st.shift > 0 ? -1 : 0;
    return st;
}

/* The stage's fields as arguments: the loop below keeps them in registers (int8 stores could alias a struct). */
MCUFORGE_INLINE int32_t add_sub_dsp_requant(int32_t x, int32_t multiplier, int32_t correction, int32_t nudge,
                                            int32_t shift) {
    const int32_t high = mcuforge_smmulr((int32_t)((uint32_t)x << 1), multiplier);
    return (high + ((high >> 31) & correction) + nudge) >> shift;
}

#define ADD_SUB_DSP_REQUANT(x, st) add_sub_dsp_requant((x), (st).multiplier, (st).correction, (st).nudge, (st).shift)

static int add_sub_dsp_applies(const mcuforge_add_sub_params *p) {
    return p->left_shift >= 0 && p->left_shift <= 21 && p->input1_shift <= 0 && p->input1_shift >= -31 &&
           p->input2_shift <= 0 && p->input2_shift >= -31 && p->output_shift <= 0 && p->output_shift >= -31 &&
           p->input1_multiplier >= 0 && p->input2_multiplier >= 0 && p->output_multiplier >= 0;
}

/* One row; `a_step`, `b_step` are 1 or 0 (a broadcast input: rescaled once). Every parameter is copied to a
 * local first: the int8 stores could alias the params and the stages, and would force reloads. */
MCUFORGE_INLINE void add_sub_row_dsp(const mcuforge_add_sub_params *p, const add_sub_stage *stages,
                                     const int8_t *a, int32_t a_step, const int8_t *b, int32_t b_step, int8_t *y,
                                     int32_t n) {
    const add_sub_stage s1 = stages[0];
    const add_sub_stage s2 = stages[1];
    const add_sub_stage so = stages[2];
    const int32_t scale = 1 << p->left_shift;
    const int32_t off1 = p->input1_offset * scale;
    const int32_t off2 = p->input2_offset * scale;
    const int32_t sign = p->subtract ? -1 : 1;
    const int32_t out_offset = p->output_offset;
    const int32_t lo = p->act_min;
    const int32_t hi = p->act_max;
    const int32_t a_fixed = ADD_SUB_DSP_REQUANT(a[0] * scale + off1, s1);
    const int32_t b_fixed = ADD_SUB_DSP_REQUANT(b[0] * scale + off2, s2);
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t sa = a_step ? ADD_SUB_DSP_REQUANT(a[i] * scale + off1, s1) : a_fixed;
        const int32_t sb = b_step ? ADD_SUB_DSP_REQUANT(b[i] * scale + off2, s2) : b_fixed;
        const int32_t out = ADD_SUB_DSP_REQUANT(sa + sign * sb, so) + out_offset;
        y[i] = (int8_t)mcuforge_clamp(out, lo, hi);
    }
}

static void add_sub_rows_dsp(const mcuforge_add_sub_params *p, const add_sub_stage *st, const int8_t *a,
                             const int8_t *b, int8_t *y) {
    const int32_t n = p->shape.dims[MCUFORGE_BROADCAST_RANK - 1];
    const int32_t rows = mcuforge_broadcast_rows(&p->shape);
    const int32_t a_step = p->shape.a_strides[MCUFORGE_BROADCAST_RANK - 1] != 0;
    const int32_t b_step = p->shape.b_strides[MCUFORGE_BROADCAST_RANK - 1] != 0;
    int32_t row;
    for (row = 0; row < rows; ++row) {
        size_t ia;
        size_t ib;
        mcuforge_broadcast_row(&p->shape, row, &ia, &ib);
        if (a_step && b_step) { /* the usual case, as literals: no branch per element */
            add_sub_row_dsp(p, st, a + ia, 1, b + ib, 1, y + (size_t)row * (size_t)n, n);
        } else {
            add_sub_row_dsp(p, st, a + ia, a_step, b + ib, b_step, y + (size_t)row * (size_t)n, n);
        }
    }
}
#endif

void mcuforge_add_sub_s8(const mcuforge_add_sub_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
    const int32_t n = p->shape.dims[MCUFORGE_BROADCAST_RANK - 1];
    const int32_t rows = mcuforge_broadcast_rows(&p->shape);
    int32_t row;
#if defined(ADD_SUB_DSP)
    if (add_sub_dsp_applies(p)) {
        add_sub_stage st[3];
        st[0] = add_sub_dsp_stage(p->input1_multiplier, p->input1_shift);
        st[1] = add_sub_dsp_stage(p->input2_multiplier, p->input2_shift);
        st[2] = add_sub_dsp_stage(p->output_multiplier, p->output_shift);
        add_sub_rows_dsp(p, st, a, b, y);
        return;
    }
#endif
    for (row = 0; row < rows; ++row) {
        size_t ia;
        size_t ib;
        mcuforge_broadcast_row(&p->shape, row, &ia, &ib);
        add_sub_row(p, a + ia, p->shape.a_strides[MCUFORGE_BROADCAST_RANK - 1], b + ib,
                    p->shape.b_strides[MCUFORGE_BROADCAST_RANK - 1], y + (size_t)row * (size_t)n, n);
    }
}

/* The lookup-table variant. Each table holds twice an input's rescaled value for every int8 value v, at index
 * (uint8_t)v, the second negated for SUB: an element's doubled sum is one add of two lookups (|2 rescaled| <
 * 2^29, the doubled sum < 2^30: no overflow). Doubled because the output requantization's
 * SaturatingRoundingDoublingHighMul starts by doubling. */
static void add_sub_table(int32_t *table, int32_t offset, int32_t multiplier, int32_t shift, int32_t left_shift,
                          int32_t sign) {
    int32_t v;
#if defined(ADD_SUB_DSP) /* the LUT kernel builds tables only where add_sub_dsp_applies */
    const add_sub_stage st = add_sub_dsp_stage(multiplier, shift);
    for (v = -128; v < 128; ++v) {
        table[(uint8_t)v] = sign * 2 * ADD_SUB_DSP_REQUANT((v + offset) * (1 << left_shift), st);
    }
#else
    for (v = -128; v < 128; ++v) {
        table[(uint8_t)v] = sign * 2 * rescale(v, offset, left_shift, multiplier, shift);
    }
#endif
}

#if !defined(ADD_SUB_DSP)
/* y[i] for the doubled sum `twice`: TFLite's requantization (of twice / 2, exact as twice is even). */
MCUFORGE_INLINE int8_t add_sub_lut_output(const mcuforge_add_sub_params *p, int32_t twice) {
    const int32_t out = mcuforge_requantize(twice / 2, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)mcuforge_clamp(out, p->act_min, p->act_max);
}
#else
/* One output in four instructions after the lookups (dsp_s8.h's mcuforge_dsp_fast_doubled): the tables hold the
 * rescaled inputs doubled, so their sum is twice TFLite's (exact: twice is even, and |twice| < 2^31 leaves
 * SaturatingRoundingDoublingHighMul(twice / 2, m) = SMMULR(twice, m) unsaturated). Needs m > 0 and s in [1, 22]. */
MCUFORGE_INLINE int8_t add_sub_lut_fast(int32_t twice, int32_t multiplier, int32_t round, int32_t shift) {
    return mcuforge_dsp_fast_doubled(twice, multiplier, round, shift);
}

#define ADD_SUB_LUT_FAST(k) y[k] = add_sub_lut_fast(ta[(uint8_t)a[k]] + tb[(uint8_t)b[k]], multiplier, round, shift)

/* One row clamped to [-128, 127], four outputs per iteration (the loop's branch costs as much as an output
 * stage). */
static void add_sub_lut_row_fast(const int32_t *ta, const int32_t *tb, const int8_t *a, const int8_t *b, int8_t *y,
                                 int32_t n, int32_t multiplier, int32_t round, int32_t shift) {
    const int8_t *end = a + (n & ~3);
    while (a != end) {
        ADD_SUB_LUT_FAST(0);
        ADD_SUB_LUT_FAST(1);
        ADD_SUB_LUT_FAST(2);
        ADD_SUB_LUT_FAST(3);
        a += 4;
        b += 4;
        y += 4;
    }
    for (n &= 3; n > 0; --n) {
        ADD_SUB_LUT_FAST(0);
        ++a;
        ++b;
        ++y;
    }
}
#endif

void mcuforge_add_sub_s8_lut(const mcuforge_add_sub_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                             int32_t *tables) {
    const int32_t n = p->shape.dims[MCUFORGE_BROADCAST_RANK - 1];
    const int32_t rows = mcuforge_broadcast_rows(&p->shape);
    const int32_t *ta = tables;
    const int32_t *tb = tables + 256;
    int32_t row;
    int32_t i;
    /* A row along which an input is fixed has nothing to look up per element. */
    int direct = p->shape.a_strides[MCUFORGE_BROADCAST_RANK - 1] == 0 ||
                 p->shape.b_strides[MCUFORGE_BROADCAST_RANK - 1] == 0;
#if defined(ADD_SUB_DSP)
    const int32_t shift = -p->output_shift;
    const int fast = add_sub_dsp_applies(p) && p->output_multiplier > 0 && shift >= 1 && shift <= 22;
    const int32_t round = fast ? (int32_t)(1u << (shift - 1)) + p->output_offset * (1 << shift) : 0;
    /* Parameters outside the fast output stage's conditions keep the DSP kernel's three-stage path. */
    direct = direct || !fast;
#endif
    if (direct) {
        mcuforge_add_sub_s8(p, a, b, y);
        return;
    }
    add_sub_table(tables, p->input1_offset, p->input1_multiplier, p->input1_shift, p->left_shift, 1);
    add_sub_table(tables + 256, p->input2_offset, p->input2_multiplier, p->input2_shift, p->left_shift,
                  p->subtract ? -1 : 1);
    for (row = 0; row < rows; ++row) {
        size_t ia;
        size_t ib;
        const int8_t *ra;
        const int8_t *rb;
        int8_t *ry = y + (size_t)row * (size_t)n;
        mcuforge_broadcast_row(&p->shape, row, &ia, &ib);
        ra = a + ia;
        rb = b + ib;
#if defined(ADD_SUB_DSP)
        add_sub_lut_row_fast(ta, tb, ra, rb, ry, n, p->output_multiplier, round, shift);
        if (p->act_min != -128 || p->act_max != 127) { /* a narrower clamp: a second, cheap pass */
            for (i = 0; i < n; ++i) {
                ry[i] = (int8_t)mcuforge_clamp(ry[i], p->act_min, p->act_max);
            }
        }
#else
        for (i = 0; i < n; ++i) {
            ry[i] = add_sub_lut_output(p, ta[(uint8_t)ra[i]] + tb[(uint8_t)rb[i]]);
        }
#endif
    }
}
