#include "conv_2d_hybrid.h"

/* LiteRT's SymmetricQuantizeFloats: returns the scale; the values are round-half-away(x * 127 / max|x|). */
static float quantize_item(const float *x, size_t n, int8_t *q) {
    float range = 0.0f;
    float inverse;
    size_t i;
    for (i = 0; i < n; ++i) {
        const float a = x[i] < 0.0f ? -x[i] : x[i];
        range = a > range ? a : range;
    }
    if (range == 0.0f) {
        memset(q, 0, n);
        return 1.0f;
    }
    inverse = 127.0f / range;
    for (i = 0; i < n; ++i) {
        /* The float product, rounded half away from zero in double where + 0.5 is exact (no libm needed). */
        const double v = (double)(x[i] * inverse);
        const int32_t r = (int32_t)((v < 0.0 ? -v : v) + 0.5);
        const int32_t m = r > 127 ? 127 : r;
        q[i] = (int8_t)(v < 0.0 ? -m : m);
    }
    return range / 127.0f;
}

void mcuforge_conv_hybrid(const mcuforge_conv_hybrid_params *p, const float *input, const int8_t *filter,
                          const float *bias, float *output, int8_t *scratch) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t item = (size_t)g->in_h * in_row;
    const size_t filter_size = (size_t)g->kernel_h * (size_t)g->kernel_w * (size_t)g->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    int32_t i;
    for (b = 0; b < g->batches; ++b) {
        const float scale = quantize_item(input + (size_t)b * item, item, scratch) * p->filter_scale;
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            int32_t ky0;
            int32_t ky1;
            mcuforge_conv_taps(y0, g->kernel_h, g->dilation_h, g->in_h, &ky0, &ky1);
            for (ox = 0; ox < g->out_w; ++ox) {
                const int32_t x0 = ox * g->stride_w - g->pad_left;
                int32_t kx0;
                int32_t kx1;
                int32_t run;
                mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &kx0, &kx1);
                run = g->dilation_w == 1 ? kx1 - kx0 : 1; /* contiguous taps of a filter row */
                for (oc = 0; oc < g->out_c; ++oc) {
                    const int8_t *w = filter + (size_t)oc * filter_size;
                    int32_t acc = 0; /* zero point 0: padded taps would add nothing */
                    float y;
                    for (ky = ky0; ky < ky1; ++ky) {
                        const int8_t *row = scratch + (size_t)(y0 + ky * g->dilation_h) * in_row;
                        for (kx = kx0; kx < kx1; kx += run) {
                            const int8_t *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c;
                            const int8_t *wk = w + ((size_t)ky * (size_t)g->kernel_w + (size_t)kx) * (size_t)g->in_c;
                            for (i = 0; i < run * g->in_c; ++i) {
                                acc += (int32_t)x[i] * (int32_t)wk[i];
                            }
                        }
                    }
                    y = (float)acc * scale;
                    if (bias) {
                        y += bias[oc];
                    }
                    y = y < p->act_min ? p->act_min : y;
                    output[oc] = y > p->act_max ? p->act_max : y;
                }
                output += g->out_c;
            }
        }
    }
}
