#include "quantize_f32.h"

/* round(q) half away from zero, saturated far outside int8 (the caller clamps). For |q| < 512 the fraction
 * q - trunc(q) is exact in float32, so the comparison with 1/2 is too (unlike floorf(q + 0.5f)). */
static int32_t round_half_away(float q) {
    int32_t whole;
    float fraction;
    if (q != q) {
        return 0; /* NaN */
    }
    if (q >= 512.0f) {
        return 512;
    }
    if (q <= -512.0f) {
        return -512;
    }
    whole = (int32_t)q; /* truncates toward zero */
    fraction = q - (float)whole;
    if (fraction >= 0.5f) {
        return whole + 1;
    }
    return fraction <= -0.5f ? whole - 1 : whole;
}

void mcuforge_quantize_f32(const mcuforge_quantize_f32_params *p, const float *input, int8_t *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = round_half_away(input[i] / p->scale) + p->zero_point;
        output[i] = (int8_t)mcuforge_clamp(v, -128, 127);
    }
}
