#include "conv_2d_s4.h"

/* The plan of conv_2d_s8.c without its SIMD variant: an output value is a few long dot products ("segments": one
 * per filter row when dilation_w is 1, one per tap otherwise). Pixels whose window lies inside the input start
 * from the folded bias and are computed two at a time, each decoded weight feeding both (two filters as well
 * would need more registers than Armv7-M has). Border pixels and grouped filters take the border path: only the
 * taps inside the input, each value plus the input offset. Reads and writes keep the row-window order of
 * conv_window.h. */

MCUFORGE_INLINE int8_t conv_s4_store(const mcuforge_conv_params *p, int32_t oc, int32_t acc) {
    return mcuforge_conv_output(&p->requant, oc, acc, p->output_offset, p->act_min, p->act_max);
}

/* `pixels` (1 or 2, the second `x_step` values after the first) whose windows lie inside the input; window
 * top-left at `x`, outputs at `out` (the second pixel's at out + out_c). */
static void conv_s4_inner(const mcuforge_conv_params *p, const mcuforge_conv_segments *s, const int8_t *x,
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
static void conv_s4_border(const mcuforge_conv_params *p, const int8_t *image, const uint8_t *filter,
                           const int32_t *bias, int32_t y0, int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t depth = g->in_c / p->groups;
    const int32_t per_group = g->out_c / p->groups;
    const size_t filter_size = (size_t)g->kernel_h * (size_t)g->kernel_w * (size_t)depth;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    mcuforge_conv_window win;
    int32_t run;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    mcuforge_conv_window_at(g, y0, x0, &win);
    /* Adjacent taps are adjacent pixels only without dilation; with groups a pixel holds other groups too. */
    run = (g->dilation_w == 1 && p->groups == 1) ? win.kx1 - win.kx0 : 1;
    for (oc = 0; oc < g->out_c; ++oc) {
        const size_t group_start = (size_t)(oc / per_group) * (size_t)depth;
        int32_t acc = bias ? bias[oc] : 0;
        for (ky = win.ky0; ky < win.ky1; ++ky) {
            const int8_t *row = image + (size_t)(y0 + ky * g->dilation_h) * in_row;
            for (kx = win.kx0; kx < win.kx1; kx += run) {
                const int8_t *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c + group_start;
                const size_t tap = (size_t)ky * (size_t)g->kernel_w + (size_t)kx;
                acc += mcuforge_dot_s4(x, filter, (size_t)oc * filter_size + tap * (size_t)depth, run * depth,
                                       p->input_offset);
            }
        }
        out[oc] = conv_s4_store(p, oc, acc);
    }
}

void mcuforge_conv_s4(const mcuforge_conv_params *p, const int8_t *input, const uint8_t *filter,
                      const int32_t *bias, int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t x_step = (size_t)g->stride_w * (size_t)g->in_c;
    mcuforge_conv_segments s;
    mcuforge_conv_cursor at;
    int32_t pixels;
    mcuforge_conv_full_segments(g, &s);
    for (mcuforge_conv_begin(g, input, &at); mcuforge_conv_more(g, &at); mcuforge_conv_advance(g, &at, pixels)) {
        const int32_t inside = p->groups == 1 ? mcuforge_conv_inside(g, &at) : 0;
        if (inside > 0) {
            const int8_t *x = at.image + (size_t)at.y0 * in_row + (size_t)at.x0 * (size_t)g->in_c;
            pixels = inside >= 2 ? 2 : 1;
            conv_s4_inner(p, &s, x, x_step, pixels, filter, output);
        } else {
            pixels = 1;
            conv_s4_border(p, at.image, filter, bias, at.y0, at.x0, output);
        }
        output += (size_t)pixels * (size_t)g->out_c;
    }
}
