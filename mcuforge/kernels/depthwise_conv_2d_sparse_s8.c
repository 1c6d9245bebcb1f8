#include "depthwise_conv_2d_sparse_s8.h"

/* As conv_2d_sparse_s8.c: every output pixel walks the whole compressed filter once, channel by channel, so the
 * nonzeros are read in order through one pointer; a filter row's taps inside the input (in_c * dilation_w values
 * apart in NHWC) are multiplied, the padded ones only advance the pointer past their nonzeros. */

/* One output pixel, all channels; the window's top-left input coordinate is (y0, x0). */
static void depthwise_sparse_pixel(const mcuforge_depthwise_conv_sparse_params *p, const int8_t *image,
                                   const uint8_t *bitmap, const int8_t *values, const int32_t *bias, int32_t y0,
                                   int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t kw = (size_t)g->kernel_w;
    const size_t row_bytes = ((size_t)g->kernel_h * kw + 7u) / 8u;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t tap_step = (size_t)g->dilation_w * (size_t)g->in_c;
    const int8_t *w = values;
    int32_t ky0;
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
    int32_t full;
    int32_t offset;
    int32_t oc;
    int32_t ky;
    mcuforge_conv_taps(y0, g->kernel_h, g->dilation_h, g->in_h, &ky0, &ky1);
    mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &kx0, &kx1);
    full = ky0 == 0 && ky1 == g->kernel_h && kx0 == 0 && kx1 == g->kernel_w;
    offset = full ? 0 : p->input_offset;
    for (oc = 0; oc < g->out_c; ++oc) {
        const uint8_t *bits = bitmap + (size_t)oc * row_bytes;
        const size_t channel = (size_t)(oc / p->depth_multiplier);
        const int32_t c = p->requant.per_channel ? oc : 0;
        int32_t acc = full ? p->bias_folded[oc] : (bias ? bias[oc] : 0);
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const size_t first = (size_t)ky * kw;
            if (ky < ky0 || ky >= ky1 || kx0 == kx1) {
                w += mcuforge_sparse_count(bits, first, kw);
            } else {
                const int8_t *x = image + (size_t)(y0 + ky * g->dilation_h) * in_row +
                                  (size_t)(x0 + kx0 * g->dilation_w) * (size_t)g->in_c + channel;
                w += mcuforge_sparse_count(bits, first, (size_t)kx0);
                acc += mcuforge_sparse_dot(x, tap_step, bits, first + (size_t)kx0, (size_t)(kx1 - kx0), offset, &w);
                w += mcuforge_sparse_count(bits, first + (size_t)kx1, kw - (size_t)kx1);
            }
        }
        acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
        out[oc] = (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
    }
}

void mcuforge_depthwise_conv_sparse_s8(const mcuforge_depthwise_conv_sparse_params *p, const int8_t *input,
                                       const uint8_t *bitmap, const int8_t *values, const int32_t *bias,
                                       int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t image_size = (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_size;
        for (oy = 0; oy < g->out_h; ++oy) {
            for (ox = 0; ox < g->out_w; ++ox) {
                depthwise_sparse_pixel(p, image, bitmap, values, bias, oy * g->stride_h - g->pad_top,
                                       ox * g->stride_w - g->pad_left, output);
                output += g->out_c;
            }
        }
    }
}
