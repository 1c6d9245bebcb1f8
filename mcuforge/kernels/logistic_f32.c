#include "logistic_f32.h"

#include <math.h>

void mcuforge_logistic_f32(const mcuforge_logistic_f32_params *p, const float *input, float *output) {
    /* TFLite's cutoffs: beyond them the formula is within float precision of its limit. */
    const float cutoff_upper = 16.619047164916992188f;
    const float cutoff_lower = -9.0f;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float x = input[i];
        if (x > cutoff_upper) {
            output[i] = 1.0f;
        } else if (x < cutoff_lower) {
            output[i] = expf(x);
        } else {
            output[i] = 1.0f / (1.0f + expf(-x));
        }
    }
}
