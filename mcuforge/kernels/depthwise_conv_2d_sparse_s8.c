#include "depthwise_conv_2d_sparse_s8.h"

/* As conv_2d_sparse_s8.c: every output pixel walks the whole compressed filter once, channel by channel, so the
 * nonzeros are read in order through one pointer; a filter row's taps inside the input (in_c * dilation_w values
 * apart in NHWC) are multiplied, the padded ones only advance the pointer past their nonzeros. */

/* One output pixel, all channels; the window's top-left input coordinate is (y0, x0). */
static void depthwise_sparse_pixel(const mcuforge_depthwise_conv_params *p, const int8_t *image,
                                   const uint8_t *bitmap, const int8_t *values, const int32_t *bias, int32_t y0,
                                   int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t kw = (size_t)g->kernel_w;
    const size_t row_bytes = ((size_t)g->kernel_h * kw + 7u) / 8u;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t tap_step = (size_t)g->dilation_w * (size_t)g->in_c;
    const int8_t *w = values;
    mcuforge_conv_window win;
    int32_t full;
    int32_t offset;
    int32_t oc;
    int32_t ky;
    mcuforge_conv_window_at(g, y0, x0, &win);
    full = mcuforge_conv_window_full(g, &win);
    offset = full ? 0 : p->input_offset;
    for (oc = 0; oc < g->out_c; ++oc) {
        const uint8_t *bits = bitmap + (size_t)oc * row_bytes;
        const size_t channel = (size_t)(oc / p->depth_multiplier);
        int32_t acc = full ? p->bias_folded[oc] : (bias ? bias[oc] : 0);
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const size_t first = (size_t)ky * kw;
            if (ky < win.ky0 || ky >= win.ky1 || win.kx0 == win.kx1) {
                w += mcuforge_sparse_count(bits, first, kw);
            } else {
                const int8_t *x = image + (size_t)(y0 + ky * g->dilation_h) * in_row +
                                  (size_t)(x0 + win.kx0 * g->dilation_w) * (size_t)g->in_c + channel;
                acc += mcuforge_sparse_dot_within(x, tap_step, bits, first, kw, (size_t)win.kx0, (size_t)win.kx1,
                                                  offset, &w);
            }
        }
        out[oc] = mcuforge_conv_output(&p->requant, oc, acc, p->output_offset, p->act_min, p->act_max);
    }
}

void mcuforge_depthwise_conv_sparse_s8(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                       const uint8_t *bitmap, const int8_t *values, const int32_t *bias,
                                       int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    mcuforge_conv_cursor at;
    for (mcuforge_conv_begin(g, input, &at); mcuforge_conv_more(g, &at); mcuforge_conv_advance(g, &at, 1)) {
        depthwise_sparse_pixel(p, at.image, bitmap, values, bias, at.y0, at.x0, output);
        output += g->out_c;
    }
}
