#include "softmax_f32.h"

#include <math.h>

void mcuforge_softmax_f32(const mcuforge_softmax_f32_params *p, const float *input, float *output) {
    int32_t r;
    int32_t c;
    for (r = 0; r < p->rows; ++r) {
        const float *x = input + (size_t)r * (size_t)p->depth;
        float *y = output + (size_t)r * (size_t)p->depth;
        float max = x[0];
        float sum = 0.0f;
        for (c = 1; c < p->depth; ++c) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; ++c) {
            const float e = expf((x[c] - max) * p->beta);
            y[c] = e;
            sum += e;
        }
        for (c = 0; c < p->depth; ++c) {
            y[c] = y[c] / sum;
        }
    }
}
