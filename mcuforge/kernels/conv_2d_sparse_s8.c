#include "conv_2d_sparse_s8.h"
#include "dsp_s8.h" /* the pointwise kernel's DSP output stage */

/* Every output pixel walks the whole compressed filter once, output channel by output channel, so the packed
 * nonzeros are read strictly in order through one pointer. A row of the bitmap is consumed in runs: a run whose
 * input values exist (a filter row's taps inside the input, contiguous in NHWC when dilation_w is 1 and there is
 * one group; one tap's channels otherwise) is multiplied, a run of padded taps only advances the nonzeros
 * pointer by its number of set bits. Windows entirely inside the input start from the folded bias and add x * w;
 * the others start from the bias and add (x + input_offset) * w over their inside taps, as TFLite does. Four (or
 * two) neighbouring inside pixels are computed together, each decoded weight feeding all of them. */

MCUFORGE_INLINE int8_t conv_sparse_store(const mcuforge_conv_params *p, int32_t oc, int32_t acc) {
    return mcuforge_conv_output(&p->requant, oc, acc, p->output_offset, p->act_min, p->act_max);
}

/* Where a layer's filter rows and input values lie: the same for every output pixel. */
typedef struct {
    int32_t depth;      /* filter channels: in_c / groups */
    int32_t per_group;  /* output channels of a group */
    size_t row_bits;    /* one filter row (ky): kernel_w * depth weights */
    size_t row_bytes;   /* one output channel's bitmap */
    size_t in_row;      /* one input row, in values */
    int32_t contiguous; /* a filter row's taps are contiguous in the input (dilation_w 1, one group) */
} conv_sparse_layout;

/* `n` (2 or 4) output pixels side by side whose windows lie inside the input (top-left of the first at
 * (y0, x0)); their outputs at out, out + out_c, ... */
static void conv_sparse_pixels(const mcuforge_conv_params *p, const conv_sparse_layout *l,
                               const int8_t *image, const uint8_t *bitmap, const int8_t *values, int32_t y0,
                               int32_t x0, int32_t n, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t x_step = (size_t)g->stride_w * (size_t)g->in_c; /* from the first pixel's window to the second's */
    /* one run per filter row when its taps are contiguous in the input, else one per tap */
    const int32_t runs = l->contiguous ? 1 : g->kernel_w;
    const size_t len = l->contiguous ? l->row_bits : (size_t)l->depth;
    const int8_t *w = values;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    int32_t k;
    for (oc = 0; oc < g->out_c; ++oc) {
        const uint8_t *bits = bitmap + (size_t)oc * l->row_bytes;
        const size_t group_start = (size_t)(oc / l->per_group) * (size_t)l->depth;
        int32_t acc[4];
        for (k = 0; k < 4; ++k) {
            acc[k] = p->bias_folded[oc];
        }
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const int8_t *row = image + (size_t)(y0 + ky * g->dilation_h) * l->in_row + (size_t)x0 * (size_t)g->in_c;
            for (kx = 0; kx < runs; ++kx) {
                const int8_t *x = row + (size_t)(kx * g->dilation_w) * (size_t)g->in_c + group_start;
                const size_t first = (size_t)ky * l->row_bits + (size_t)kx * (size_t)l->depth;
                if (n == 4) {
                    mcuforge_sparse_dot_4px(x, x_step, bits, first, len, &w, acc);
                } else {
                    mcuforge_sparse_dot_2px(x, x_step, bits, first, len, &w, acc);
                }
            }
        }
        for (k = 0; k < n; ++k) {
            out[(size_t)k * (size_t)g->out_c + (size_t)oc] = conv_sparse_store(p, oc, acc[k]);
        }
    }
}

/* One output pixel, all channels; the window's top-left input coordinate is (y0, x0). */
static void conv_sparse_pixel(const mcuforge_conv_params *p, const conv_sparse_layout *l,
                              const int8_t *image, const uint8_t *bitmap, const int8_t *values, const int32_t *bias,
                              int32_t y0, int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t depth = (size_t)l->depth;
    const int8_t *w = values;
    mcuforge_conv_window win;
    int32_t full;
    int32_t offset;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    mcuforge_conv_window_at(g, y0, x0, &win);
    full = mcuforge_conv_window_full(g, &win);
    offset = full ? 0 : p->input_offset;
    for (oc = 0; oc < g->out_c; ++oc) {
        const uint8_t *bits = bitmap + (size_t)oc * l->row_bytes;
        const size_t group_start = (size_t)(oc / l->per_group) * depth;
        int32_t acc = full ? p->bias_folded[oc] : (bias ? bias[oc] : 0);
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const size_t first = (size_t)ky * l->row_bits;
            const int8_t *row;
            if (ky < win.ky0 || ky >= win.ky1 || win.kx0 == win.kx1) {
                w += mcuforge_sparse_count(bits, first, l->row_bits);
                continue;
            }
            row = image + (size_t)(y0 + ky * g->dilation_h) * l->in_row;
            if (l->contiguous) {
                acc += mcuforge_sparse_dot_within(row + (size_t)(x0 + win.kx0) * (size_t)g->in_c, 1, bits, first,
                                                  l->row_bits, (size_t)win.kx0 * depth, (size_t)win.kx1 * depth,
                                                  offset, &w);
                continue;
            }
            for (kx = 0; kx < g->kernel_w; ++kx) {
                const size_t tap = first + (size_t)kx * depth;
                if (kx < win.kx0 || kx >= win.kx1) {
                    w += mcuforge_sparse_count(bits, tap, depth);
                } else {
                    const int8_t *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c + group_start;
                    acc += mcuforge_sparse_dot(x, 1, bits, tap, depth, offset, &w);
                }
            }
        }
        out[oc] = conv_sparse_store(p, oc, acc);
    }
}

void mcuforge_conv_sparse_s8(const mcuforge_conv_params *p, const int8_t *input, const uint8_t *bitmap,
                             const int8_t *values, const int32_t *bias, int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    conv_sparse_layout l;
    mcuforge_conv_cursor at;
    int32_t pixels;
    l.depth = g->in_c / p->groups;
    l.per_group = g->out_c / p->groups;
    l.row_bits = (size_t)g->kernel_w * (size_t)l.depth;
    l.row_bytes = ((size_t)g->kernel_h * l.row_bits + 7u) / 8u;
    l.in_row = (size_t)g->in_w * (size_t)g->in_c;
    l.contiguous = g->dilation_w == 1 && p->groups == 1;
    for (mcuforge_conv_begin(g, input, &at); mcuforge_conv_more(g, &at); mcuforge_conv_advance(g, &at, pixels)) {
        const int32_t inside = mcuforge_conv_inside(g, &at);
        if (inside >= 2) {
            pixels = inside >= 4 ? 4 : 2;
            conv_sparse_pixels(p, &l, at.image, bitmap, values, at.y0, at.x0, pixels, output);
        } else {
            pixels = 1;
            conv_sparse_pixel(p, &l, at.image, bitmap, values, bias, at.y0, at.x0, output);
        }
        output += (size_t)pixels * (size_t)g->out_c;
    }
}

/* Pointwise: output pixels of a row are taken four at a time (a row's last one to three with the last pixel
 * repeated in the unused places: one loop serves every count, the repeats are computed and not stored). For each
 * output channel the bitmap row is read a 32-bit word at a time (an all-zero word costs one test) and every set
 * bit feeds its weight to the four pixels. Output rows are produced in increasing order, each from its own input
 * row only, so the op's row_window holds. */

/* acc[k] += sum over the set bits d of a bitmap row of `bytes` bytes of x[off_k + d] * (next nonzero), *w
 * advanced past the row's nonzeros; off_0 = 0. Bits past the row's depth are 0 in the format (quant/sparse.py). */
MCUFORGE_INLINE void conv_sparse_1x1_dot(const int8_t *x, size_t o1, size_t o2, size_t o3, const uint8_t *bits,
                                         size_t bytes, const int8_t **w, int32_t acc[4]) {
    const int8_t *wp = *w;
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t a2 = acc[2];
    int32_t a3 = acc[3];
    size_t words = bytes / 4u;
    size_t at = 0; /* the bit of the word's bit 0: its value's index */
    uint32_t m;
    size_t t;
#define CONV_SPARSE_1X1_VISIT()                                      \
    while (m != 0u) { /* lowest bit first: the nonzeros are in order */ \
        const int8_t *xd = x + at + MCUFORGE_SPARSE_LOWEST_BIT(m);      \
        const int32_t wv = (int32_t)*wp++;                              \
        a0 += (int32_t)xd[0] * wv;                                      \
        a1 += (int32_t)xd[o1] * wv;                                     \
        a2 += (int32_t)xd[o2] * wv;                                     \
        a3 += (int32_t)xd[o3] * wv;                                     \
        m &= m - 1u;                                                    \
    }
    for (; words > 0u; --words) {
        memcpy(&m, bits, 4); /* one unaligned load on Armv7-M */
        CONV_SPARSE_1X1_VISIT()
        bits += 4;
        at += 32u;
    }
    m = 0;
    for (t = 0; t < (bytes & 3u); ++t) { /* a last partial word */
        m |= (uint32_t)bits[t] << (8u * t);
    }
    CONV_SPARSE_1X1_VISIT()
#undef CONV_SPARSE_1X1_VISIT
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    *w = wp;
}

/* Channel oc of `n` pixels out_step apart, from their accumulators. */
MCUFORGE_INLINE void conv_sparse_1x1_store(const mcuforge_conv_params *p, int32_t oc, const int32_t acc[4],
                                           int32_t n, size_t out_step, int8_t *out, int32_t fast) {
    int32_t k;
#if defined(MCUFORGE_DSP)
    if (fast) {
        /* dsp_s8.h's folded form: the nudge 2^(s-1) and the zero point times 2^s added before the shift */
        const int32_t c = p->requant.per_channel ? oc : 0;
        const int32_t s = -(int32_t)p->requant.shift[c];
        mcuforge_dsp_channel q;
        q.bias = 0;
        q.multiplier = p->requant.multiplier[c];
        q.round = (int32_t)((1u << (s - 1)) + ((uint32_t)p->output_offset << s));
        q.shift = s;
        q.correction = -1;
        for (k = 0; k < n; ++k) {
            out[(size_t)k * out_step] = mcuforge_dsp_output(&q, acc[k], MCUFORGE_DSP_FAST, 0, -128, 127);
        }
        return;
    }
#else
    (void)fast;
#endif
    for (k = 0; k < n; ++k) {
        out[(size_t)k * out_step] = conv_sparse_store(p, oc, acc[k]);
    }
}

MCUFORGE_INLINE void conv_sparse_1x1(const mcuforge_conv_params *p, const int8_t *input,
                                     const uint8_t *bitmap, const int8_t *values, int8_t *output, int32_t fast) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_c = (size_t)g->in_c;
    const size_t out_c = (size_t)g->out_c;
    const size_t bytes = (in_c + 7u) / 8u;
    const size_t x_step = (size_t)g->stride_w * in_c;
    int32_t row;
    for (row = 0; row < g->batches * g->out_h; ++row) {
        const int32_t b = row / g->out_h;
        const size_t in_y = (size_t)b * (size_t)g->in_h + (size_t)(row - b * g->out_h) * (size_t)g->stride_h;
        const int8_t *in_row = input + in_y * (size_t)g->in_w * in_c;
        int32_t ox;
        for (ox = 0; ox < g->out_w; ox += 4) {
            const int32_t n = g->out_w - ox < 4 ? g->out_w - ox : 4;
            const int8_t *x = in_row + (size_t)ox * x_step;
            const size_t o1 = n > 1 ? x_step : 0u;
            const size_t o2 = n > 2 ? 2u * x_step : o1;
            const size_t o3 = n > 3 ? 3u * x_step : o2;
            const int8_t *w = values;
            int32_t oc;
            for (oc = 0; oc < g->out_c; ++oc) {
                int32_t acc[4];
                acc[0] = acc[1] = acc[2] = acc[3] = p->bias_folded[oc];
                conv_sparse_1x1_dot(x, o1, o2, o3, bitmap + (size_t)oc * bytes, bytes, &w, acc);
                conv_sparse_1x1_store(p, oc, acc, n, out_c, output + oc, fast);
            }
            output += (size_t)n * out_c;
        }
    }
}

void mcuforge_conv_sparse_1x1_s8(const mcuforge_conv_params *p, const int8_t *input, const uint8_t *bitmap,
                                 const int8_t *values, int8_t *output) {
    conv_sparse_1x1(p, input, bitmap, values, output, 0);
}

void mcuforge_conv_sparse_1x1_s8_fast(const mcuforge_conv_params *p, const int8_t *input,
                                      const uint8_t *bitmap, const int8_t *values, int8_t *output) {
    conv_sparse_1x1(p, input, bitmap, values, output, 1);
}
