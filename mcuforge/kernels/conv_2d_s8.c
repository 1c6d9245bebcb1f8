#include "conv_2d_s8.h"

/* Plan: the filter's [KH, KW, in_c] block and an input window are both channel-contiguous, so an output value is
 * a few long dot products ("segments": one per filter row when dilation_w is 1, one per tap otherwise). Outputs
 * whose window lies inside the input start from the folded bias and skip the input offset; two such pixels are
 * computed together for two output channels at a time, each load feeding two multiplies. Border pixels and
 * grouped filters take the border path: only the taps inside the input, each value plus the input offset. */

/* mcuforge_conv_output written out: through the shared helper GCC -O2 lays this file out 160 bytes larger on
 * Cortex-M0+ (same arithmetic). */
MCUFORGE_INLINE int8_t conv_store(const mcuforge_conv_params *p, int32_t oc, int32_t acc) {
    const int32_t c = p->requant.per_channel ? oc : 0;
    acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
    return (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
}

/* The dot products below are unrolled four times, which amortizes the loop's compare and branch. */

/* One pixel, input offset added, times two filters: acc[0..1]. */
MCUFORGE_INLINE void dot_1x2_offset(const int8_t *x, const int8_t *wa, const int8_t *wb, int32_t n, int32_t offset,
                                    int32_t *acc) {
    int32_t a = acc[0];
    int32_t b = acc[1];
    int32_t i = 0;
#define MCUFORGE_STEP(k) do { const int32_t v = (int32_t)x[k] + offset; a += v * wa[k]; b += v * wb[k]; } while (0)
    for (; i + 4 <= n; i += 4) {
        MCUFORGE_STEP(i);
        MCUFORGE_STEP(i + 1);
        MCUFORGE_STEP(i + 2);
        MCUFORGE_STEP(i + 3);
    }
    for (; i < n; ++i) {
        MCUFORGE_STEP(i);
    }
#undef MCUFORGE_STEP
    acc[0] = a;
    acc[1] = b;
}

/* Two pixels (xa, xb) times two filters (wa, wb), accumulated into acc[0..3] = aa, ab, ba, bb. */
MCUFORGE_INLINE void dot_2x2(const int8_t *xa, const int8_t *xb, const int8_t *wa, const int8_t *wb, int32_t n,
                             int32_t *acc) {
    int32_t aa = acc[0];
    int32_t ab = acc[1];
    int32_t ba = acc[2];
    int32_t bb = acc[3];
    int32_t i = 0;
#define MCUFORGE_STEP(k) do { \
        const int32_t x0 = xa[k]; \
        const int32_t x1 = xb[k]; \
        const int32_t w0 = wa[k]; \
        const int32_t w1 = wb[k]; \
        aa += x0 * w0; \
        ab += x0 * w1; \
        ba += x1 * w0; \
        bb += x1 * w1; \
    } while (0)
    for (; i + 4 <= n; i += 4) {
        MCUFORGE_STEP(i);
        MCUFORGE_STEP(i + 1);
        MCUFORGE_STEP(i + 2);
        MCUFORGE_STEP(i + 3);
    }
    for (; i < n; ++i) {
        MCUFORGE_STEP(i);
    }
#undef MCUFORGE_STEP
    acc[0] = aa;
    acc[1] = ab;
    acc[2] = ba;
    acc[3] = bb;
}

/* One pixel times two filters: acc[0..1]. */
MCUFORGE_INLINE void dot_1x2(const int8_t *x, const int8_t *wa, const int8_t *wb, int32_t n, int32_t *acc) {
    dot_1x2_offset(x, wa, wb, n, 0, acc);
}

/* `pixels` (1 or 2, the second `x_step` values after the first) whose windows lie inside the input; window
 * top-left at `x`, outputs at `out` (the second pixel's at out + out_c). */
MCUFORGE_INLINE void conv_inner(const mcuforge_conv_params *p, const mcuforge_conv_segments *s, const int8_t *x,
                                size_t x_step, int32_t pixels, const int8_t *filter, int8_t *out) {
    const int32_t out_c = p->geom.out_c;
    const size_t filter_size = (size_t)p->geom.kernel_h * (size_t)p->geom.kernel_w * (size_t)p->geom.in_c;
    int32_t oc;
    int32_t r;
    int32_t c;
    for (oc = 0; oc < out_c; oc += 2) {
        const int32_t pair = oc + 1 < out_c;
        const int8_t *wa = filter + (size_t)oc * filter_size;
        const int8_t *wb = pair ? wa + filter_size : wa; /* a lone last filter is computed twice */
        int32_t acc[4] = {0, 0, 0, 0};
        for (r = 0; r < s->rows; ++r) {
            for (c = 0; c < s->cols; ++c) {
                const size_t xo = (size_t)r * s->x_row + (size_t)c * s->x_col;
                const size_t wo = (size_t)r * s->w_row + (size_t)c * s->w_col;
                if (pixels == 2) {
                    dot_2x2(x + xo, x + xo + x_step, wa + wo, wb + wo, s->len, acc);
                } else {
                    dot_1x2(x + xo, wa + wo, wb + wo, s->len, acc);
                }
            }
        }
        out[oc] = conv_store(p, oc, acc[0] + p->bias_folded[oc]);
        if (pair) {
            out[oc + 1] = conv_store(p, oc + 1, acc[1] + p->bias_folded[oc + 1]);
        }
        if (pixels == 2) {
            out[out_c + oc] = conv_store(p, oc, acc[2] + p->bias_folded[oc]);
            if (pair) {
                out[out_c + oc + 1] = conv_store(p, oc + 1, acc[3] + p->bias_folded[oc + 1]);
            }
        }
    }
}

/* Any pixel, any groups: only the taps inside the input, each input value plus the input offset. */
static void conv_border(const mcuforge_conv_params *p, const int8_t *image, const int8_t *filter,
                        const int32_t *bias, int32_t y0, int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t depth = g->in_c / p->groups;
    const int32_t per_group = g->out_c / p->groups;
    const size_t filter_size = (size_t)g->kernel_h * (size_t)g->kernel_w * (size_t)depth;
    mcuforge_conv_window win;
    int32_t run;
    int32_t pair = 0;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    mcuforge_conv_window_at(g, y0, x0, &win);
    /* Adjacent taps are adjacent pixels only without dilation; with groups a pixel holds other groups too. */
    run = (g->dilation_w == 1 && p->groups == 1) ? win.kx1 - win.kx0 : 1;
    for (oc = 0; oc < g->out_c; oc += pair ? 2 : 1) {
        /* Two filters at a time when both read the same group; a lone one is computed twice. */
        const int8_t *wa = filter + (size_t)oc * filter_size;
        const int8_t *wb;
        const size_t group_start = (size_t)(oc / per_group) * (size_t)depth;
        int32_t acc[2];
        pair = oc + 1 < g->out_c && (oc + 1) / per_group == oc / per_group;
        wb = pair ? wa + filter_size : wa;
        acc[0] = bias ? bias[oc] : 0;
        acc[1] = bias && pair ? bias[oc + 1] : 0;
        for (ky = win.ky0; ky < win.ky1; ++ky) {
            const int8_t *row = image + (size_t)(y0 + ky * g->dilation_h) * (size_t)g->in_w * (size_t)g->in_c;
            for (kx = win.kx0; kx < win.kx1; kx += run) {
                const int8_t *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c + group_start;
                const size_t wo = ((size_t)ky * (size_t)g->kernel_w + (size_t)kx) * (size_t)depth;
                dot_1x2_offset(x, wa + wo, wb + wo, run * depth, p->input_offset, acc);
            }
        }
        out[oc] = conv_store(p, oc, acc[0]);
        if (pair) {
            out[oc + 1] = conv_store(p, oc + 1, acc[1]);
        }
    }
}

#if defined(MCUFORGE_DSP) && !defined(MCUFORGE_SINGLE_ROUNDING)
/* DSP variant (groups == 1): pixels are taken two at a time; their input windows are gathered into a block of
 * q15 pairs (dsp_s8.h), padded taps holding the input zero point so that every output starts from the folded
 * bias, and every pair of filters then runs over the block with SMLAD, two pixels by two filters. Both windows
 * are gathered before either output is written, and pixels are visited in output order: the row window holds.
 * Scratch: the channel table, the block, and one window's bytes when in_c is not a multiple of 4. */
#define CONV_DSP 1

/* Window of the output pixel whose top-left tap is input (y0, x0) into column `column`. */
static void conv_dsp_gather(const mcuforge_conv_params *p, const int8_t *image, int32_t y0, int32_t x0,
                            uint32_t *block, int32_t column, int8_t *bytes) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t in_c = g->in_c;
    const int32_t run = g->kernel_w * in_c; /* values per filter row */
    const int32_t zero_point = -p->input_offset;
    const size_t in_row = (size_t)g->in_w * (size_t)in_c;
    const int32_t row_inside = x0 >= 0 && x0 + (g->kernel_w - 1) * g->dilation_w < g->in_w;
    int32_t ky;
    int32_t kx;
    int32_t c;
    if (g->kernel_h == 1 && g->kernel_w == 1) { /* never padded */
        mcuforge_dsp_widen(block, column, 0, image + (size_t)y0 * in_row + (size_t)x0 * (size_t)in_c, in_c);
        return;
    }
    if (in_c % 4 != 0) { /* taps straddle groups of four: gather bytes, then widen the window at once */
        int8_t *dst = bytes;
        if (row_inside && g->dilation_w == 1 && y0 >= 0 && y0 + (g->kernel_h - 1) * g->dilation_h < g->in_h) {
            for (ky = 0; ky < g->kernel_h; ++ky) { /* inside the input: a copy of each filter row's run */
                const int8_t *src = image + (size_t)(y0 + ky * g->dilation_h) * in_row + (size_t)x0 * (size_t)in_c;
                for (c = 0; c + 4 <= run; c += 4) {
                    memcpy(dst + c, src + c, 4);
                }
                for (; c < run; ++c) {
                    dst[c] = src[c];
                }
                dst += run;
            }
            mcuforge_dsp_widen(block, column, 0, bytes, g->kernel_h * run);
            return;
        }
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const int32_t y = y0 + ky * g->dilation_h;
            for (kx = 0; kx < g->kernel_w; ++kx) {
                const int32_t x = x0 + kx * g->dilation_w;
                const int8_t *src = image + (size_t)y * in_row + (size_t)x * (size_t)in_c;
                const int32_t inside = y >= 0 && y < g->in_h && x >= 0 && x < g->in_w;
                for (c = 0; c < in_c; ++c) {
                    *dst++ = inside ? src[c] : (int8_t)zero_point;
                }
            }
        }
        mcuforge_dsp_widen(block, column, 0, bytes, g->kernel_h * run);
        return;
    }
    for (ky = 0; ky < g->kernel_h; ++ky) {
        const int32_t y = y0 + ky * g->dilation_h;
        const int8_t *row = image + (size_t)y * in_row;
        if (y < 0 || y >= g->in_h) {
            mcuforge_dsp_fill(block, column, ky * run, run, zero_point);
        } else if (row_inside && g->dilation_w == 1) {
            mcuforge_dsp_widen(block, column, ky * run, row + (size_t)x0 * (size_t)in_c, run);
        } else {
            for (kx = 0; kx < g->kernel_w; ++kx) {
                const int32_t x = x0 + kx * g->dilation_w;
                if (x >= 0 && x < g->in_w) {
                    mcuforge_dsp_widen(block, column, ky * run + kx * in_c, row + (size_t)x * (size_t)in_c, in_c);
                } else {
                    mcuforge_dsp_fill(block, column, ky * run + kx * in_c, in_c, zero_point);
                }
            }
        }
    }
}

/* Filter pairs, then a lone last filter (computed twice), in C: the DSP group steps inside, `pixels` a literal. */
MCUFORGE_INLINE void conv_dsp_rest(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                   const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                                   int8_t *out, int8_t *end) {
    const int32_t out_c = p->geom.out_c;
    const int32_t k = p->geom.kernel_h * p->geom.kernel_w * p->geom.in_c;
    int32_t acc[4];
    for (; out < end; out += 2, table += 2, filter += 2 * (size_t)k) {
        const mcuforge_dsp_channel ca = table[0]; /* copies: the int8 stores could alias the table */
        const mcuforge_dsp_channel cb = table[1];
        acc[0] = acc[2] = ca.bias;
        acc[1] = acc[3] = cb.bias;
        mcuforge_dsp_dot_2x2(block, filter, filter + k, k, pixels, acc);
        out[0] = mcuforge_dsp_output(&ca, acc[0], mode, p->output_offset, p->act_min, p->act_max);
        out[1] = mcuforge_dsp_output(&cb, acc[1], mode, p->output_offset, p->act_min, p->act_max);
        if (pixels == 2) {
            out[out_c] = mcuforge_dsp_output(&ca, acc[2], mode, p->output_offset, p->act_min, p->act_max);
            out[out_c + 1] = mcuforge_dsp_output(&cb, acc[3], mode, p->output_offset, p->act_min, p->act_max);
        }
    }
    if (out == end) {
        const mcuforge_dsp_channel ca = table[0];
        acc[0] = acc[1] = acc[2] = acc[3] = ca.bias;
        mcuforge_dsp_dot_2x2(block, filter, filter, k, pixels, acc);
        out[0] = mcuforge_dsp_output(&ca, acc[0], mode, p->output_offset, p->act_min, p->act_max);
        if (pixels == 2) {
            out[out_c] = mcuforge_dsp_output(&ca, acc[2], mode, p->output_offset, p->act_min, p->act_max);
        }
    }
}

/* Every filter's outputs for the block's `pixels` (1 or 2) pixels, at out and out + out_c, with the output stage
 * `mode` (dsp_s8.h). */
MCUFORGE_INLINE void conv_dsp_block_body(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                         const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                                         int8_t *out) {
    const int32_t out_c = p->geom.out_c;
    const int32_t k = p->geom.kernel_h * p->geom.kernel_w * p->geom.in_c;
    int8_t *end = out + out_c - 1;
    /* The bulk: the pairs, loops and all in assembly, but for a last pair that would read past the filters (its
     * second row the layer's last, k not a multiple of 4). */
    const int32_t pairs = (out_c >> 1) - (k % 4 != 0 && out_c % 2 == 0 ? 1 : 0);
    if (pixels == 2 && pairs > 0) {
        mcuforge_dsp_pairs_job job;
        job.block = block;
        job.single_end = block + 4 * (size_t)(((k + 3) >> 2) & 3); /* groups of four, the last partial */
        job.end = block + MCUFORGE_DSP_BLOCK_WORDS(k);
        job.table = table;
        job.out = out;
        job.out_c = out_c;
        job.k = k;
        job.overshoot = 4 * ((k + 3) / 4) - k;
        job.pairs = pairs;
        job.zero_point = p->output_offset;
        job.act_min = p->act_min;
        job.act_max = p->act_max;
        mcuforge_dsp_pairs(job, filter, mode);
        out += 2 * (size_t)job.pairs;
        table += 2 * (size_t)job.pairs;
        filter += 2 * (size_t)job.pairs * (size_t)k;
    }
    if (pixels == 2 && mode == MCUFORGE_DSP_FAST) { /* the usual case as literals: no branch per output */
        conv_dsp_rest(p, table, block, filter, 2, MCUFORGE_DSP_FAST, out, end);
    } else if (pixels == 2) {
        conv_dsp_rest(p, table, block, filter, 2, mode, out, end);
    } else {
        conv_dsp_rest(p, table, block, filter, 1, mode, out, end);
    }
}

/* Out of line, one copy per output stage: a call covers the whole layer's filters. The _fast and _wide entry
 * points below link only their own. */
static void conv_dsp_block_fast(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                const uint32_t *block, const int8_t *filter, int32_t pixels, int8_t *out) {
    conv_dsp_block_body(p, table, block, filter, pixels, MCUFORGE_DSP_FAST, out);
}

static void conv_dsp_block_wide(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                const uint32_t *block, const int8_t *filter, int32_t pixels, int8_t *out) {
    conv_dsp_block_body(p, table, block, filter, pixels, MCUFORGE_DSP_WIDE, out);
}

static void conv_dsp_block_any(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                               const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                               int8_t *out) {
    conv_dsp_block_body(p, table, block, filter, pixels, mode, out);
}

MCUFORGE_INLINE void conv_dsp_block(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                    const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                                    int8_t *out) {
    if (mode == MCUFORGE_DSP_FAST) {
        conv_dsp_block_fast(p, table, block, filter, pixels, out);
    } else if (mode == MCUFORGE_DSP_WIDE) {
        conv_dsp_block_wide(p, table, block, filter, pixels, out);
    } else {
        conv_dsp_block_any(p, table, block, filter, pixels, mode, out);
    }
}

/* The DSP variant with output stage `mode` (a literal in the _fast and _wide entry points); `pointwise` (a
 * literal) says the caller guarantees a 1x1 filter at stride 1, which leaves out the window gathering. */
MCUFORGE_INLINE void conv_dsp(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output, void *scratch, int32_t pointwise, int32_t mode) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t k = g->kernel_h * g->kernel_w * g->in_c;
    mcuforge_dsp_channel *table = (mcuforge_dsp_channel *)scratch;
    uint32_t *block = (uint32_t *)(table + g->out_c);
    int8_t *bytes = (int8_t *)(block + MCUFORGE_DSP_BLOCK_WORDS(k));
    int32_t column = 0;
    int32_t b;
    int32_t oy;
    int32_t ox;
    mcuforge_dsp_channels(table, g->out_c, p->bias_folded, &p->requant, p->output_offset, mode);
    if (pointwise || (g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 && g->stride_w == 1)) {
        /* Pointwise: the pixels are consecutive, two of them widen with no call. */
        const int32_t pixels = g->batches * g->in_h * g->in_w;
        int32_t n;
        for (n = 0; n + 2 <= pixels; n += 2) {
            mcuforge_dsp_widen_pair(block, input, k);
            conv_dsp_block(p, table, block, filter, 2, mode, output);
            input += 2 * (size_t)k;
            output += 2 * (size_t)g->out_c;
        }
        if (n < pixels) {
            mcuforge_dsp_widen(block, 0, 0, input, k);
            conv_dsp_block(p, table, block, filter, 1, mode, output);
        }
        return;
    }
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c;
        for (oy = 0; oy < g->out_h; ++oy) {
            for (ox = 0; ox < g->out_w; ++ox) {
                conv_dsp_gather(p, image, oy * g->stride_h - g->pad_top, ox * g->stride_w - g->pad_left, block,
                                column, bytes);
                if (column == 1) {
                    conv_dsp_block(p, table, block, filter, 2, mode, output);
                    output += 2 * (size_t)g->out_c;
                }
                column ^= 1;
            }
        }
    }
    if (column == 1) {
        conv_dsp_block(p, table, block, filter, 1, mode, output);
    }
}
#endif

void mcuforge_conv_s8(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, int8_t *output, void *scratch) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t x_step = (size_t)g->stride_w * (size_t)g->in_c;
    mcuforge_conv_segments s;
    mcuforge_conv_cursor at;
    int32_t pixels;
    mcuforge_conv_full_segments(g, &s);
#if defined(CONV_DSP)
    if (p->dsp_requant && p->groups == 1) {
        conv_dsp(p, input, filter, output, scratch, 0, mcuforge_dsp_mode(p->dsp_requant, p->act_min, p->act_max));
        return;
    }
#endif
    (void)scratch;
    for (mcuforge_conv_begin(g, input, &at); mcuforge_conv_more(g, &at); mcuforge_conv_advance(g, &at, pixels)) {
        const int32_t inside = p->groups == 1 ? mcuforge_conv_inside(g, &at) : 0;
        if (inside > 0) {
            const int8_t *x = at.image + (size_t)at.y0 * in_row + (size_t)at.x0 * (size_t)g->in_c;
            pixels = inside >= 2 ? 2 : 1;
            if (pixels == 2) { /* literal pixel counts let the compiler specialize conv_inner */
                conv_inner(p, &s, x, x_step, 2, filter, output);
            } else {
                conv_inner(p, &s, x, x_step, 1, filter, output);
            }
        } else {
            pixels = 1;
            conv_border(p, at.image, filter, bias, at.y0, at.x0, output);
        }
        output += (size_t)pixels * (size_t)g->out_c;
    }
}

void mcuforge_conv_1x1_s8(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                          int8_t *output, void *scratch) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t rows = g->batches * g->in_h;
    const size_t in_c = (size_t)g->in_c;
    mcuforge_conv_segments s;
    int32_t r;
    int32_t k;
    s.rows = 1;
    s.cols = 1;
    s.len = g->in_c;
    s.x_row = 0;
    s.x_col = 0;
    s.w_row = 0;
    s.w_col = 0;
#if defined(CONV_DSP)
    if (p->dsp_requant) {
        conv_dsp(p, input, filter, output, scratch, 1, mcuforge_dsp_mode(p->dsp_requant, p->act_min, p->act_max));
        return;
    }
#endif
    (void)scratch;
    /* Pixel pairs stay within a row: output row r may already lie over input rows before r (row_window). */
    for (r = 0; r < rows; ++r) {
        for (k = 0; k + 1 < g->in_w; k += 2) {
            conv_inner(p, &s, input, in_c, 2, filter, output);
            input += 2 * in_c;
            output += 2 * (size_t)g->out_c;
        }
        if (k < g->in_w) {
            conv_inner(p, &s, input, in_c, 1, filter, output);
            input += in_c;
            output += g->out_c;
        }
    }
}

/* Layers whose DSP variant takes the fast output stage (the emitter checks: folded requantization, clamp
 * [-128, 127], one group) or the wide one (general requantization, clamp [-128, 127], one group): on a core with
 * the DSP extension only that variant is compiled in, elsewhere only the portable code, so the linker
 * (--gc-sections) keeps neither the other stages nor the unused path. */
#if defined(CONV_DSP)
#define CONV_ENTRY(suffix, mode) \
    void mcuforge_conv_s8##suffix(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter, \
                                  const int32_t *bias, int8_t *output, void *scratch) { \
        (void)bias; \
        conv_dsp(p, input, filter, output, scratch, 0, mode); \
    } \
    void mcuforge_conv_1x1_s8##suffix(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter, \
                                      int8_t *output, void *scratch) { \
        conv_dsp(p, input, filter, output, scratch, 1, mode); \
    }
#else
#define CONV_ENTRY(suffix, mode) \
    void mcuforge_conv_s8##suffix(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter, \
                                  const int32_t *bias, int8_t *output, void *scratch) { \
        mcuforge_conv_s8(p, input, filter, bias, output, scratch); \
    } \
    void mcuforge_conv_1x1_s8##suffix(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter, \
                                      int8_t *output, void *scratch) { \
        mcuforge_conv_1x1_s8(p, input, filter, output, scratch); \
    }
#endif
CONV_ENTRY(_fast, MCUFORGE_DSP_FAST)
CONV_ENTRY(_wide, MCUFORGE_DSP_WIDE)
