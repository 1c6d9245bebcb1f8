#include "depthwise_conv_2d_s4.h"

/* Output pixels in NHWC order; per pixel, each output channel's taps inside the input. Tap (ky, kx) of channel oc
 * is weight (ky * KW + kx) * out_c + oc: with depth multiplier 1 and an even channel count, channels 2j and
 * 2j + 1 share one byte at every tap, so channels are taken in pairs, each byte decoded once for both. Reads and
 * writes keep the row-window order of conv_window.h. */

MCUFORGE_INLINE int8_t depthwise_s4_store(const mcuforge_depthwise_conv_s4_params *p, int32_t oc, int32_t acc) {
    const int32_t c = p->requant.per_channel ? oc : 0;
    acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
    return (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
}

/* Every output channel of the pixel whose window's top-left tap is input (y0, x0). */
static void depthwise_s4_pixel(const mcuforge_depthwise_conv_s4_params *p, const int8_t *image,
                               const uint8_t *filter, const int32_t *bias, int32_t y0, int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t x_tap = (size_t)g->dilation_w * (size_t)g->in_c; /* input step between taps of a row */
    const size_t out_c = (size_t)g->out_c;
    const int32_t offset = p->input_offset;
    int32_t ky0;
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    mcuforge_conv_taps(y0, g->kernel_h, g->dilation_h, g->in_h, &ky0, &ky1);
    mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &kx0, &kx1);
    if (p->depth_multiplier == 1 && out_c % 2 == 0) {
        for (oc = 0; oc < g->out_c; oc += 2) {
            int32_t a = bias ? bias[oc] : 0;
            int32_t b = bias ? bias[oc + 1] : 0;
            for (ky = ky0; ky < ky1 && kx0 < kx1; ++ky) { /* no pointer into a row without taps */
                const int8_t *x = image + (size_t)(y0 + ky * g->dilation_h) * in_row +
                                  (size_t)(x0 + kx0 * g->dilation_w) * (size_t)g->in_c + (size_t)oc;
                const uint8_t *w = filter + (((size_t)ky * (size_t)g->kernel_w + (size_t)kx0) * out_c + (size_t)oc) / 2;
                for (kx = kx0; kx < kx1; ++kx) {
                    const uint32_t byte = *w;
                    a += ((int32_t)x[0] + offset) * mcuforge_s4_low(byte);
                    b += ((int32_t)x[1] + offset) * mcuforge_s4_high(byte);
                    x += x_tap;
                    w += out_c / 2;
                }
            }
            out[oc] = depthwise_s4_store(p, oc, a);
            out[oc + 1] = depthwise_s4_store(p, oc + 1, b);
        }
        return;
    }
    for (oc = 0; oc < g->out_c; ++oc) { /* any layout: one weight at a time */
        const size_t ic = (size_t)(oc / p->depth_multiplier);
        int32_t acc = bias ? bias[oc] : 0;
        for (ky = ky0; ky < ky1; ++ky) {
            const int8_t *row = image + (size_t)(y0 + ky * g->dilation_h) * in_row;
            for (kx = kx0; kx < kx1; ++kx) {
                const int32_t x = (int32_t)row[(size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c + ic];
                const size_t tap = (size_t)ky * (size_t)g->kernel_w + (size_t)kx;
                acc += (x + offset) * mcuforge_s4_at(filter, tap * out_c + (size_t)oc);
            }
        }
        out[oc] = depthwise_s4_store(p, oc, acc);
    }
}

void mcuforge_depthwise_conv_s4(const mcuforge_depthwise_conv_s4_params *p, const int8_t *input,
                                const uint8_t *filter, const int32_t *bias, int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t image_size = (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_size;
        for (oy = 0; oy < g->out_h; ++oy) {
            for (ox = 0; ox < g->out_w; ++ox) {
                depthwise_s4_pixel(p, image, filter, bias, oy * g->stride_h - g->pad_top,
                                   ox * g->stride_w - g->pad_left, output);
                output += g->out_c;
            }
        }
    }
}
