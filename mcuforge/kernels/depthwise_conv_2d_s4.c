#include "depthwise_conv_2d_s4.h"

/* Output pixels in NHWC order; per pixel, each output channel's taps inside the input. Tap (ky, kx) of channel oc
 * is weight (ky * KW + kx) * out_c + oc: with depth multiplier 1 and an even channel count, channels 2j and
 * 2j + 1 share one byte at every tap, so channels are taken in pairs, each byte decoded once for both. Reads and
 * writes keep the row-window order of conv_window.h. */

MCUFORGE_INLINE int8_t depthwise_s4_store(const mcuforge_depthwise_conv_params *p, int32_t oc, int32_t acc) {
    return mcuforge_conv_output(&p->requant, oc, acc, p->output_offset, p->act_min, p->act_max);
}

/* Every output channel of the pixel whose window's top-left tap is input (y0, x0). */
static void depthwise_s4_pixel(const mcuforge_depthwise_conv_params *p, const int8_t *image,
                               const uint8_t *filter, const int32_t *bias, int32_t y0, int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t x_tap = (size_t)g->dilation_w * (size_t)g->in_c; /* input step between taps of a row */
    const size_t out_c = (size_t)g->out_c;
    const int32_t offset = p->input_offset;
    mcuforge_conv_window win;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    mcuforge_conv_window_at(g, y0, x0, &win);
    if (p->depth_multiplier == 1 && out_c % 2 == 0) {
        for (oc = 0; oc < g->out_c; oc += 2) {
            int32_t a = bias ? bias[oc] : 0;
            int32_t b = bias ? bias[oc + 1] : 0;
            for (ky = win.ky0; ky < win.ky1 && win.kx0 < win.kx1; ++ky) { /* no pointer into a row without taps */
                const int8_t *x = image + (size_t)(y0 + ky * g->dilation_h) * in_row +
                                  (size_t)(x0 + win.kx0 * g->dilation_w) * (size_t)g->in_c + (size_t)oc;
                const size_t tap = (size_t)ky * (size_t)g->kernel_w + (size_t)win.kx0;
                const uint8_t *w = filter + (tap * out_c + (size_t)oc) / 2;
                for (kx = win.kx0; kx < win.kx1; ++kx) {
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
        for (ky = win.ky0; ky < win.ky1; ++ky) {
            const int8_t *row = image + (size_t)(y0 + ky * g->dilation_h) * in_row;
            for (kx = win.kx0; kx < win.kx1; ++kx) {
                const int32_t x = (int32_t)row[(size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c + ic];
                const size_t tap = (size_t)ky * (size_t)g->kernel_w + (size_t)kx;
                acc += (x + offset) * mcuforge_s4_at(filter, tap * out_c + (size_t)oc);
            }
        }
        out[oc] = depthwise_s4_store(p, oc, acc);
    }
}

void mcuforge_depthwise_conv_s4(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                const uint8_t *filter, const int32_t *bias, int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    mcuforge_conv_cursor at;
    for (mcuforge_conv_begin(g, input, &at); mcuforge_conv_more(g, &at); mcuforge_conv_advance(g, &at, 1)) {
        depthwise_s4_pixel(p, at.image, filter, bias, at.y0, at.x0, output);
        output += g->out_c;
    }
}
