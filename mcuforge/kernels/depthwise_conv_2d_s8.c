#include "depthwise_conv_2d_s8.h"

/* Plan: per output pixel, the channels are taken four at a time with the accumulators in registers; every tap
 * of the window then adds four contiguous input values times four contiguous filter values. A window wholly
 * inside the input starts from the folded bias and adds no input offset (the kernels below are inlined with a
 * literal 0 offset there); a border window visits only its taps inside the input. */

typedef struct {
    const int8_t *image; /* the batch item */
    int32_t y0;          /* input coordinates of the window's top-left tap (may be negative) */
    int32_t x0;
    int32_t ky0;         /* the taps inside the input */
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
} dw_window;

MCUFORGE_INLINE int8_t dw_store(const mcuforge_depthwise_conv_params *p, int32_t oc, int32_t acc) {
    const int32_t c = p->requant.per_channel ? oc : 0;
    acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
    return (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
}

/* Output channels oc .. oc + 3, depth multiplier 1. */
MCUFORGE_INLINE void dw_quad(const mcuforge_depthwise_conv_params *p, const dw_window *win, const int8_t *filter,
                             const int32_t *bias, int32_t offset, int32_t oc, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t x_step = (size_t)g->dilation_w * (size_t)g->in_c;
    const size_t w_step = (size_t)g->out_c;
    const int32_t taps = win->kx1 - win->kx0;
    int32_t a0 = 0;
    int32_t a1 = 0;
    int32_t a2 = 0;
    int32_t a3 = 0;
    int32_t ky;
    int32_t kx;
    if (bias) {
        a0 = bias[oc];
        a1 = bias[oc + 1];
        a2 = bias[oc + 2];
        a3 = bias[oc + 3];
    }
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int8_t *x = win->image + ((size_t)(win->y0 + ky * g->dilation_h) * (size_t)g->in_w +
                                        (size_t)(win->x0 + win->kx0 * g->dilation_w)) * (size_t)g->in_c + oc;
        const int8_t *w = filter + ((size_t)ky * (size_t)g->kernel_w + (size_t)win->kx0) * (size_t)g->out_c + oc;
        for (kx = taps; kx > 0; --kx) {
            a0 += ((int32_t)x[0] + offset) * w[0];
            a1 += ((int32_t)x[1] + offset) * w[1];
            a2 += ((int32_t)x[2] + offset) * w[2];
            a3 += ((int32_t)x[3] + offset) * w[3];
            x += x_step;
            w += w_step;
        }
    }
    out[oc] = dw_store(p, oc, a0);
    out[oc + 1] = dw_store(p, oc + 1, a1);
    out[oc + 2] = dw_store(p, oc + 2, a2);
    out[oc + 3] = dw_store(p, oc + 3, a3);
}

/* One output channel, any depth multiplier: it filters input channel oc / depth_multiplier. */
MCUFORGE_INLINE void dw_single(const mcuforge_depthwise_conv_params *p, const dw_window *win, const int8_t *filter,
                               const int32_t *bias, int32_t offset, int32_t oc, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t x_step = (size_t)g->dilation_w * (size_t)g->in_c;
    int32_t acc = bias ? bias[oc] : 0;
    int32_t ky;
    int32_t kx;
    for (ky = win->ky0; ky < win->ky1; ++ky) {
        const int8_t *x = win->image + ((size_t)(win->y0 + ky * g->dilation_h) * (size_t)g->in_w +
                                        (size_t)(win->x0 + win->kx0 * g->dilation_w)) * (size_t)g->in_c +
                          (size_t)(oc / p->depth_multiplier);
        const int8_t *w = filter + ((size_t)ky * (size_t)g->kernel_w + (size_t)win->kx0) * (size_t)g->out_c + oc;
        for (kx = win->kx0; kx < win->kx1; ++kx) {
            acc += ((int32_t)*x + offset) * *w;
            x += x_step;
            w += g->out_c;
        }
    }
    out[oc] = dw_store(p, oc, acc);
}

MCUFORGE_INLINE void dw_pixel(const mcuforge_depthwise_conv_params *p, const dw_window *win, const int8_t *filter,
                              const int32_t *bias, int32_t offset, int8_t *out) {
    int32_t oc = 0;
    if (p->depth_multiplier == 1) {
        for (; oc + 4 <= p->geom.out_c; oc += 4) {
            dw_quad(p, win, filter, bias, offset, oc, out);
        }
    }
    for (; oc < p->geom.out_c; ++oc) {
        dw_single(p, win, filter, bias, offset, oc, out);
    }
}

void mcuforge_depthwise_conv_s8(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t item = (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c;
    dw_window win;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < g->batches; ++b) {
        win.image = input + (size_t)b * item;
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t inner_row = oy >= g->inner_y0 && oy < g->inner_y1;
            win.y0 = oy * g->stride_h - g->pad_top;
            mcuforge_conv_taps(win.y0, g->kernel_h, g->dilation_h, g->in_h, &win.ky0, &win.ky1);
            for (ox = 0; ox < g->out_w; ++ox) {
                win.x0 = ox * g->stride_w - g->pad_left;
                mcuforge_conv_taps(win.x0, g->kernel_w, g->dilation_w, g->in_w, &win.kx0, &win.kx1);
                if (inner_row && ox >= g->inner_x0 && ox < g->inner_x1) {
                    dw_pixel(p, &win, filter, p->bias_folded, 0, output);
                } else {
                    dw_pixel(p, &win, filter, bias, p->input_offset, output);
                }
                output += g->out_c;
            }
        }
    }
}
