#include "conv_2d_f32.h"

void mcuforge_conv_f32(const mcuforge_conv_f32_params *p, const float *input, const float *filter,
                       const float *bias, float *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t depth = g->in_c / p->groups;
    const int32_t per_group = g->out_c / p->groups;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t filter_size = (size_t)g->kernel_h * (size_t)g->kernel_w * (size_t)depth;
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    int32_t i;
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
                int32_t run;
                mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &kx0, &kx1);
                /* Without dilation or groups, the taps of a filter row are one contiguous run of values. */
                run = (g->dilation_w == 1 && p->groups == 1) ? kx1 - kx0 : 1;
                for (oc = 0; oc < g->out_c; ++oc) {
                    const float *w = filter + (size_t)oc * filter_size;
                    const size_t group_start = (size_t)(oc / per_group) * (size_t)depth;
                    float acc = 0.0f;
                    for (ky = ky0; ky < ky1; ++ky) {
                        const float *row = image + (size_t)(y0 + ky * g->dilation_h) * in_row + group_start;
                        for (kx = kx0; kx < kx1; kx += run) {
                            const float *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c;
                            const float *wk = w + ((size_t)ky * (size_t)g->kernel_w + (size_t)kx) * (size_t)depth;
                            for (i = 0; i < run * depth; ++i) {
                                acc += x[i] * wk[i];
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    acc = acc < p->act_min ? p->act_min : acc;
                    output[oc] = acc > p->act_max ? p->act_max : acc;
                }
                output += g->out_c;
            }
        }
    }
}
