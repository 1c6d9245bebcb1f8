#include "reduce_f32.h"

/* Odometer over dims[0..rank) (innermost last), as in reduce_s8.c. */
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

void mcuforge_mean_f32(const mcuforge_reduce_f32_params *p, const float *input, float *output) {
    const int32_t last = p->reduce_rank - 1;
    const int32_t run = p->reduce_dims[last];
    const int32_t step = p->reduce_strides[last];
    const float count = (float)p->count;
    int32_t out_index[MCUFORGE_REDUCE_F32_MAX_DIMS] = {0};
    int32_t base = 0;
    int32_t o;
    for (o = 0; o < p->out_count; ++o) {
        int32_t index[MCUFORGE_REDUCE_F32_MAX_DIMS] = {0};
        int32_t pos = base;
        float sum = 0.0f;
        int32_t r;
        int32_t i;
        for (r = 0; r < p->count; r += run) {
            int32_t at = pos;
            for (i = 0; i < run; ++i, at += step) {
                sum += input[at];
            }
            pos += walk_step(last, p->reduce_dims, p->reduce_strides, index);
        }
        output[o] = sum / count; /* divided, not multiplied by 1/count, as TFLite */
        base += walk_step(p->out_rank, p->out_dims, p->out_strides, out_index);
    }
}

void mcuforge_reduce_max_f32(const mcuforge_reduce_f32_params *p, const float *input, float *output) {
    const int32_t last = p->reduce_rank - 1;
    const int32_t run = p->reduce_dims[last];
    const int32_t step = p->reduce_strides[last];
    int32_t out_index[MCUFORGE_REDUCE_F32_MAX_DIMS] = {0};
    int32_t base = 0;
    int32_t o;
    for (o = 0; o < p->out_count; ++o) {
        int32_t index[MCUFORGE_REDUCE_F32_MAX_DIMS] = {0};
        int32_t pos = base;
        float max = input[base]; /* the first element of the box: no need for a "lowest float" constant */
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
