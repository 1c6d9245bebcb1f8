#include "conv_2d_s8.h"
#include "dsp_window_s8.h"

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
 * Scratch: the channel table, the block, and bytes for a padded window (MCUFORGE_CONV_DSP_SCRATCH). */
#define CONV_DSP 1

/* n bytes from s to d: whole words, then a half word and a byte. */
MCUFORGE_INLINE void conv_copy_bytes(int8_t *d, const int8_t *s, int32_t n) {
    int32_t c;
    for (c = 0; c + 4 <= n; c += 4) {
        const uint32_t word = mcuforge_read_s8x4(s + c);
        memcpy(d + c, &word, 4);
    }
    if (n & 2) {
        memcpy(d + c, s + c, 2);
        c += 2;
    }
    if (n & 1) {
        d[c] = s[c];
    }
}

/* The window `win` of the output pixel whose taps start at (y0, x0) as bytes at dst (kernel_h kernel_w in_c of
 * them), for the pairs' gathering (conv_dsp_gather) and the tiles (conv_tiles_window): with `fill`, first the input
 * zero point in every tap, a word at a time (up to 3 bytes past the window: both callers have the room; a
 * variable-size memset would link the C library's), then the taps inside, a filter row at a time: one run of
 * values without dilation along x, else one a tap. Every bound in a local first: the int8 stores could alias the
 * geometry, which GCC would then reload byte by byte. */
static void conv_window_bytes(const mcuforge_conv_params *p, const int8_t *image, int32_t y0, int32_t x0,
                              const mcuforge_conv_window *win, int32_t fill, int8_t *dst) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t in_c = g->in_c;
    const int32_t run = g->kernel_w * in_c;
    int32_t ky;
    if (fill) {
        const uint32_t zero_points = (uint32_t)(uint8_t)(int8_t)-p->input_offset * 0x01010101u;
        int32_t c;
        for (c = 0; c < g->kernel_h * run; c += 4) {
            memcpy(dst + c, &zero_points, 4);
        }
    }
    if (win->ky0 < win->ky1 && win->kx0 < win->kx1) {
        const int32_t taps = win->kx1 - win->kx0;
        const size_t row_step = (size_t)g->dilation_h * (size_t)g->in_w * (size_t)in_c;
        const size_t tap_step = (size_t)g->dilation_w * (size_t)in_c;
        const int8_t *src = image + ((size_t)(y0 + win->ky0 * g->dilation_h) * (size_t)g->in_w +
                                     (size_t)(x0 + win->kx0 * g->dilation_w)) * (size_t)in_c;
        int8_t *row = dst + win->ky0 * run + win->kx0 * in_c;
        if (g->dilation_w == 1) {
            for (ky = win->ky1 - win->ky0; ky > 0; --ky, src += row_step, row += run) {
                conv_copy_bytes(row, src, taps * in_c);
            }
        } else {
            for (ky = win->ky1 - win->ky0; ky > 0; --ky, src += row_step, row += run) {
                int32_t t;
                for (t = 0; t < taps; ++t) {
                    conv_copy_bytes(row + t * in_c, src + (size_t)t * tap_step, in_c);
                }
            }
        }
    }
}

/* Window of the output pixel whose top-left tap is input (y0, x0) into column `column`, any window (the pixel
 * loop takes pairs of inside windows itself): padded taps hold the input zero point. An inside window of whole
 * groups of four values a filter row widens straight from the input; with in_c a multiple of 4 each row's taps
 * widen in place between fills; otherwise the window is gathered in `bytes` (k + 4 bytes: zeros past the last
 * value), then widened at once. */
static void conv_dsp_gather(const mcuforge_conv_params *p, const int8_t *image, int32_t y0, int32_t x0,
                            uint32_t *block, int32_t column, int8_t *bytes) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t in_c = g->in_c;
    const int32_t run = g->kernel_w * in_c; /* values per filter row */
    const int32_t k = g->kernel_h * run;
    const size_t tap_step = (size_t)g->dilation_w * (size_t)in_c;
    const int32_t zero_point = -p->input_offset;
    uint32_t *dst = block + 2 * column;
    mcuforge_conv_window win;
    int32_t ky;
    mcuforge_conv_window_at(g, y0, x0, &win);
    if (run % 4 == 0 && g->dilation_w == 1 && mcuforge_conv_window_full(g, &win)) {
        mcuforge_dsp_widen_runs(dst, image + ((size_t)y0 * (size_t)g->in_w + (size_t)x0) * (size_t)in_c,
                                (size_t)g->dilation_h * (size_t)g->in_w * (size_t)in_c, g->kernel_h, run >> 2);
        return;
    }
    if (in_c % 4 == 0) { /* taps are whole groups */
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const int32_t taps = ky >= win.ky0 && ky < win.ky1 ? win.kx1 - win.kx0 : 0;
            const int32_t before = taps > 0 ? win.kx0 * in_c : run; /* padded values before the taps inside */
            const int32_t after = taps > 0 ? run - win.kx1 * in_c : 0;
            if (before > 0) {
                mcuforge_dsp_fill(block, column, ky * run, before, zero_point);
            }
            if (taps > 0) { /* without dilation along x, one run of taps */
                const size_t y = (size_t)(y0 + ky * g->dilation_h);
                const int32_t runs = g->dilation_w == 1 ? 1 : taps;
                mcuforge_dsp_widen_runs(dst + ky * run + before, image + (y * (size_t)g->in_w +
                                        (size_t)(x0 + win.kx0 * g->dilation_w)) * (size_t)in_c, tap_step, runs,
                                        (taps / runs * in_c) >> 2);
            }
            if (after > 0) {
                mcuforge_dsp_fill(block, column, ky * run + run - after, after, zero_point);
            }
        }
        return;
    }
    conv_window_bytes(p, image, y0, x0, &win, 1, bytes);
    memset(bytes + k, 0, 4);
    mcuforge_dsp_widen_runs(dst, bytes, 0, 1, (k + 3) >> 2);
}

/* What the assembly leaves: a lone last filter (odd out_c), in C, the DSP group steps inside, computed as a pair
 * with itself. Both columns are computed; the second column's output goes out_step after the first's and is stored
 * first, so that out_step 0 (a block of one pixel) leaves the first column's. */
MCUFORGE_INLINE void conv_dsp_last_filter(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                          const uint32_t *block, const int8_t *filter, int32_t mode, int8_t *out,
                                          int32_t out_step) {
    const int32_t k = p->geom.kernel_h * p->geom.kernel_w * p->geom.in_c;
    const mcuforge_dsp_channel ca = table[0]; /* a copy: the int8 stores could alias the table */
    int32_t acc[4];
    acc[0] = acc[1] = acc[2] = acc[3] = ca.bias;
    mcuforge_dsp_dot_2x2(block, filter, filter, k, acc);
    out[out_step] = mcuforge_dsp_output(&ca, acc[2], mode, p->output_offset, p->act_min, p->act_max);
    out[0] = mcuforge_dsp_output(&ca, acc[0], mode, p->output_offset, p->act_min, p->act_max);
}

/* Every filter's outputs for the block's `pixels` (1 or 2) pixels, at out and out + out_c, with the output stage
 * `mode` (dsp_s8.h), and those of a `stream`'s pixel pairs (or NULL; more than one block only with out_c even:
 * a lone last filter is computed for the first block alone). A block of one pixel is computed as two,
 * the second column's values (stale: whatever the block held) stored first and overwritten: one code path. */
MCUFORGE_INLINE void conv_dsp_block_body(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                         const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                                         int8_t *out, mcuforge_dsp_stream *stream) {
    const int32_t out_c = p->geom.out_c;
    const int32_t k = p->geom.kernel_h * p->geom.kernel_w * p->geom.in_c;
    const int32_t out_step = pixels == 2 ? out_c : 0;
    /* The bulk: the pairs, loops and all in assembly. When k is not a multiple of 4 the last row's last group
     * reads up to 3 bytes past the filters: the emitter (ops/conv_2d.py) pads the array with 3 zero bytes. */
    const int32_t pairs = out_c >> 1;
    if (pairs > 0) {
        mcuforge_dsp_pairs_job job;
        mcuforge_dsp_pairs_init(&job, block, k, table, out, out_step, pairs, p->output_offset, p->act_min,
                                p->act_max);
        job.stream = stream;
        mcuforge_dsp_pairs(&job, filter, mode);
        out += 2 * (size_t)pairs;
        table += 2 * (size_t)pairs;
        filter += 2 * (size_t)pairs * (size_t)k;
    }
    if (out_c & 1) {
        conv_dsp_last_filter(p, table, block, filter, mode, out, out_step);
    }
}

/* Out of line, one copy per output stage: a call covers the whole layer's filters, or with a `stream` (NULL for
 * none) several pixel pairs (a pointwise layer's, a row's windows). The _fast and _wide entry points below link
 * only their own. */
static void conv_dsp_block_fast(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                const uint32_t *block, const int8_t *filter, int32_t pixels, int8_t *out,
                                mcuforge_dsp_stream *stream) {
    conv_dsp_block_body(p, table, block, filter, pixels, MCUFORGE_DSP_FAST, out, stream);
}

static void conv_dsp_block_wide(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                const uint32_t *block, const int8_t *filter, int32_t pixels, int8_t *out,
                                mcuforge_dsp_stream *stream) {
    conv_dsp_block_body(p, table, block, filter, pixels, MCUFORGE_DSP_WIDE, out, stream);
}

static void conv_dsp_block_any(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                               const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                               int8_t *out, mcuforge_dsp_stream *stream) {
    conv_dsp_block_body(p, table, block, filter, pixels, mode, out, stream);
}

MCUFORGE_INLINE void conv_dsp_blocks(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                     const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                                     int8_t *out, mcuforge_dsp_stream *stream) {
    if (mode == MCUFORGE_DSP_FAST) {
        conv_dsp_block_fast(p, table, block, filter, pixels, out, stream);
    } else if (mode == MCUFORGE_DSP_WIDE) {
        conv_dsp_block_wide(p, table, block, filter, pixels, out, stream);
    } else {
        conv_dsp_block_any(p, table, block, filter, pixels, mode, out, stream);
    }
}

MCUFORGE_INLINE void conv_dsp_block(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                    const uint32_t *block, const int8_t *filter, int32_t pixels, int32_t mode,
                                    int8_t *out) {
    conv_dsp_blocks(p, table, block, filter, pixels, mode, out, NULL);
}

/* Any filter but a pointwise one at stride 1: pixels two at a time, in output order, both windows gathered before
 * either output is written (the row window holds). Two pixels whose windows lie inside the input (no dilation
 * along x) fill the block together, straight from it, and with out_c even a row's run of such pairs goes through
 * one call (a stream: ~150 cycles of call and setup a pair saved); the others go through conv_dsp_gather one at
 * a time. */
MCUFORGE_INLINE void conv_dsp_windows(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                      const int8_t *input, const int8_t *filter, int8_t *output, uint32_t *block,
                                      int8_t *bytes, int32_t mode) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t run = g->kernel_w * g->in_c; /* values per filter row */
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t x_step = (size_t)g->stride_w * (size_t)g->in_c;
    int32_t column = 0;
    int32_t b;
    int32_t oy;
    int32_t ox;
    mcuforge_dsp_stream stream; /* the windows' shape; where a row's run of pairs starts and its length below */
    stream.rows = g->kernel_h;
    stream.run = run;
    stream.refill = block;
    stream.second = x_step;
    stream.stride = (size_t)g->dilation_h * in_row;
    stream.advance = 2 * x_step;
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)g->in_h * in_row;
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            const int32_t rows_inside = g->dilation_w == 1 && run > 1 && oy >= g->inner_y0 && oy < g->inner_y1;
            /* Packing reads up to 3 bytes past the second window's last run: `room` bounds where that window may
             * start in its row. */
            const size_t last_y = (size_t)(y0 + (g->kernel_h - 1) * g->dilation_h);
            const size_t tail = rows_inside ? ((size_t)g->in_h - last_y) * in_row : 0; /* from the last run's row */
            const size_t room = tail > (size_t)run + 3 ? tail - (size_t)run - 3 : 0;
            /* Pairs (ox, ox + 1) with ox + 1 < end: the second window inside, and starting at most `room` into
             * its row when packing reads past runs (x(ox + 1) = (ox + 1) x_step - pad_left in_c <= room). */
            const size_t fit = (room + (size_t)g->pad_left * (size_t)g->in_c) / x_step + 1;
            const int32_t end = run % 4 == 0 || fit >= (size_t)g->inner_x1 ? g->inner_x1 : (int32_t)fit;
            for (ox = 0; ox < g->out_w; ++ox) {
                const int32_t x0 = ox * g->stride_w - g->pad_left;
                stream.blocks = 1;
                if (column == 0 && rows_inside && ox >= g->inner_x0 && ox + 1 < end) {
                    /* with out_c even, the row's run of such pairs in one call (a stream), else this pair */
                    stream.blocks = g->out_c % 2 == 0 ? (end - ox) >> 1 : 1;
                    stream.next = image + (size_t)y0 * in_row + (size_t)x0 * (size_t)g->in_c;
                    mcuforge_dsp_window_pair(block, stream.next, x_step, stream.stride, g->kernel_h, run);
                    stream.next += 2 * x_step;
                    ox += 2 * stream.blocks - 1;
                    column = 1;
                } else {
                    conv_dsp_gather(p, image, y0, x0, block, column, bytes);
                }
                if (column == 1) { /* a block, or a stream's blocks (the call consumes the count) */
                    const size_t blocks = (size_t)stream.blocks;
                    conv_dsp_blocks(p, table, block, filter, 2, mode, output, &stream);
                    output += 2 * blocks * (size_t)g->out_c;
                }
                column ^= 1;
            }
        }
    }
    if (column == 1) {
        conv_dsp_block(p, table, block, filter, 1, mode, output);
    }
}

/* The job of a layer's tiles (k values a pixel, k a multiple of 4; per_pass > 0): the pair's rows widened after
 * the pass's tiles, ending at a multiple of MCUFORGE_DSP_TILES_ALIGN. */
static void conv_dsp_tiles_job(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table, const int8_t *filter,
                               uint32_t *block, int32_t k, int32_t per_pass, mcuforge_dsp_tiles_job *job) {
    job->block = block;
    job->weights = (uint32_t *)(((uintptr_t)(block + 6 * (size_t)per_pass * (size_t)(k >> 2) + k) +
                                 MCUFORGE_DSP_TILES_ALIGN - 1) & ~(uintptr_t)(MCUFORGE_DSP_TILES_ALIGN - 1)) - k;
    job->channels = table;
    job->out_c = p->geom.out_c;
    job->groups = k >> 2;
    job->filter = filter;
    job->pairs = p->geom.out_c >> 1;
}

/* Pointwise, the fast stage, out_c even, k a multiple of 4: the first 3 (pixels / 3) pixels in 3x2 tiles
 * (dsp_gemm_s8.h), passes of MCUFORGE_DSP_TILES_EVEN(k, tiles) tiles, each widened before any of its outputs is
 * written (the row window holds, as for the narrow kernels). Returns the pixels done (0 when too few tiles fit a
 * pass: the pairs are then as fast). Scratch after the table: the pass's tiles, then a pair's rows widened, ending
 * at a multiple of MCUFORGE_DSP_TILES_ALIGN. */
static int32_t conv_dsp_tiles(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table, const int8_t *input,
                              const int8_t *filter, int8_t *output, uint32_t *block) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t k = g->in_c;
    const int32_t tiles = g->batches * g->in_h * g->in_w / 3;
    mcuforge_dsp_tiles_job job;
    int32_t per_pass;
    int32_t t;
    int32_t count;
    if (MCUFORGE_DSP_TILES_PER_PASS(k) == 0 || k % 4 != 0 || g->out_c % 2 != 0 || tiles == 0) {
        return 0;
    }
    per_pass = (int32_t)MCUFORGE_DSP_TILES_EVEN(k, tiles);
    conv_dsp_tiles_job(p, table, filter, block, k, per_pass, &job);
    for (t = 0; t < tiles; t += count) {
        count = tiles - t < per_pass ? tiles - t : per_pass;
        mcuforge_dsp_tiles_widen(block, input + 3 * (size_t)t * (size_t)k, k, count);
        job.end = block + 6 * (size_t)count * (size_t)(k >> 2);
        job.out = output + 3 * (size_t)t * (size_t)g->out_c;
        mcuforge_dsp_tiles_pass(&job);
    }
    return 3 * tiles;
}

/* The window of the output pixel at `at` as k bytes at dst, padded taps the input zero point (every output then
 * starts from the folded bias), the cursor then advanced to the next pixel. */
static void conv_tiles_window(const mcuforge_conv_params *p, mcuforge_conv_cursor *at, int8_t *dst) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t in_c = g->in_c;
    const int32_t run = g->kernel_w * in_c;
    const size_t row_step = (size_t)g->dilation_h * (size_t)g->in_w * (size_t)in_c;
    const int32_t last_y = at->y0 + (g->kernel_h - 1) * g->dilation_h;
    const int32_t last_x = at->x0 + (g->kernel_w - 1) * g->dilation_w;
    mcuforge_conv_window win;
    if (g->dilation_w == 1 && run % 4 == 0 && at->y0 >= 0 && at->x0 >= 0 && last_y < g->in_h && last_x < g->in_w) {
        /* inside, rows of whole words: the common case, without the taps' bounds, one word a step */
        const int8_t *src = at->image + ((size_t)at->y0 * (size_t)g->in_w + (size_t)at->x0) * (size_t)in_c;
        const size_t next_row = row_step - (size_t)run;
        int32_t left = run;
        int32_t n;
        for (n = (g->kernel_h * run) >> 2; n > 0; --n, dst += 4) {
            const uint32_t word = mcuforge_read_s8x4(src);
            memcpy(dst, &word, 4);
            src += 4;
            left -= 4;
            if (left == 0) {
                left = run;
                src += next_row;
            }
        }
        mcuforge_conv_advance(g, at, 1);
        return;
    }
    mcuforge_conv_window_at(g, at->y0, at->x0, &win);
    conv_window_bytes(p, at->image, at->y0, at->x0, &win, !mcuforge_conv_window_full(g, &win), dst);
    mcuforge_conv_advance(g, at, 1);
}

/* Any filter, the fast stage: with out_c even and k a multiple of 4, the first 3 (pixels / 3) pixels in 3x2 tiles
 * as the pointwise ones (conv_dsp_tiles), each window gathered as bytes (conv_tiles_window) three at a time where
 * the pair's rows go later, then widened into its tile; a pass's windows all before any of its outputs, in output
 * order (the row window holds). The pixels left (all of them for another shape) go two at a time through the
 * pairs, their windows gathered as bytes after the block. */
static void conv_dsp_window_tiles(const mcuforge_conv_params *p, const mcuforge_dsp_channel *table,
                                  const int8_t *input, const int8_t *filter, int8_t *output, uint32_t *block) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t k = g->kernel_h * g->kernel_w * g->in_c;
    const int32_t fits = MCUFORGE_DSP_TILES_PER_PASS(k) > 0 && k % 4 == 0 && g->out_c % 2 == 0;
    const int32_t tiles = fits ? g->batches * g->out_h * g->out_w / 3 : 0;
    const int32_t per_pass = tiles > 0 ? (int32_t)MCUFORGE_DSP_TILES_EVEN(k, tiles) : 0;
    int8_t *bytes = (int8_t *)(block + MCUFORGE_DSP_BLOCK_WORDS(k));
    mcuforge_dsp_tiles_job job;
    mcuforge_conv_cursor at;
    int32_t t;
    int32_t count;
    int32_t i;
    int32_t column;
    mcuforge_conv_begin(g, input, &at);
    if (tiles > 0) {
        int8_t *windows; /* three windows, where the pair's rows (4 k bytes) go later */
        conv_dsp_tiles_job(p, table, filter, block, k, per_pass, &job);
        windows = (int8_t *)job.weights;
        for (t = 0; t < tiles; t += count) {
            count = tiles - t < per_pass ? tiles - t : per_pass;
            for (i = 0; i < count; ++i) {
                conv_tiles_window(p, &at, windows);
                conv_tiles_window(p, &at, windows + k);
                conv_tiles_window(p, &at, windows + 2 * k);
                mcuforge_dsp_tiles_widen(block + 6 * (size_t)i * (size_t)(k >> 2), windows, k, 1);
            }
            job.end = block + 6 * (size_t)count * (size_t)(k >> 2);
            job.out = output;
            mcuforge_dsp_tiles_pass(&job);
            output += 3 * (size_t)count * (size_t)g->out_c;
        }
    }
    for (column = 0; mcuforge_conv_more(g, &at); column ^= 1) {
        conv_tiles_window(p, &at, bytes);
        mcuforge_dsp_widen(block, column, 0, bytes, k);
        if (column == 1) {
            conv_dsp_block(p, table, block, filter, 2, MCUFORGE_DSP_FAST, output);
            output += 2 * (size_t)g->out_c;
        }
    }
    if (column == 1) {
        conv_dsp_block(p, table, block, filter, 1, MCUFORGE_DSP_FAST, output);
    }
}

/* What conv_dsp's caller guarantees (a literal, so each entry point keeps only its path): any filter (windows
 * gathered), a 1x1 filter at stride 1 (no gathering), or that and the tiles first (the _tiles entry point, fast
 * stage). The emitter sends pointwise layers to the _1x1 entry points, the others gather windows whatever the
 * filter (one copy of the pointwise loop a build). */
enum { CONV_DSP_WINDOWS = 0, CONV_DSP_POINTWISE = 1, CONV_DSP_POINTWISE_TILES = 2 };

/* The DSP variant with output stage `mode` (a literal in the _fast and _wide entry points), for the `pointwise`
 * case above. */
MCUFORGE_INLINE void conv_dsp(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                              int8_t *output, void *scratch, int32_t pointwise, int32_t mode) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t k = g->kernel_h * g->kernel_w * g->in_c;
    mcuforge_dsp_channel *table = (mcuforge_dsp_channel *)scratch;
    uint32_t *block = (uint32_t *)(table + g->out_c);
    int8_t *bytes = (int8_t *)(block + MCUFORGE_DSP_BLOCK_WORDS(k));
    mcuforge_dsp_channels(table, g->out_c, p->bias_folded, &p->requant, p->output_offset, mode);
    if (pointwise != CONV_DSP_WINDOWS) {
        /* Pointwise: the pixels are consecutive, two of them widen with no call; when the assembly covers every
         * filter, all pairs of pixels go in one call (those the tiles leave, with the tiles). */
        const int32_t pixels = g->batches * g->in_h * g->in_w;
        int32_t n = pointwise == CONV_DSP_POINTWISE_TILES ? conv_dsp_tiles(p, table, input, filter, output, block) : 0;
        input += (size_t)n * (size_t)k;
        output += (size_t)n * (size_t)g->out_c;
        if (k % 4 == 0 && g->out_c % 2 == 0 && pixels - n >= 2) {
            mcuforge_dsp_stream stream;
            stream.refill = block;
            stream.next = input + 2 * (size_t)k;
            stream.blocks = (pixels - n) >> 1;
            stream.rows = 1;
            stream.run = k;
            stream.second = (size_t)k;
            stream.stride = 0;
            stream.advance = 2 * (size_t)k;
            mcuforge_dsp_widen_pair_at(block, input, k);
            conv_dsp_blocks(p, table, block, filter, 2, mode, output, &stream);
            input += (size_t)((pixels - n) & ~1) * (size_t)k;
            output += (size_t)((pixels - n) & ~1) * (size_t)g->out_c;
            n += (pixels - n) & ~1;
        }
        for (; n + 2 <= pixels; n += 2) {
            mcuforge_dsp_widen_pair_at(block, input, k);
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
    conv_dsp_windows(p, table, input, filter, output, block, bytes, mode);
}

/* Narrow pointwise layers (dsp_gemm_s8.h: k <= 8, 16 filters, fast output stage): the runs of 8 pixels in passes
 * of up to MCUFORGE_DSP_NARROW_PIXELS, each widened before any of its outputs is written (the row window holds:
 * an output pixel lies at most over input rows before its own). The last 1-7 pixels: one more run, ending at the
 * layer's last pixel, its first pixels the last pass's last ones (still widened in the block, their outputs
 * computed again, the same); a layer of fewer than 8 pixels through the _fast entry point. */
static void conv_dsp_narrow(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                            int8_t *output, void *scratch) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t k = g->in_c;
    const int32_t pixels = g->batches * g->in_h * g->in_w;
    const int32_t rest = pixels % MCUFORGE_DSP_NARROW_RUN;
    const int32_t bulk = pixels - rest;
    mcuforge_dsp_channel *table = (mcuforge_dsp_channel *)scratch;
    uint32_t *records = (uint32_t *)(table + MCUFORGE_DSP_NARROW_FILTERS);
    uint32_t *block = records + 8 * MCUFORGE_DSP_NARROW_FILTERS;
    mcuforge_dsp_narrow_job job;
    int32_t count = 0;
    int32_t at;
    int32_t back;
    int32_t n;
    if (bulk == 0) {
        mcuforge_conv_1x1_s8_fast(p, input, filter, output, scratch);
        return;
    }
    mcuforge_dsp_channels(table, MCUFORGE_DSP_NARROW_FILTERS, p->bias_folded, &p->requant, p->output_offset,
                          MCUFORGE_DSP_FAST);
    mcuforge_dsp_narrow_widen(block, filter, k, MCUFORGE_DSP_NARROW_FILTERS); /* the filter rows, as pixels */
    mcuforge_dsp_narrow_records(records, block, table);
    job.records = records;
    job.filters = MCUFORGE_DSP_NARROW_FILTERS;
    /* The passes, then the last pixels as one more (one call of each for both: less code) widened after the last
     * pass's pixels (the block holds a run more than a pass), its run ending at the layer's last pixel. */
    for (n = 0; n < pixels; n += count) {
        if (n < bulk) {
            at = 0;
            count = bulk - n < MCUFORGE_DSP_NARROW_PIXELS ? bulk - n : MCUFORGE_DSP_NARROW_PIXELS;
        } else {
            at = count;
            count = rest;
        }
        mcuforge_dsp_narrow_widen(block + 4 * (size_t)at, input + (size_t)n * (size_t)k, k, count);
        job.runs = (count + MCUFORGE_DSP_NARROW_RUN - 1) / MCUFORGE_DSP_NARROW_RUN;
        back = MCUFORGE_DSP_NARROW_RUN * job.runs - count; /* 0 but for the last pixels */
        job.block = block + 4 * (size_t)(at - back);
        job.out = output + (size_t)(n - back) * MCUFORGE_DSP_NARROW_FILTERS;
        mcuforge_dsp_narrow_pass(&job);
    }
}

/* A pass's `count` pixels from output pixel n of a 1x1 layer at any stride, widened into blocks A and B: each
 * output row's pixels are a run of input pixels stride_w apart. */
static void narrow16_widen_strided(const mcuforge_conv_geometry *g, const int8_t *input, int32_t n, int32_t count,
                                   uint32_t *block_a, uint32_t *block_b) {
    const size_t step = (size_t)g->stride_w * (size_t)g->in_c;
    while (count > 0) {
        const int32_t row = n / g->out_w; /* over the batch's images */
        const int32_t column = n - row * g->out_w;
        const int32_t image = row / g->out_h;
        const size_t y = (size_t)image * (size_t)g->in_h + (size_t)(row - image * g->out_h) * (size_t)g->stride_h;
        const int32_t run = g->out_w - column < count ? g->out_w - column : count;
        mcuforge_dsp_narrow16_widen(block_a, block_b, input + y * (size_t)g->in_w * (size_t)g->in_c +
                                    (size_t)column * step, g->in_c, step, run);
        block_a += 5 * (size_t)run;
        block_b += 4 * (size_t)run;
        n += run;
        count -= run;
    }
}

/* The deeper kind (dsp_gemm_s8.h: k <= 16, 32 filters), passes of up to MCUFORGE_DSP_NARROW16_PIXELS the same way.
 * `strided` (a literal): a 1x1 filter at any stride (never padded), its pixels gathered row by row (the pixel
 * order holds: a pass's pixels widen before any of its outputs is written); else consecutive pixels. */
MCUFORGE_INLINE void conv_dsp_narrow16(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                                       int8_t *output, void *scratch, int32_t strided) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t k = g->in_c;
    const int32_t pixels = strided ? g->batches * g->out_h * g->out_w : g->batches * g->in_h * g->in_w;
    const int32_t rest = pixels % MCUFORGE_DSP_NARROW_RUN;
    const int32_t bulk = pixels - rest;
    mcuforge_dsp_channel *table = (mcuforge_dsp_channel *)scratch;
    uint32_t *records = (uint32_t *)(table + MCUFORGE_DSP_NARROW16_FILTERS);
    uint32_t *block_a = records + 12 * MCUFORGE_DSP_NARROW16_FILTERS;
    uint32_t *block_b = block_a + 5 * (MCUFORGE_DSP_NARROW16_PIXELS + MCUFORGE_DSP_NARROW_RUN);
    mcuforge_dsp_narrow16_job job;
    int32_t count = 0;
    int32_t n;
    if (bulk == 0) {
        if (strided) {
            mcuforge_conv_s8_fast(p, input, filter, NULL, output, scratch);
        } else {
            mcuforge_conv_1x1_s8_fast(p, input, filter, output, scratch);
        }
        return;
    }
    mcuforge_dsp_channels(table, MCUFORGE_DSP_NARROW16_FILTERS, p->bias_folded, &p->requant, p->output_offset,
                          MCUFORGE_DSP_FAST);
    mcuforge_dsp_narrow16_widen(block_a, block_b, filter, k, (size_t)k, MCUFORGE_DSP_NARROW16_FILTERS); /* rows */
    mcuforge_dsp_narrow16_records(records, block_a, block_b, table);
    job.block_a = block_a;
    job.block_b = block_b;
    job.records = records;
    job.filters = MCUFORGE_DSP_NARROW16_FILTERS;
    for (n = 0; n < bulk; n += count) {
        count = bulk - n < MCUFORGE_DSP_NARROW16_PIXELS ? bulk - n : MCUFORGE_DSP_NARROW16_PIXELS;
        if (strided) {
            narrow16_widen_strided(g, input, n, count, block_a, block_b);
        } else {
            mcuforge_dsp_narrow16_widen(block_a, block_b, input + (size_t)n * (size_t)k, k, (size_t)k, count);
        }
        job.out = output + (size_t)n * MCUFORGE_DSP_NARROW16_FILTERS;
        job.runs = count / MCUFORGE_DSP_NARROW_RUN;
        mcuforge_dsp_narrow16_pass(&job);
    }
    if (rest > 0) { /* as in conv_dsp_narrow */
        if (strided) {
            narrow16_widen_strided(g, input, bulk, rest, block_a + 5 * (size_t)count, block_b + 4 * (size_t)count);
        } else {
            mcuforge_dsp_narrow16_widen(block_a + 5 * (size_t)count, block_b + 4 * (size_t)count,
                                        input + (size_t)bulk * (size_t)k, k, (size_t)k, rest);
        }
        job.block_a = block_a + 5 * (size_t)(count + rest - MCUFORGE_DSP_NARROW_RUN);
        job.block_b = block_b + 4 * (size_t)(count + rest - MCUFORGE_DSP_NARROW_RUN);
        job.out = output + (size_t)(pixels - MCUFORGE_DSP_NARROW_RUN) * MCUFORGE_DSP_NARROW16_FILTERS;
        job.runs = 1;
        mcuforge_dsp_narrow16_pass(&job);
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
        conv_dsp(p, input, filter, output, scratch, CONV_DSP_WINDOWS,
                 mcuforge_dsp_mode(p->dsp_requant, p->act_min, p->act_max));
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
        conv_dsp(p, input, filter, output, scratch, CONV_DSP_POINTWISE,
                 mcuforge_dsp_mode(p->dsp_requant, p->act_min, p->act_max));
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
        conv_dsp(p, input, filter, output, scratch, CONV_DSP_WINDOWS, mode); \
    } \
    void mcuforge_conv_1x1_s8##suffix(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter, \
                                      int8_t *output, void *scratch) { \
        conv_dsp(p, input, filter, output, scratch, CONV_DSP_POINTWISE, mode); \
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

/* A _fast pointwise layer of the narrow shape (dsp_gemm_s8.h; the emitter checks, the kernel checks again): its
 * own entry point, so that builds without such a layer link none of it. */
void mcuforge_conv_1x1_s8_narrow(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                                 int8_t *output, void *scratch) {
#if defined(CONV_DSP)
    if (p->geom.in_c <= MCUFORGE_DSP_NARROW_MAX_K && p->geom.out_c == MCUFORGE_DSP_NARROW_FILTERS) {
        conv_dsp_narrow(p, input, filter, output, scratch);
        return;
    }
#endif
    mcuforge_conv_1x1_s8_fast(p, input, filter, output, scratch);
}

/* A _fast pointwise layer of the tiles' shape (dsp_gemm_s8.h; the emitter checks, the kernel checks again): its own
 * entry point, so that builds without such a layer link none of it; the last pixels (pixels mod 3) take the pairs. */
void mcuforge_conv_1x1_s8_tiles(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output, void *scratch) {
#if defined(CONV_DSP)
    conv_dsp(p, input, filter, output, scratch, CONV_DSP_POINTWISE_TILES, MCUFORGE_DSP_FAST);
#else
    mcuforge_conv_1x1_s8_fast(p, input, filter, output, scratch);
#endif
}

/* A _fast layer of any filter in tiles (conv_dsp_window_tiles; the emitter picks it for the tiles' shape). */
void mcuforge_conv_s8_tiles(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                            const int32_t *bias, int8_t *output, void *scratch) {
#if defined(CONV_DSP)
    mcuforge_dsp_channel *table = (mcuforge_dsp_channel *)scratch;
    (void)bias;
    mcuforge_dsp_channels(table, p->geom.out_c, p->bias_folded, &p->requant, p->output_offset, MCUFORGE_DSP_FAST);
    conv_dsp_window_tiles(p, table, input, filter, output, (uint32_t *)(table + p->geom.out_c));
#else
    mcuforge_conv_s8_fast(p, input, filter, bias, output, scratch);
#endif
}

void mcuforge_conv_1x1_s8_narrow16(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                                   int8_t *output, void *scratch) {
#if defined(CONV_DSP)
    if (p->geom.in_c <= MCUFORGE_DSP_NARROW16_MAX_K && p->geom.out_c == MCUFORGE_DSP_NARROW16_FILTERS) {
        conv_dsp_narrow16(p, input, filter, output, scratch, 0);
        return;
    }
#endif
    mcuforge_conv_1x1_s8_fast(p, input, filter, output, scratch);
}

void mcuforge_conv_s8_narrow16(const mcuforge_conv_params *p, const int8_t *input, const int8_t *filter,
                               const int32_t *bias, int8_t *output, void *scratch) {
#if defined(CONV_DSP)
    const mcuforge_conv_geometry *g = &p->geom;
    if (g->kernel_h == 1 && g->kernel_w == 1 && g->pad_top == 0 && g->pad_left == 0 &&
        g->in_c <= MCUFORGE_DSP_NARROW16_MAX_K && g->out_c == MCUFORGE_DSP_NARROW16_FILTERS) {
        conv_dsp_narrow16(p, input, filter, output, scratch, 1);
        return;
    }
#endif
    mcuforge_conv_s8_fast(p, input, filter, bias, output, scratch);
}
