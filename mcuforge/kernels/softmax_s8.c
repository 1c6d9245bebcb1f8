#include "softmax_s8.h"

/* The few gemmlowp fixed-point functions GetReciprocal needs (gemmlowp/fixedpoint/fixedpoint.h). Raw int32
 * values; additions wrap like the C++ int32 ones, through uint32_t so that C keeps them defined. */

MCUFORGE_INLINE int32_t softmax_wrapping_add(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

MCUFORGE_INLINE int32_t softmax_wrapping_sub(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0: a left shift saturating at the int32 range. */
MCUFORGE_INLINE int32_t softmax_saturating_shift_left(int32_t x, int32_t exponent) {
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for Q0.31 a = shifted_sum - 2^31 in [0, 1), by Newton-Raphson in
 * Q2.29. Its RoundingHalfSum(a, INT32_MAX) = (shifted_sum - 1 + 1) / 2 is shifted_sum / 2, or (-1 - 1) / 2 = -1
 * for shifted_sum 0 (an empty or wrapped sum): no 64-bit arithmetic. */
static int32_t softmax_one_over_one_plus_x(uint32_t shifted_sum) {
    const int32_t constant_48_over_17 = 1515870810;      /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    const int32_t half_denominator = shifted_sum != 0u ? (int32_t)(shifted_sum >> 1) : -1; /* (1 + a) / 2, Q0.31 */
    int32_t x = softmax_wrapping_add(constant_48_over_17, mcuforge_srdhm(half_denominator, constant_neg_32_over_17));
    int32_t i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x =
            softmax_wrapping_sub(one_q2, mcuforge_srdhm(half_denominator, x));
        x = softmax_wrapping_add(x, softmax_saturating_shift_left(
                                        mcuforge_srdhm(x, one_minus_half_denominator_times_x), 2));
    }
    return softmax_saturating_shift_left(x, 1); /* 1 / half_denominator in Q2.29 is 1 / (1 + a) in Q1.30 */
}

/* The number of leading zero bits of x, 32 for 0 (one CLZ where the compiler has the builtin). */
MCUFORGE_INLINE int32_t softmax_count_leading_zeros(uint32_t x) {
#if defined(__GNUC__)
    return x != 0u ? (int32_t)__builtin_clz(x) : 32;
#else
    int32_t n = 0;
    while (n < 32 && (x & (0x80000000u >> n)) == 0) {
        ++n;
    }
    return n;
#endif
}

void mcuforge_softmax_s8(const mcuforge_softmax_s8_params *p, const int8_t *input, int8_t *output) {
    const int32_t *exp_table = p->exp_table;
    int32_t r;
    int32_t c;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + (size_t)r * (size_t)p->depth;
        int8_t *y = output + (size_t)r * (size_t)p->depth;
        int32_t max = INT8_MIN;
        uint32_t sum = 0; /* Q12.19; wraps like TFLite's int32 sum */
        int32_t headroom_plus_one;
        int32_t exponent;
        int32_t shifted_scale;
        uint32_t shifted_sum;
        for (c = 0; c < p->depth; ++c) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; ++c) {
            /* Rescale<12>: the Q0.31 exp to the Q12.19 accumulator. */
            sum += (uint32_t)mcuforge_rounding_divide_by_pot(exp_table[max - x[c]], 12);
        }
        /* GetReciprocal(sum, 12): 1 / sum = shifted_scale * 2^-(12 - headroom_plus_one), shifted_scale Q0.31. */
        headroom_plus_one = softmax_count_leading_zeros(sum);
        shifted_sum = headroom_plus_one < 32 ? sum << headroom_plus_one : 0u;
        shifted_scale = softmax_one_over_one_plus_x(shifted_sum);
        exponent = (12 - headroom_plus_one) + 31 - 8; /* onto the 1/256 output grid, at most 35 */
        for (c = 0; c < p->depth; ++c) {
            const int32_t scaled = mcuforge_srdhm(shifted_scale, exp_table[max - x[c]]); /* >= 0 */
            /* A sum of 512 or more (TFLite aborts, see the header) takes exponent >= 32: (scaled + 2^(e-1)) >> e
             * is then 0 for every scaled < 2^31, RoundingDivideByPOT continued past a shift of 31. */
            const int32_t unsat = exponent <= 31 ? mcuforge_rounding_divide_by_pot(scaled, exponent) : 0;
            y[c] = (int8_t)mcuforge_clamp(unsat - 128, -128, 127);
        }
    }
}
