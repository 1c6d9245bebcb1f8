#include "depthwise_conv_2d_f32.h"

#define MCUFORGE_DW_BLOCK 16 /* output channels accumulated at once (see depthwise_conv_2d_s8.c) */

void mcuforge_depthwise_conv_f32(const mcuforge_depthwise_conv_f32_params *p, const float *input,
                                 const float *filter, const float *bias, float *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const int32_t m = p->depth_multiplier;
    float acc[MCUFORGE_DW_BLOCK];
    int32_t src[MCUFORGE_DW_BLOCK]; /* input channel of each output channel */
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc0;
    int32_t ky;
    int32_t kx;
    int32_t j;
    for (b = 0; b < g->batches; ++b) {
        const float *image = input + (size_t)b * (size_t)g->in_h * in_row;
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            int32_t ky0;
            int32_t ky1;
            mcuforge_conv_taps(y0, g->kernel_h, g->dilation_h, g->in_h, &ky0, &ky1);
            for (ox = 0; ox < g->out_w; ++ox) {
                const int32_t x0 = ox * g->stride_w - g->pad_left;
                int32_t kx0;
                int32_t kx1;
                mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &kx0, &kx1);
                for (oc0 = 0; oc0 < g->out_c; oc0 += MCUFORGE_DW_BLOCK) {
                    const int32_t n = g->out_c - oc0 < MCUFORGE_DW_BLOCK ? g->out_c - oc0 : MCUFORGE_DW_BLOCK;
                    for (j = 0; j < n; ++j) {
                        acc[j] = 0.0f;
                        src[j] = (oc0 + j) / m;
                    }
                    for (ky = ky0; ky < ky1; ++ky) {
                        const float *row = image + (size_t)(y0 + ky * g->dilation_h) * in_row;
                        for (kx = kx0; kx < kx1; ++kx) {
                            const float *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c;
                            const float *w = filter + ((size_t)ky * (size_t)g->kernel_w + (size_t)kx) *
                                             (size_t)g->out_c + (size_t)oc0;
                            for (j = 0; j < n; ++j) {
                                acc[j] += x[src[j]] * w[j];
                            }
                        }
                    }
                    for (j = 0; j < n; ++j) {
                        float y = bias ? acc[j] + bias[oc0 + j] : acc[j];
                        y = y < p->act_min ? p->act_min : y;
                        output[oc0 + j] = y > p->act_max ? p->act_max : y;
                    }
                }
                output += g->out_c;
            }
        }
    }
}
