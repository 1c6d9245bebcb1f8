#include "conv_2d_s4.h"

/* The plan of conv_2d_s8.c without its SIMD variant: an output value is a few long dot products ("segments": one
 * per filter row when dilation_w is 1, one per tap otherwise). Pixels whose window lies inside the input start
 * from the folded bias and are computed two at a time, each decoded weight feeding both (two filters as well
 * would need more registers than Armv7-M has). Border pixels and grouped filters take the border path: only the
 * taps inside the input, each value plus the input offset. Reads and writes keep the row-window order of
 * conv_window.h. */

/* The segments of a full (unpadded) window, groups == 1: `rows` x `cols` runs of `len` values. */
typedef struct {
    int32_t rows;
    int32_t cols;
    int32_t len;
    size_t x_row; /* input step between segment rows, in values */
    size_t x_col;
    size_t w_row; /* filter step, in weights */
    size_t w_col;
} conv_s4_segments;

MCUFORGE_INLINE int8_t conv_s4_store(const mcuforge_conv_s4_params *p, int32_t oc, int32_t acc) {
    const int32_t c = p->requant.per_channel ? oc : 0;
    acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
    return (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
}

/* `pixels` (1 or 2, the second `x_step` values after the first) whose windows lie inside the input; window
 * top-left at `x`, outputs at `out` (the second pixel's at out + out_c). */
static void conv_s4_inner(const mcuforge_conv_s4_params *p, const conv_s4_segments *s, const int8_t *x,
                          size_t x_step, int32_t pixels, const uint8_t *filter, int8_t *out) {
    const int32_t out_c = p->geom.out_c;
    const size_t filter_size = (size_t)p->geom.kernel_h * (size_t)p->geom.kernel_w * (size_t)p->geom.in_c;
    const int8_t *xb = pixels == 2 ? x + x_step : x; /* a lone pixel is computed twice */
    int32_t oc;
    int32_t r;
    int32_t c;
    for (oc = 0; oc < out_c; ++oc) {
        const size_t start = (size_t)oc * filter_size;
        int32_t acc[2] = {0, 0};
        for (r = 0; r < s->rows; ++r) {
            for (c = 0; c < s->cols; ++c) {
                const size_t xo = (size_t)r * s->x_row + (size_t)c * s->x_col;
                mcuforge_dot_s4_2px(x + xo, xb + xo, filter, start + (size_t)r * s->w_row + (size_t)c * s->w_col,
                                    s->len, acc);
            }
        }
        out[oc] = conv_s4_store(p, oc, acc[0] + p->bias_folded[oc]);
        if (pixels == 2) {
            out[out_c + oc] = conv_s4_store(p, oc, acc[1] + p->bias_folded[oc]);
        }
    }
}

/* Any pixel, any groups: only the taps inside the input, each input value plus the input offset. */
static void conv_s4_border(const mcuforge_conv_s4_params *p, const int8_t *image, const uint8_t *filter,
                           const int32_t *bias, int32_t y0, int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t depth = g->in_c / p->groups;
    const int32_t per_group = g->out_c / p->groups;
    const size_t filter_size = (size_t)g->kernel_h * (size_t)g->kernel_w * (size_t)depth;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    int32_t ky0;
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
    int32_t run;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    mcuforge_conv_taps(y0, g->kernel_h, g->dilation_h, g->in_h, &ky0, &ky1);
    mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &kx0, &kx1);
    /* Adjacent taps are adjacent pixels only without dilation; with groups a pixel holds other groups too. */
    run = (g->dilation_w == 1 && p->groups == 1) ? kx1 - kx0 : 1;
    for (oc = 0; oc < g->out_c; ++oc) {
        const size_t group_start = (size_t)(oc / per_group) * (size_t)depth;
        int32_t acc = bias ? bias[oc] : 0;
        for (ky = ky0; ky < ky1; ++ky) {
            const int8_t *row = image + (size_t)(y0 + ky * g->dilation_h) * in_row;
            for (kx = kx0; kx < kx1; kx += run) {
                const int8_t *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c + group_start;
                const size_t tap = (size_t)ky * (size_t)g->kernel_w + (size_t)kx;
                acc += mcuforge_dot_s4(x, filter, (size_t)oc * filter_size + tap * (size_t)depth, run * depth,
                                       p->input_offset);
            }
        }
        out[oc] = conv_s4_store(p, oc, acc);
    }
}

void mcuforge_conv_s4(const mcuforge_conv_s4_params *p, const int8_t *input, const uint8_t *filter,
                      const int32_t *bias, int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t x_step = (size_t)g->stride_w * (size_t)g->in_c;
    conv_s4_segments s;
    int32_t b;
    int32_t oy;
    int32_t ox;
    s.rows = g->kernel_h;
    s.cols = g->dilation_w == 1 ? 1 : g->kernel_w;
    s.len = g->dilation_w == 1 ? g->kernel_w * g->in_c : g->in_c;
    s.x_row = (size_t)g->dilation_h * in_row;
    s.x_col = (size_t)g->dilation_w * (size_t)g->in_c;
    s.w_row = (size_t)g->kernel_w * (size_t)g->in_c;
    s.w_col = (size_t)g->in_c;
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)g->in_h * in_row;
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            const int32_t inner_row = oy >= g->inner_y0 && oy < g->inner_y1 && p->groups == 1;
            ox = 0;
            while (ox < g->out_w) {
                const int32_t x0 = ox * g->stride_w - g->pad_left;
                if (inner_row && ox >= g->inner_x0 && ox < g->inner_x1) {
                    const int8_t *x = image + (size_t)y0 * in_row + (size_t)x0 * (size_t)g->in_c;
                    const int32_t pixels = ox + 1 < g->inner_x1 ? 2 : 1;
                    conv_s4_inner(p, &s, x, x_step, pixels, filter, output);
                    ox += pixels;
                    output += (size_t)pixels * (size_t)g->out_c;
                } else {
                    conv_s4_border(p, image, filter, bias, y0, x0, output);
                    ++ox;
                    output += g->out_c;
                }
            }
        }
    }
}
