#include "reduce_s8.h"

/* Odometer over dims[0..rank) (innermost last): moves `index` on by one element and returns the change of the
 * element offset; after the last element it wraps back to the first. No division, O(1) amortised. */
MCUFORGE_INLINE int32_t walk_step(int32_t rank, const int32_t *dims, const int32_t *strides, int32_t *index) {
    int32_t delta = 0;
    int32_t d;
    for (d = rank - 1; d >= 0; --d) {
        delta += strides[d];
        if (++index[d] < dims[d]) {
            return delta;
        }
        delta -= dims[d] * strides[d];
        index[d] = 0;
    }
    return delta;
}

/* QuantizedMeanOrSum requantizes with gemmlowp's double rounding in TFLite Micro and in LiteRT alike (MEAN
 * declares litert_rounding="double"); spelled out here so this kernel never follows MCUFORGE_SINGLE_ROUNDING.
 * The left shift wraps like TFLite's int32 arithmetic (via uint32_t). */
MCUFORGE_INLINE int32_t requantize_double_rounding(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return mcuforge_rounding_divide_by_pot(mcuforge_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

void mcuforge_mean_s8(const mcuforge_reduce_params *p, const int8_t *input, int8_t *output) {
    /* The last reduced dimension is a plain strided loop; the odometer walks the ones outside it. */
    const int32_t last = p->reduce_rank - 1;
    const int32_t run = p->reduce_dims[last];
    const int32_t step = p->reduce_strides[last];
    int32_t out_index[MCUFORGE_REDUCE_MAX_DIMS] = {0};
    int32_t base = 0;
    int32_t o;
    for (o = 0; o < p->out_count; ++o) {
        int32_t index[MCUFORGE_REDUCE_MAX_DIMS] = {0};
        int32_t pos = base;
        int32_t sum = 0;
        int32_t r;
        int32_t i;
        int32_t acc;
        for (r = 0; r < p->count; r += run) {
            int32_t at = pos;
            for (i = 0; i < run; ++i, at += step) {
                sum += input[at];
            }
            pos += walk_step(last, p->reduce_dims, p->reduce_strides, index);
        }
        acc = (int32_t)((uint32_t)sum + (uint32_t)p->input_offset);
        acc = requantize_double_rounding(acc, p->multiplier, p->shift) + p->output_offset;
        output[o] = (int8_t)mcuforge_clamp(acc, INT8_MIN, INT8_MAX);
        base += walk_step(p->out_rank, p->out_dims, p->out_strides, out_index);
    }
}

void mcuforge_reduce_max_s8(const mcuforge_reduce_params *p, const int8_t *input, int8_t *output) {
    const int32_t last = p->reduce_rank - 1;
    const int32_t run = p->reduce_dims[last];
    const int32_t step = p->reduce_strides[last];
    int32_t out_index[MCUFORGE_REDUCE_MAX_DIMS] = {0};
    int32_t base = 0;
    int32_t o;
    for (o = 0; o < p->out_count; ++o) {
        int32_t index[MCUFORGE_REDUCE_MAX_DIMS] = {0};
        int32_t pos = base;
        int8_t max = INT8_MIN;
        int32_t r;
        int32_t i;
        for (r = 0; r < p->count; r += run) {
            int32_t at = pos;
            for (i = 0; i < run; ++i, at += step) {
                max = input[at] > max ? input[at] : max;
            }
            pos += walk_step(last, p->reduce_dims, p->reduce_strides, index);
        }
        output[o] = max;
        base += walk_step(p->out_rank, p->out_dims, p->out_strides, out_index);
    }
}
