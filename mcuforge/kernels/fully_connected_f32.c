#include "fully_connected_f32.h"

void mcuforge_fully_connected_f32(const mcuforge_fc_f32_params *p, const float *input, const float *weights,
                                  const float *bias, float *output) {
    int32_t b;
    int32_t u;
    int32_t d;
    for (b = 0; b < p->batches; ++b) {
        const float *x = input + (size_t)b * (size_t)p->depth;
        for (u = 0; u < p->units; ++u) {
            const float *w = weights + (size_t)u * (size_t)p->depth;
            float acc = 0.0f;
            for (d = 0; d < p->depth; ++d) {
                acc += x[d] * w[d];
            }
            if (bias) {
                acc += bias[u];
            }
            acc = acc < p->act_min ? p->act_min : acc;
            output[(size_t)b * (size_t)p->units + (size_t)u] = acc > p->act_max ? p->act_max : acc;
        }
    }
}
