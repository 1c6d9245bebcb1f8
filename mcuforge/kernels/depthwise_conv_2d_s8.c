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

#if defined(MCUFORGE_DSP) && !defined(MCUFORGE_SINGLE_ROUNDING)
/* DSP variant (3x3, depth multiplier 1, no dilation). SMLAD multiplies two taps of one channel, which NHWC
 * keeps `channels` bytes apart: the three input rows an output row reads are first transposed into a ring of
 * rows, each channel's pixels contiguous as int16 (one transposition per input row, shared by the output rows
 * that read it), with `lead` columns of the input zero point in front and zero-point columns after, so that
 * every output starts from the folded bias, padded or not. Then, channel by channel with its filter in q15
 * pairs (w0, w1) and (w2, w1), two outputs take a handful of SMLAD-family instructions per filter row. Rows
 * enter the ring in increasing order, before the outputs that read them are written: the row window holds.
 * A layer with the fast output stage runs each output row, all channels, in one assembly function, with the
 * filter and the bias doubled in its table (built in one pass per layer) so that the accumulators are 2 acc and
 * the output stage takes four instructions (dw_fast_output). The row goes in phases, each over every channel:
 * blocks of six outputs, then up to two pairs, then a closing triple or lone output; a row of five (KWS) in one
 * block per channel. Cortex-M4 cycles (TRM table, measured), a channel's block of six with its move: 111 at
 * stride 1 (18.5 an output; blocks of four took 20.75), 121 at stride 2 (20.2; 23.9); a row of five 93. The
 * transposition takes about 2.5 a value (a good part of the rest at stride 2, where a value feeds 2.25 MACs). Each
 * row shape has its entry point (DW_ENTRY), so a model links only the assembly its layers run: one function per
 * stride, or one for both. Scratch: the channel table, the filter pairs (6 words a channel), then the ring. */
#define DW_DSP 1

typedef struct {
    int16_t *rows;  /* 3 slots of channels x width values */
    int32_t width;  /* values per channel row (even) */
    int32_t lead;   /* index of input column 0: pad_left, so that index 0 is the first window's first tap */
    int32_t zero_point;
} dw_ring;

MCUFORGE_INLINE void dw_put2(int16_t *dst, uint32_t pair) {
    memcpy(dst, &pair, 4);
}

MCUFORGE_INLINE uint32_t dw_get2(const int16_t *src) {
    uint32_t pair;
    memcpy(&pair, src, 4);
    return pair;
}

/* `values` (even) ring values from `dst` (word-aligned) to the zero point: the zero-point columns, a padded row. */
static void dw_dsp_fill(int16_t *dst, size_t values, int32_t zero_point) {
    const uint32_t pair = ((uint32_t)zero_point & 0xFFFFu) * 0x10001u;
    size_t i = 0;
    for (; i + 16 <= values; i += 16) { /* the loop's add, compare and branch over eight stores */
        dw_put2(dst + i, pair);
        dw_put2(dst + i + 2, pair);
        dw_put2(dst + i + 4, pair);
        dw_put2(dst + i + 6, pair);
        dw_put2(dst + i + 8, pair);
        dw_put2(dst + i + 10, pair);
        dw_put2(dst + i + 12, pair);
        dw_put2(dst + i + 14, pair);
    }
    for (; i < values; i += 2) {
        dw_put2(dst + i, pair);
    }
}

/* One input pixel's channels into ring column `dst` (channel rows `width` values apart), four at a time. */
static void dw_dsp_load_column(int16_t *dst, const int8_t *pixel, int32_t channels, size_t width) {
    int32_t c;
    for (c = 0; c + 4 <= channels; c += 4) {
        const uint32_t v = mcuforge_read_s8x4(pixel + c);
        const uint32_t v02 = mcuforge_sxtb16(v);
        const uint32_t v13 = mcuforge_sxtb16_ror8(v);
        dst[0] = (int16_t)(v02 & 0xFFFFu);
        dst[width] = (int16_t)(v13 & 0xFFFFu);
        dst[2 * width] = (int16_t)(v02 >> 16);
        dst[3 * width] = (int16_t)(v13 >> 16);
        dst += 4 * width;
    }
    for (; c < channels; ++c) {
        *dst = pixel[c];
        dst += width;
    }
}

/* Four channels of two pixels a, b into their ring rows from `d` (`width` values apart): a word of each pixel, split
 * by SXTB16 into channels 0, 2 and 1, 3, paired by PKH into one word a channel. */
MCUFORGE_INLINE void dw_dsp_load_group(int16_t *d, const int8_t *a, const int8_t *b, size_t width) {
    const uint32_t pa = mcuforge_read_s8x4(a);
    const uint32_t pb = mcuforge_read_s8x4(b);
    const uint32_t a02 = mcuforge_sxtb16(pa);
    const uint32_t b02 = mcuforge_sxtb16(pb);
    const uint32_t a13 = mcuforge_sxtb16_ror8(pa);
    const uint32_t b13 = mcuforge_sxtb16_ror8(pb);
    dw_put2(d, mcuforge_pkhbt(a02, b02));
    dw_put2(d + width, mcuforge_pkhbt(a13, b13));
    dw_put2(d + 2 * width, mcuforge_pkhtb(b02, a02));
    dw_put2(d + 3 * width, mcuforge_pkhtb(b13, a13));
}

/* Input row `row` into ring slot `slot`: pixel pairs onto word-aligned indices, four channels at a time, a lone
 * column first (odd lead) or last alone. The inner loop runs over the longer of the pixel pairs and the channel
 * groups: its setup (about 40 cycles per run, registers reloaded) is paid by the shorter. */
static void dw_dsp_load_row(const mcuforge_depthwise_conv_params *p, const dw_ring *ring, const int8_t *row,
                            int32_t slot) {
    const int32_t channels = p->geom.in_c;
    const int32_t in_w = p->geom.in_w;
    int16_t *dst = ring->rows + (size_t)slot * (size_t)channels * (size_t)ring->width + ring->lead;
    const size_t width = (size_t)ring->width;
    const int32_t x0 = ring->lead & 1; /* pixel pairs land on even indices: word stores */
    const int32_t pairs = (in_w - x0) >> 1;
    const int32_t groups = channels >> 2;
    const size_t pixel = (size_t)channels;
    int32_t x;
    int32_t c;
    if (x0 == 1) {
        dw_dsp_load_column(dst, row, channels, width);
    }
    if (pairs > groups) {
        const int8_t *a = row + (size_t)x0 * pixel;
        int16_t *d = dst + x0;
        for (c = groups; c > 0; --c) {
            const int8_t *const end = a + 2 * pixel * (size_t)pairs;
            const int8_t *s;
            int16_t *e = d;
            for (s = a; s != end; s += 2 * pixel) {
                dw_dsp_load_group(e, s, s + pixel, width);
                e += 2;
            }
            a += 4;
            d += 4 * width;
        }
    } else {
        const int8_t *a = row + (size_t)x0 * pixel;
        int16_t *d = dst + x0;
        for (x = pairs; x > 0; --x) {
            const int8_t *const end = a + 4 * groups;
            const int8_t *s;
            int16_t *e = d;
            for (s = a; s != end; s += 4) {
                dw_dsp_load_group(e, s, s + pixel, width);
                e += 4 * width;
            }
            a += 2 * pixel;
            d += 2;
        }
    }
    for (c = 4 * groups; c < channels; ++c) { /* the channels past the groups of four */
        for (x = x0; x < x0 + 2 * pairs; ++x) {
            dst[(size_t)c * width + (size_t)x] = row[(size_t)x * pixel + (size_t)c];
        }
    }
    x = x0 + 2 * pairs;
    if (x < in_w) {
        dw_dsp_load_column(dst + x, row + (size_t)x * pixel, channels, width);
    }
}

/* A channel's output stage and its filter as q15 pairs: per filter row, (w0, w1) then (w2, w1). */
typedef struct {
    mcuforge_dsp_channel out;
    uint32_t filter[6];
} dw_channel;

/* Filter row (w01, w21) over the ring row `r` for the outputs at window starts 0 (a0) and `stride` (a1); with
 * `pair` 0 only a0. Stride 1 and 2 (literals) share words between both outputs. */
#define DW_DSP_ROW(r, w01, w21, stride, pair, a0, a1) do { \
        if ((pair) && (stride) == 1) { \
            const uint32_t x01_ = dw_get2(r); \
            const uint32_t x23_ = dw_get2((r) + 2); \
            a0 = mcuforge_smlad(x01_, w01, a0); \
            a0 = mcuforge_smlabb(x23_, w21, a0); \
            a1 = mcuforge_smlatb(x01_, w01, a1); \
            a1 = mcuforge_smladx(x23_, w21, a1); \
        } else if ((pair) && (stride) == 2) { \
            const uint32_t x23_ = dw_get2((r) + 2); \
            a0 = mcuforge_smlad(dw_get2(r), w01, a0); \
            a0 = mcuforge_smlabb(x23_, w21, a0); \
            a1 = mcuforge_smlad(x23_, w01, a1); \
            a1 = mcuforge_smlabb(dw_get2((r) + 4), w21, a1); \
        } else { \
            a0 = mcuforge_smlad(dw_get2(r), w01, a0); \
            a0 = mcuforge_smlabb(dw_get2((r) + 2), w21, a0); \
            if (pair) { \
                a1 = mcuforge_smlad(dw_get2((r) + (stride)), w01, a1); \
                a1 = mcuforge_smlabb(dw_get2((r) + (stride) + 2), w21, a1); \
            } \
        } \
    } while (0)

#if defined(MCUFORGE_DSP_ASM)
/* Two outputs of stride 1 or 2, all three filter rows, in assembly: from C, GCC spills the accumulators,
 * pointers and words to the stack and even to FPU registers. Ten registers, the rest stay the compiler's.
 * Ring rows are word-aligned (even widths, two outputs advance 2 or 4 values), as LDRD needs. */
#define DW_ASM_OPERANDS \
    [a0] "=&r"(a0), [a1] "=&r"(a1), [xa] "=&r"(xa_), [xb] "=&r"(xb_), [wa] "=&r"(wa_), [wb] "=&r"(wb_), \
    [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2)
/* Stride 1: words (x0 x1) (x2 x3); output 1 takes x1 (top lane) and (x2 x3) crosswise. */
#define DW_ASM_ROW_S1(r, offset) \
    "ldrd %[xa], %[xb], [%[" r "]], #4\n\t" \
    "ldrd %[wa], %[wb], [%[ch], #" offset "]\n\t" \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t" \
    "smlabb %[a0], %[xb], %[wb], %[a0]\n\t" \
    "smlatb %[a1], %[xa], %[wa], %[a1]\n\t" \
    "smladx %[a1], %[xb], %[wb], %[a1]\n\t"
/* Stride 2: words W0 W1 W2; output 0 takes W0 and the bottom lane of W1, output 1 W1 and that of W2. */
#define DW_ASM_ROW_S2(r, offset) \
    "ldrd %[xa], %[xb], [%[" r "]], #8\n\t" \
    "ldrd %[wa], %[wb], [%[ch], #" offset "]\n\t" \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t" \
    "smlabb %[a0], %[xb], %[wb], %[a0]\n\t" \
    "ldr %[xa], [%[" r "]]\n\t" \
    "smlad %[a1], %[xb], %[wa], %[a1]\n\t" \
    "smlabb %[a1], %[xa], %[wb], %[a1]\n\t"
#define DW_DSP_PAIR(ch, stride, r0, r1, r2, a0, a1) do { \
        uint32_t xa_; \
        uint32_t xb_; \
        uint32_t wa_; \
        uint32_t wb_; \
        if ((stride) == 1) { \
            __asm__("ldr %[a0], [%[ch]]\n\t" \
                    "mov %[a1], %[a0]\n\t" \
                    DW_ASM_ROW_S1("r0", "20") DW_ASM_ROW_S1("r1", "28") DW_ASM_ROW_S1("r2", "36") \
                    : DW_ASM_OPERANDS : [ch] "r"(ch) : "memory"); \
        } else { \
            __asm__("ldr %[a0], [%[ch]]\n\t" \
                    "mov %[a1], %[a0]\n\t" \
                    DW_ASM_ROW_S2("r0", "20") DW_ASM_ROW_S2("r1", "28") DW_ASM_ROW_S2("r2", "36") \
                    : DW_ASM_OPERANDS : [ch] "r"(ch) : "memory"); \
        } \
    } while (0)
#else
#define DW_DSP_PAIR(ch, stride, r0, r1, r2, a0, a1) do { \
        const uint32_t *w_ = (ch)->filter; \
        a0 = a1 = (ch)->out.bias; \
        DW_DSP_ROW(r0, w_[0], w_[1], stride, 1, a0, a1); \
        DW_DSP_ROW(r1, w_[2], w_[3], stride, 1, a0, a1); \
        DW_DSP_ROW(r2, w_[4], w_[5], stride, 1, a0, a1); \
        (r0) += 2 * (stride); \
        (r1) += 2 * (stride); \
        (r2) += 2 * (stride); \
    } while (0)
#endif

/* The fast output stage in four instructions (dsp_s8.h's mcuforge_dsp_fast_doubled) on accumulators that are twice
 * the layer's: a fast layer's table holds the filter words and the bias doubled, so 2 acc costs nothing. */
MCUFORGE_INLINE int8_t dw_fast_output(const mcuforge_dsp_channel *q, int32_t acc2) {
    return mcuforge_dsp_fast_doubled(acc2, q->multiplier, q->round, q->shift);
}

#if defined(MCUFORGE_DSP_ASM) && defined(__OPTIMIZE__)
/* A whole output row, all channels, in assembly for the fast output stage (dw_fast_row_s1, _s2 and _w5 below):
 * naked functions, AAPCS by hand, as they take every register; optimized builds only, the C below otherwise. Loads
 * come in chains of independent LDRs (the Cortex-M4 pipelines an LDR behind an LDR: 1 cycle each after the first,
 * where an LDRD takes 3). Table entry offsets (dw_channel): bias 0, multiplier 4, round 8, shift 12, the filter
 * pairs of rows 0, 1, 2 at 20, 28, 36. */
#define DW_FAST_ROWS_ASM 1
#endif

/* What a fast output row's assembly reads: the same for every row of the layer; advances in bytes. */
typedef struct {
    int32_t blocks;      /* blocks of six outputs first */
    int32_t pair;        /* then that many pairs (up to 2) */
    int32_t step;        /* bytes between a channel's outputs: the channel count */
    int32_t last;        /* then 0 nothing, 1 one output (a row of one, computed as a pair), 3 three outputs */
    int32_t ring_next;   /* a channel's ring rows to the next channel's (where a triple leaves them) */
    int32_t block_next;  /* the same after a block, which moves them 6 outputs on */
    int32_t pair_next;   /* and after a pair (2 outputs on) */
    int32_t block_back;  /* from past the last channel's ring rows to channel 0's, a block on */
    int32_t pair_back;   /* the same, 2 outputs on */
    int32_t table_bytes; /* the channel table's */
} dw_fast_rows;

/* One output row of one channel: r0..r2 are the channel's three ring rows from the first output's first tap,
 * outputs `step` bytes apart. `mode` a literal; fast: the table holds doubled values. */
MCUFORGE_INLINE void dw_dsp_channel_row(const int16_t *r0, const int16_t *r1, const int16_t *r2, const dw_channel *ch,
                                        int32_t out_w, int32_t stride, int32_t mode, int32_t zp, int32_t lo,
                                        int32_t hi, int8_t *out, size_t step) {
    const mcuforge_dsp_channel q = ch->out; /* a copy: the int8 stores could alias the table */
    const int8_t *end = out + (size_t)(out_w - 1) * step;
    const uint32_t *w = ch->filter;
    int32_t a0;
    int32_t a1;
    for (; out < end; out += 2 * step) {
        DW_DSP_PAIR(ch, stride, r0, r1, r2, a0, a1);
        if (mode == MCUFORGE_DSP_FAST) {
            out[0] = dw_fast_output(&q, a0);
            out[step] = dw_fast_output(&q, a1);
        } else {
            out[0] = mcuforge_dsp_output(&q, a0, mode, zp, lo, hi);
            out[step] = mcuforge_dsp_output(&q, a1, mode, zp, lo, hi);
        }
    }
    if (out == end) {
        a0 = q.bias;
        a1 = 0;
        DW_DSP_ROW(r0, w[0], w[1], stride, 0, a0, a1);
        DW_DSP_ROW(r1, w[2], w[3], stride, 0, a0, a1);
        DW_DSP_ROW(r2, w[4], w[5], stride, 0, a0, a1);
        out[0] = mode == MCUFORGE_DSP_FAST ? dw_fast_output(&q, a0) : mcuforge_dsp_output(&q, a0, mode, zp, lo, hi);
        (void)a1;
    }
}

#if defined(DW_FAST_ROWS_ASM)
/* A fast output row, all channels, in assembly: the layer loop calls one of these per output row, at stride 1 or
 * 2 in phases (any row length: DW_NAKED_PHASES), or a row of five in one block a channel. Each has an entry point
 * of its own (the emitter picks it), so that a model links one function per stride, or one for both strides (the
 * phases' skeleton once: about 500 bytes less), without the pairs' phase if its rows need none. */
typedef void (*dw_fast_row_fn)(const int16_t *r0, const int16_t *r1, const int16_t *r2, const dw_channel *ch,
                               int8_t *out, const dw_fast_rows *rows);

/* A row of exactly five outputs, stride 1 (KWS's 25x5 maps), every channel, in one block per channel: words W0..W3
 * of a ring row; outputs 0 and 1 as a pair on W0 W1, 2 and 3 on W1 W2, output 4 on W2 and the bottom lane of W3,
 * with the filter words loaded once per row (a pair and a triple load them twice). Five accumulators, two words
 * and two filter words take 14 registers, more than GCC gives inline assembly: a naked function, AAPCS by hand.
 * r0-r2 ring rows, r3 table entry, r12 output; r4-r8 accumulators, r9 r10 words, r11 lr filter words (then the
 * requantization: r9 multiplier, r10 round, r11 shift, lr t; then one LDM of the stack's step and the table's end,
 * the outputs stored from r12 and r12 + 2 step). Moving on to the next channel costs no instruction: the loads
 * post-index the ring rows by a row (`next` bytes) and the table entry by 44 (so the entry's later fields are read
 * at negative offsets), the last store the output by 1. A ring row's length is a constant here: 3x3 stride 1
 * takes in_w + pad_left <= out_w + 2, so dw_dsp_run sizes the ring rows to out_w + 3 values rounded up to even, 8
 * (16 bytes). */
#define DW_W5_LOAD(r, offset, bias, next) \
    "ldr r10, [" r ", #4]\n\t" \
    "ldr r9, [" r "], #" next "\n\t" \
    "ldr r11, [r3, #" offset "]\n\t" \
    "ldr lr, [r3, #" offset "+4]\n\t" \
    bias
#define DW_W5_REST4(r, next) \
    "smlabb r4, r10, lr, r4\n\t" \
    "smladx r5, r10, lr, r5\n\t" \
    "ldr r9, [" r ", #8-" next "]\n\t" \
    "ldr r10, [" r ", #12-" next "]\n\t" \
    "smlabb r6, r9, lr, r6\n\t" \
    "smladx r7, r9, lr, r7\n\t"
#define DW_W5_REST(r, next) \
    DW_W5_REST4(r, next) \
    "smlad r8, r9, r11, r8\n\t" \
    "smlabb r8, r10, lr, r8\n\t"
/* A ring row's first words: the first filter row (table offset 20) starts the accumulators from the bias, loaded
 * with the entry's post-index (`more` copies it to the accumulators past r8); the others (offsets 28 and 36, -16
 * and -8 after it) add to them. */
#define DW_W5_HEAD0(r, more, next) \
    DW_W5_LOAD(r, "20", "ldr r4, [r3], #44\n\t", next) \
    "smlatb r5, r9, r11, r4\n\t" \
    "smlad r6, r10, r11, r4\n\t" \
    "smlatb r7, r10, r11, r4\n\t" \
    "mov r8, r4\n\t" \
    more \
    "smlad r4, r9, r11, r4\n\t"
#define DW_W5_HEAD(r, offset, next) \
    DW_W5_LOAD(r, offset, "", next) \
    "smlad r4, r9, r11, r4\n\t" \
    "smlatb r5, r9, r11, r5\n\t" \
    "smlad r6, r10, r11, r6\n\t" \
    "smlatb r7, r10, r11, r7\n\t"
#define DW_W5_ROWS \
    DW_W5_HEAD0("r0", "", "16") DW_W5_REST("r0", "16") \
    DW_W5_HEAD("r1", "-16", "16") DW_W5_REST("r1", "16") \
    DW_W5_HEAD("r2", "-8", "16") DW_W5_REST("r2", "16")
/* The requantization words (entry offsets 4, 8, 12, behind the post-index) */
#define DW_W_OUT_PARAMS \
    "ldr r9, [r3, #-40]\n\t" \
    "ldr r10, [r3, #-36]\n\t" \
    "ldr r11, [r3, #-32]\n\t"
#define DW_W5_OUT(acc) \
    "add lr, r10, " acc ", asr #31\n\t" \
    "smmlar " acc ", " acc ", r9, lr\n\t" \
    "asr " acc ", " acc ", r11\n\t" \
    "ssat " acc ", #8, " acc "\n\t"
/* dw_fast_rows' field as the assembly reads it */
typedef char dw_fast_rows_layout[offsetof(dw_fast_rows, step) == 8 ? 1 : -1];

#define DW_ARG __attribute__((unused)) /* a naked function reads its arguments in assembly */
/* The row of five's loop test against the table's end (r11), and the return. */
#define DW_W_LOOP_END \
    "cmp r3, r11\n\t" \
    "bne 0b\n\t" \
    "add sp, sp, #12\n\t" \
    "pop {r4-r11, pc}\n\t"
__attribute__((naked)) static void dw_fast_row_w5(const int16_t *r0 DW_ARG, const int16_t *r1 DW_ARG,
                                                  const int16_t *r2 DW_ARG, const dw_channel *ch DW_ARG,
                                                  int8_t *out DW_ARG, const dw_fast_rows *rows DW_ARG) {
    __asm__(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #12\n\t"
        "ldr r12, [sp, #48]\n\t"
        "ldr lr, [sp, #52]\n\t"
        "ldr r4, [lr, #8]\n\t"
        "movs r7, #44\n\t"
        "mla r6, r4, r7, r3\n\t"
        "stm sp, {r4, r6}\n"
        "0:\n\t"
        DW_W5_ROWS
        DW_W_OUT_PARAMS
        DW_W5_OUT("r4") DW_W5_OUT("r5") DW_W5_OUT("r6") DW_W5_OUT("r7") DW_W5_OUT("r8")
        "ldm sp, {r9, r11}\n\t"
        "strb r5, [r12, r9]\n\t"
        "add lr, r12, r9, lsl #1\n\t"
        "strb r6, [lr]\n\t"
        "strb r7, [lr, r9]\n\t"
        "strb r8, [lr, r9, lsl #1]\n\t"
        "strb r4, [r12], #1\n\t"
        DW_W_LOOP_END);
}
/* Six outputs of a row at stride 1 (dw_fast_row_s1's blocks): as the row of five with a sixth accumulator (r12).
 * Output 4 takes W2 and the bottom lane of W3, output 5 the top lane of W2 and W3 crosswise. */
#define DW_W6_REST(r, next) \
    DW_W5_REST4(r, next) \
    "smlad r8, r9, r11, r8\n\t" \
    "smlatb r12, r9, r11, r12\n\t" \
    "smlabb r8, r10, lr, r8\n\t" \
    "smladx r12, r10, lr, r12\n\t"
/* A row of any length at stride 1 or 2 (DW_NAKED_PHASES over the stride's rows), every channel, in phases, each
 * over every channel: blocks of six outputs, then 0 to 2 pairs, then three outputs closing an odd row, or a row of
 * one: the pair phase with step 0 (output 1 stored over output 0, then output 0 over it), which ends the row. Six
 * accumulators (r4-r8, r12) take a naked function, the output and the phase's state on the stack: [sp] step,
 * [sp, #4] the phase's advance of the ring rows from a channel to the next (block_next, pair_next or ring_next),
 * [sp, #8] the table's end, [sp, #12] the output, [sp, #16] the blocks or pairs left, [sp, #20] the plan
 * (dw_fast_rows), [sp, #24] 4 stride (the function for both strides). A block loads the filter words, bias and requantization words once for six outputs (blocks of
 * four took 12 % more cycles an output at stride 1, 18 % at stride 2); the entry post-indexed as in the row of
 * five. Stride 1: outputs 0 and 1 of a pair take words (x0 x1) (x2 x3), output 1 the top lane of the first and the
 * second crosswise; a block is three pairs on W0..W3 (the row of five's code and a sixth accumulator: outputs 4
 * and 5 on W2 W3). */
#define DW_S1_PAIR_REST(r) \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "smlatb r5, r9, r11, r5\n\t" \
    "smladx r5, r10, lr, r5\n\t"
#define DW_S1_PAIR_ROWS \
    DW_W5_LOAD("r0", "20", "ldr r4, [r3], #44\n\t", "4") \
    "smlatb r5, r9, r11, r4\n\t" \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "smladx r5, r10, lr, r5\n\t" \
    DW_W5_LOAD("r1", "-16", "", "4") DW_S1_PAIR_REST("r1") \
    DW_W5_LOAD("r2", "-8", "", "4") DW_S1_PAIR_REST("r2")
/* Three outputs: 0 and 1 as a pair, 2 on W1 and the bottom lane of W2; the ring rows stay (the next channel's are
 * ring_next on). */
#define DW_S1_TRIPLE_REST(r) \
    DW_S1_PAIR_REST(r) \
    "ldr r9, [" r ", #8]\n\t" \
    "smlad r6, r10, r11, r6\n\t" \
    "smlabb r6, r9, lr, r6\n\t"
#define DW_S1_TRIPLE_ROWS \
    "ldr r10, [r0, #4]\n\t" \
    "ldr r9, [r0]\n\t" \
    "ldr r11, [r3, #20]\n\t" \
    "ldr lr, [r3, #24]\n\t" \
    "ldr r4, [r3], #44\n\t" \
    "smlatb r5, r9, r11, r4\n\t" \
    "smlad r6, r10, r11, r4\n\t" \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "smladx r5, r10, lr, r5\n\t" \
    "ldr r9, [r0, #8]\n\t" \
    "smlabb r6, r9, lr, r6\n\t" \
    "ldr r10, [r1, #4]\n\t" \
    "ldr r9, [r1]\n\t" \
    "ldr r11, [r3, #-16]\n\t" \
    "ldr lr, [r3, #-12]\n\t" \
    DW_S1_TRIPLE_REST("r1") \
    "ldr r10, [r2, #4]\n\t" \
    "ldr r9, [r2]\n\t" \
    "ldr r11, [r3, #-8]\n\t" \
    "ldr lr, [r3, #-4]\n\t" \
    DW_S1_TRIPLE_REST("r2")
/* A channel's end in every phase: the step, the phase's ring advance, the table's end and the output (the stores
 * between, output 0 last, post-indexing the output to the next channel's), then on to the next channel. */
#define DW_PHASE_NEXT(H, loop) \
    "strb r4, [lr], #1\n\t" \
    "str lr, [sp, #12]\n\t" \
    "add r0, r0, r10\n\t" \
    "add r1, r1, r10\n\t" \
    "add r2, r2, r10\n\t" \
    DW_##H##_TEST \
    DW_##H##_LOOP(loop)
/* After a phase's channels: back to channel 0 (table_bytes at plan offset 36), the ring rows `back` on (the plan's
 * block_back at 28 or pair_back at 32) and the output r9 bytes on; then the next block or pair, if any ([sp, #16]
 * counts them down). */
#define DW_PHASE_BACK(H, back, loop) \
    "ldr lr, [sp, #20]\n\t" \
    "ldr r10, [lr, #" back "]\n\t" \
    "ldr r11, [lr, #36]\n\t" \
    "ldr r12, [sp, #12]\n\t" \
    "add r0, r0, r10\n\t" \
    "add r1, r1, r10\n\t" \
    "add r2, r2, r10\n\t" \
    "sub r3, r3, r11\n\t" \
    "add r12, r12, r9\n\t" \
    "str r12, [sp, #12]\n\t" \
    DW_##H##_BACK(loop)
/* dw_fast_rows' fields as the assembly reads them (byte offsets) */
typedef char dw_fast_rows_phase_layout[offsetof(dw_fast_rows, pair) == 4 && offsetof(dw_fast_rows, last) == 12 &&
                                            offsetof(dw_fast_rows, ring_next) == 16 &&
                                            offsetof(dw_fast_rows, block_next) == 20 &&
                                            offsetof(dw_fast_rows, pair_next) == 24 &&
                                            offsetof(dw_fast_rows, block_back) == 28 &&
                                            offsetof(dw_fast_rows, pair_back) == 32 &&
                                            offsetof(dw_fast_rows, table_bytes) == 36
                                        ? 1
                                        : -1];
/* The phases' control flow (H in DW_NAKED_PHASES; n the phase's label: 1 blocks, 3 pairs, 7 the triple). ONE: a
 * function of one stride, its rows code inline in each phase's loop. BOTH: both strides' rows code, stride 1's
 * inline (DW_BOTH_ROWS), stride 2's after the return (DW_BOTH_TAIL, branching back to the shared output stage), the
 * stride in the carry flag (set for stride 1 by DW_BOTH_STRIDE on entering a phase's loop; no instruction of the
 * rows, the output stage or the moves to the next channel or block writes the flags but the channel loop's TEQ,
 * which keeps the carry): the loop goes to stride 1's rows on HI (carry and not at the table's end), else to stride
 * 2's on NE. A channel's block, pair or triple costs as in one stride's function at stride 1, 4 cycles more at
 * stride 2 (the HI not taken, the branch back); a phase's next block 1 more (2), for one copy of the skeleton. */
#define DW_ONE_SETUP
#define DW_ONE_ENTER(n)
#define DW_ONE_JUMP(n) "b " n "b\n\t"
#define DW_ONE_TEST "cmp r3, r11\n\t"
#define DW_ONE_LOOP(n) "bne " n "b\n\t"
#define DW_ONE_ROW_OF_ONE_DONE(end) /* step 0 */ \
    "ldr r9, [sp]\n\t" \
    "cmp r9, #0\n\t" \
    "beq " end "\n\t"
#define DW_ONE_BACK(n) \
    "ldr r9, [sp, #16]\n\t" \
    "subs r9, r9, #1\n\t" \
    "str r9, [sp, #16]\n\t" \
    DW_ONE_LOOP(n)
#define DW_BOTH_SETUP /* [sp, #24]: 4 stride, the plan's ring_next - pair_next (offsets 16, 24) */ \
    "ldr r10, [r9, #16]\n\t" \
    "ldr r11, [r9, #24]\n\t" \
    "sub r10, r10, r11\n\t" \
    "str r10, [sp, #24]\n\t"
#define DW_BOTH_STRIDE /* carry: stride 1 (bit 2 of 4 stride) */ \
    "ldr r12, [sp, #24]\n\t" \
    "lsrs r12, r12, #3\n\t"
#define DW_BOTH_ENTER(n) DW_BOTH_STRIDE "bcc " n "1f\n\t"
#define DW_BOTH_JUMP(n) DW_BOTH_ENTER(n) "b " n "b\n\t"
#define DW_BOTH_TEST "teq r3, r11\n\t"
#define DW_BOTH_LOOP(n) \
    "bhi " n "b\n\t" \
    "bne " n "1f\n\t"
#define DW_BOTH_ROW_OF_ONE_DONE(end) /* CBNZ: the carry stays */ \
    "ldr r4, [sp]\n\t" \
    "cbnz r4, 8f\n\t" \
    "b " end "\n" \
    "8:\n\t"
#define DW_BOTH_BACK(n) /* SUB, CBZ: the carry stays */ \
    "ldr r4, [sp, #16]\n\t" \
    "sub r4, r4, #1\n\t" \
    "str r4, [sp, #16]\n\t" \
    "cbz r4, 8f\n\t" \
    "bcs " n "b\n\t" \
    "b " n "1f\n" \
    "8:\n\t"
/* Phase n's rows for stride 1 at label n, going on at n0 (the shared output stage); for stride 2 at n1, after the
 * function's return (DW_BOTH_TAIL), branching back to n0. */
#define DW_BOTH_ROWS(n, S1_ROWS) \
    S1_ROWS \
    n "0:\n\t"
#define DW_BOTH_TAIL(n, S2_ROWS) \
    n "1:\n\t" \
    S2_ROWS \
    "b " n "0b\n\t"
/* The pairs' phase (a function for rows of 6k or 6k + 3 outputs only, DW_NO_PAIRS, leaves it out: just its label),
 * and the row of one, which runs in it. */
#define DW_PAIR_PHASE(H, PAIR_ROWS) \
    "2:\n\t" /* pairs */ \
    "ldr lr, [sp, #20]\n\t" \
    "ldr r9, [lr, #4]\n\t" \
    "ldr r10, [lr, #24]\n\t" \
    "cmp r9, #0\n\t" \
    "beq 5f\n\t" \
    "str r9, [sp, #16]\n\t" \
    "str r10, [sp, #4]\n\t" \
    DW_##H##_ENTER("3") \
    "3:\n\t" \
    PAIR_ROWS \
    DW_W_OUT_PARAMS \
    DW_W5_OUT("r4") DW_W5_OUT("r5") \
    "ldm sp, {r9, r10, r11, lr}\n\t" \
    "strb r5, [lr, r9]\n\t" \
    DW_PHASE_NEXT(H, "3") \
    DW_##H##_ROW_OF_ONE_DONE("9f") \
    DW_PHASE_BACK(H, "32", "3") \
    "5:\n\t"
#define DW_ROW_OF_ONE(H) \
    "bgt 6f\n\t" \
    "ldr r10, [lr, #24]\n\t" \
    "mov r9, #0\n\t" \
    "str r9, [sp]\n\t" \
    "str r10, [sp, #4]\n\t" \
    DW_##H##_JUMP("3")
#define DW_NO_PAIRS "2:\n\t"
#define DW_NAKED_PHASES(H, BLOCK_ROWS, PAIR_PHASE, ROW_OF_ONE, TRIPLE_ROWS, TAIL) \
    "push {r4-r11, lr}\n\t" \
    "sub sp, sp, #28\n\t" \
    "ldr r7, [sp, #64]\n\t" \
    "ldr r9, [sp, #68]\n\t" \
    "ldr r4, [r9, #8]\n\t" \
    "ldr r5, [r9, #20]\n\t" \
    "ldr r8, [r9]\n\t" \
    "movs r6, #44\n\t" \
    "mla r6, r4, r6, r3\n\t" \
    "stm sp, {r4-r9}\n\t" \
    DW_##H##_SETUP \
    "cmp r8, #0\n\t" \
    "beq 2f\n\t" \
    DW_##H##_ENTER("1") \
    "1:\n\t" /* blocks of six */ \
    BLOCK_ROWS \
    DW_W_OUT_PARAMS \
    DW_W5_OUT("r4") DW_W5_OUT("r5") DW_W5_OUT("r6") DW_W5_OUT("r7") DW_W5_OUT("r8") DW_W5_OUT("r12") \
    "ldm sp, {r9, r10, r11, lr}\n\t" \
    "strb r5, [lr, r9]\n\t" \
    "add r5, lr, r9, lsl #1\n\t" \
    "strb r6, [r5]\n\t" \
    "strb r7, [r5, r9]\n\t" \
    "add r5, r5, r9, lsl #1\n\t" \
    "strb r8, [r5]\n\t" \
    "strb r12, [r5, r9]\n\t" \
    DW_PHASE_NEXT(H, "1") \
    "ldr r9, [sp]\n\t" \
    "add r9, r9, r9, lsl #2\n\t" /* the output 6 on: 5 steps past where the channels left it */ \
    DW_PHASE_BACK(H, "28", "1") \
    PAIR_PHASE /* the last output or three */ \
    "ldr lr, [sp, #20]\n\t" \
    "ldr r9, [lr, #12]\n\t" \
    "cmp r9, #1\n\t" \
    "blt 9f\n\t" \
    ROW_OF_ONE \
    "6:\n\t" \
    "ldr r10, [lr, #16]\n\t" \
    "str r10, [sp, #4]\n\t" \
    DW_##H##_ENTER("7") \
    "7:\n\t" \
    TRIPLE_ROWS \
    DW_W_OUT_PARAMS \
    DW_W5_OUT("r4") DW_W5_OUT("r5") DW_W5_OUT("r6") \
    "ldm sp, {r9, r10, r11, lr}\n\t" \
    "strb r5, [lr, r9]\n\t" \
    "strb r6, [lr, r9, lsl #1]\n\t" \
    DW_PHASE_NEXT(H, "7") \
    "9:\n\t" \
    "add sp, sp, #28\n\t" \
    "pop {r4-r11, pc}\n\t" \
    TAIL
#define DW_S1_BLOCK_ROWS \
    DW_W5_HEAD0("r0", "mov r12, r4\n\t", "12") DW_W6_REST("r0", "12") \
    DW_W5_HEAD("r1", "-16", "12") DW_W6_REST("r1", "12") \
    DW_W5_HEAD("r2", "-8", "12") DW_W6_REST("r2", "12")
__attribute__((naked)) static void dw_fast_row_s1(const int16_t *r0 DW_ARG, const int16_t *r1 DW_ARG,
                                                  const int16_t *r2 DW_ARG, const dw_channel *ch DW_ARG,
                                                  int8_t *out DW_ARG, const dw_fast_rows *rows DW_ARG) {
    __asm__(DW_NAKED_PHASES(ONE, DW_S1_BLOCK_ROWS, DW_PAIR_PHASE(ONE, DW_S1_PAIR_ROWS), DW_ROW_OF_ONE(ONE),
                            DW_S1_TRIPLE_ROWS, ""));
}
/* Stride 2: output j takes W(j) (w0 w1) and the bottom lane of W(j+1) (w2). A block of six reads words W0..W6 and
 * moves the ring rows 12 values on; its first filter row loads W2..W5 straight into the accumulators of outputs
 * 2..5 (each then starts from the bias: SMLAD over its own word), in the chain of the filter's and the bias's
 * loads; the others, two words at a time into r9 and r10. */
#define DW_S2_BLOCK_ROW(r, offset) \
    DW_W5_LOAD(r, offset, "", "24") \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "smlad r5, r10, r11, r5\n\t" \
    "ldr r9, [" r ", #-16]\n\t" \
    "ldr r10, [" r ", #-12]\n\t" \
    "smlabb r5, r9, lr, r5\n\t" \
    "smlad r6, r9, r11, r6\n\t" \
    "smlabb r6, r10, lr, r6\n\t" \
    "smlad r7, r10, r11, r7\n\t" \
    "ldr r9, [" r ", #-8]\n\t" \
    "ldr r10, [" r ", #-4]\n\t" \
    "smlabb r7, r9, lr, r7\n\t" \
    "smlad r8, r9, r11, r8\n\t" \
    "smlabb r8, r10, lr, r8\n\t" \
    "smlad r12, r10, r11, r12\n\t" \
    "ldr r9, [" r "]\n\t" \
    "smlabb r12, r9, lr, r12\n\t"
#define DW_S2_BLOCK_ROWS \
    DW_W5_LOAD("r0", "20", "ldr r4, [r3], #44\n\t", "24") \
    "ldr r6, [r0, #-16]\n\t" \
    "ldr r7, [r0, #-12]\n\t" \
    "ldr r8, [r0, #-8]\n\t" \
    "ldr r12, [r0, #-4]\n\t" \
    "smlad r5, r10, r11, r4\n\t" \
    "smlabb r5, r6, lr, r5\n\t" \
    "smlad r6, r6, r11, r4\n\t" \
    "smlabb r6, r7, lr, r6\n\t" \
    "smlad r7, r7, r11, r4\n\t" \
    "smlabb r7, r8, lr, r7\n\t" \
    "smlad r8, r8, r11, r4\n\t" \
    "smlabb r8, r12, lr, r8\n\t" \
    "smlad r12, r12, r11, r4\n\t" \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "ldr r9, [r0]\n\t" \
    "smlabb r12, r9, lr, r12\n\t" \
    DW_S2_BLOCK_ROW("r1", "-16") DW_S2_BLOCK_ROW("r2", "-8")
/* A pair: words W0 W1 W2, the ring rows 4 values on. */
#define DW_S2_PAIR_REST(r) \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "ldr r9, [" r "]\n\t" \
    "smlad r5, r10, r11, r5\n\t" \
    "smlabb r5, r9, lr, r5\n\t"
#define DW_S2_PAIR_ROWS \
    DW_W5_LOAD("r0", "20", "ldr r4, [r3], #44\n\t", "8") \
    "smlad r5, r10, r11, r4\n\t" \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "ldr r9, [r0]\n\t" \
    "smlabb r5, r9, lr, r5\n\t" \
    DW_W5_LOAD("r1", "-16", "", "8") DW_S2_PAIR_REST("r1") \
    DW_W5_LOAD("r2", "-8", "", "8") DW_S2_PAIR_REST("r2")
/* Three outputs: words W0..W3, the ring rows stay. */
#define DW_S2_TRIPLE_REST(r) \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "ldr r9, [" r ", #8]\n\t" \
    "smlad r5, r10, r11, r5\n\t" \
    "smlabb r5, r9, lr, r5\n\t" \
    "ldr r10, [" r ", #12]\n\t" \
    "smlad r6, r9, r11, r6\n\t" \
    "smlabb r6, r10, lr, r6\n\t"
#define DW_S2_TRIPLE_ROWS \
    "ldr r10, [r0, #4]\n\t" \
    "ldr r9, [r0]\n\t" \
    "ldr r11, [r3, #20]\n\t" \
    "ldr lr, [r3, #24]\n\t" \
    "ldr r4, [r3], #44\n\t" \
    "ldr r6, [r0, #8]\n\t" \
    "ldr r12, [r0, #12]\n\t" \
    "smlad r5, r10, r11, r4\n\t" \
    "smlabb r5, r6, lr, r5\n\t" \
    "smlad r6, r6, r11, r4\n\t" \
    "smlabb r6, r12, lr, r6\n\t" \
    "smlad r4, r9, r11, r4\n\t" \
    "smlabb r4, r10, lr, r4\n\t" \
    "ldr r10, [r1, #4]\n\t" \
    "ldr r9, [r1]\n\t" \
    "ldr r11, [r3, #-16]\n\t" \
    "ldr lr, [r3, #-12]\n\t" \
    DW_S2_TRIPLE_REST("r1") \
    "ldr r10, [r2, #4]\n\t" \
    "ldr r9, [r2]\n\t" \
    "ldr r11, [r3, #-8]\n\t" \
    "ldr lr, [r3, #-4]\n\t" \
    DW_S2_TRIPLE_REST("r2")
__attribute__((naked)) static void dw_fast_row_s2(const int16_t *r0 DW_ARG, const int16_t *r1 DW_ARG,
                                                  const int16_t *r2 DW_ARG, const dw_channel *ch DW_ARG,
                                                  int8_t *out DW_ARG, const dw_fast_rows *rows DW_ARG) {
    __asm__(DW_NAKED_PHASES(ONE, DW_S2_BLOCK_ROWS, DW_PAIR_PHASE(ONE, DW_S2_PAIR_ROWS), DW_ROW_OF_ONE(ONE),
                            DW_S2_TRIPLE_ROWS, ""));
}
/* Both strides, for a model with fast layers of each: one skeleton (DW_BOTH_*), the stride's rows code. */
__attribute__((naked)) static void dw_fast_row_both(const int16_t *r0 DW_ARG, const int16_t *r1 DW_ARG,
                                                    const int16_t *r2 DW_ARG, const dw_channel *ch DW_ARG,
                                                    int8_t *out DW_ARG, const dw_fast_rows *rows DW_ARG) {
    __asm__(DW_NAKED_PHASES(BOTH, DW_BOTH_ROWS("1", DW_S1_BLOCK_ROWS),
                            DW_PAIR_PHASE(BOTH, DW_BOTH_ROWS("3", DW_S1_PAIR_ROWS)), DW_ROW_OF_ONE(BOTH),
                            DW_BOTH_ROWS("7", DW_S1_TRIPLE_ROWS),
                            DW_BOTH_TAIL("1", DW_S2_BLOCK_ROWS) DW_BOTH_TAIL("3", DW_S2_PAIR_ROWS)
                                DW_BOTH_TAIL("7", DW_S2_TRIPLE_ROWS)));
}
/* The same for rows of 6k or 6k + 3 outputs only (blocks of six and a closing triple: VWW's), without the pairs'
 * phase. */
__attribute__((naked)) static void dw_fast_row_both_no_pairs(const int16_t *r0 DW_ARG, const int16_t *r1 DW_ARG,
                                                             const int16_t *r2 DW_ARG, const dw_channel *ch DW_ARG,
                                                             int8_t *out DW_ARG, const dw_fast_rows *rows DW_ARG) {
    __asm__(DW_NAKED_PHASES(BOTH, DW_BOTH_ROWS("1", DW_S1_BLOCK_ROWS), DW_NO_PAIRS, "",
                            DW_BOTH_ROWS("7", DW_S1_TRIPLE_ROWS),
                            DW_BOTH_TAIL("1", DW_S2_BLOCK_ROWS) DW_BOTH_TAIL("7", DW_S2_TRIPLE_ROWS)));
}
#define DW_FAST_ROW_ANY(p) ((p)->geom.stride_w == 1 ? dw_fast_row_s1 : dw_fast_row_s2)
#define DW_FAST_ROW_W5 dw_fast_row_w5
#define DW_FAST_ROW_LONG dw_fast_row_s1
#define DW_FAST_ROW_S2_LONG dw_fast_row_s2
#define DW_FAST_ROW_BOTH_LONG dw_fast_row_both
#define DW_FAST_ROW_BOTH_NO_PAIRS dw_fast_row_both_no_pairs
#else
typedef int dw_fast_row_fn; /* C: no row function, the rows' plan unused */
#define DW_FAST_ROW_ANY(p) 0
#define DW_FAST_ROW_LONG 0
#define DW_FAST_ROW_W5 0
#define DW_FAST_ROW_S2_LONG 0
#define DW_FAST_ROW_BOTH_LONG 0
#define DW_FAST_ROW_BOTH_NO_PAIRS 0
#endif

/* One output row, all channels: the channels' ring rows `width` values apart, outputs 1 byte apart. */
MCUFORGE_INLINE void dw_dsp_row(const mcuforge_depthwise_conv_params *p, const int16_t *r0, const int16_t *r1,
                                const int16_t *r2, const dw_channel *ch, int32_t width, int32_t stride, int32_t mode,
                                dw_fast_row_fn fast_row, const dw_fast_rows *rows, int8_t *out) {
    const int32_t channels = p->geom.in_c;
    int32_t c;
#if defined(DW_FAST_ROWS_ASM)
    if (mode == MCUFORGE_DSP_FAST) {
        fast_row(r0, r1, r2, ch, out, rows);
        return;
    }
#endif
    (void)fast_row;
    (void)rows;
    for (c = 0; c < channels; ++c) {
        dw_dsp_channel_row(r0, r1, r2, &ch[c], p->geom.out_w, stride, mode, p->output_offset, p->act_min,
                           p->act_max, out + c, (size_t)channels);
        r0 += width;
        r1 += width;
        r2 += width;
    }
}

/* Filter row (w0, w1, w2), taps `tap` bytes apart, as the doubled q15 pairs (w0, w1), (w2, w1). Called three times
 * in a row, not in a loop: the table is built per inference. */
MCUFORGE_INLINE void dw_dsp_fast_pairs(uint32_t *pairs, const int8_t *f, size_t tap) {
    const uint32_t w0 = (uint32_t)(2 * f[0]);
    const uint32_t w1 = (uint32_t)(2 * f[tap]);
    const uint32_t w2 = (uint32_t)(2 * f[2 * tap]);
    pairs[0] = mcuforge_pkhbt(w0, w1);
    pairs[1] = mcuforge_pkhbt(w2, w1);
}

/* The fast stage's channel table in one pass: mcuforge_dsp_channels' entries for MCUFORGE_DSP_FAST (shift s in
 * [1, 22]: round 2^(s-1) + zp 2^s; the correction, unused by the fast stage, -1) with the bias doubled, and the
 * filter pairs doubled (PKHBT packs two taps: (w0, w1), (w2, w1)). Per channel 9 byte loads and about 30 more
 * instructions, where building the entries apart and moving them took about twice as long (per inference). */
static void dw_dsp_fast_table(dw_channel *table, const mcuforge_depthwise_conv_params *p, const int8_t *filter) {
    const size_t tap = (size_t)p->geom.in_c;
    const dw_channel *const end = table + tap;
    const int32_t *bias = p->bias_folded;
    const int32_t *multiplier = p->requant.multiplier;
    const int8_t *shifts = p->requant.shift;
    const size_t k_step = p->requant.per_channel ? 1u : 0u; /* per tensor: element 0 for every channel */
    const int32_t zp_round = 2 * p->output_offset + 1;     /* round = (1 + 2 zp) 2^(s-1) */
    dw_channel *e;
    for (e = table; e != end; ++e) {
        const int32_t shift = -*shifts;
        e->out.bias = (int32_t)((uint32_t)*bias * 2u);
        e->out.multiplier = *multiplier;
        e->out.round = zp_round * (1 << (shift - 1));
        e->out.shift = shift;
        e->out.correction = -1;
        dw_dsp_fast_pairs(e->filter, filter, tap);
        dw_dsp_fast_pairs(e->filter + 2, filter + 3 * tap, tap);
        dw_dsp_fast_pairs(e->filter + 4, filter + 6 * tap, tap);
        ++filter;
        ++bias;
        multiplier += k_step;
        shifts += k_step;
    }
}

MCUFORGE_INLINE void dw_dsp_run(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output, void *scratch, int32_t stride, int32_t mode,
                                dw_fast_row_fn fast_row) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t channels = g->in_c;
    const size_t in_row = (size_t)g->in_w * (size_t)channels;
    dw_channel *table = (dw_channel *)scratch;
    dw_ring ring;
    dw_fast_rows rows;
    size_t slot_values;
    int32_t clean;
    int32_t b;
    int32_t oy;
    int32_t c;
    ring.rows = (int16_t *)(table + channels);
    ring.lead = g->pad_left;
    ring.zero_point = -p->input_offset;
    ring.width = g->in_w + g->pad_left;
    /* The last window's words, up to value (out_w - 1) stride + 3, and an odd row's last output is computed as
     * a pair: up to out_w stride + 1 + stride. */
    if (ring.width < (g->out_w + 1) * g->stride_w + 2) {
        ring.width = (g->out_w + 1) * g->stride_w + 2;
    }
    ring.width += ring.width & 1;
    slot_values = (size_t)channels * (size_t)ring.width;
    {
        /* The fast assembly's row (dw_fast_rows): blocks of six, then up to two pairs, then one output (a row of
         * one) or three (an odd row); a row of five reads only the step. */
        const int32_t last = (g->out_w & 1) == 0 ? 0 : (g->out_w == 1 ? 1 : 3);
        const int32_t row_bytes = 2 * ring.width;
        const uint32_t even = (uint32_t)(g->out_w - last);
        const int32_t block_bytes = 12 * stride;
        rows.blocks = (int32_t)(even / 6u);
        rows.pair = (int32_t)(even % 6u) >> 1;
        rows.step = channels;
        rows.last = last;
        rows.ring_next = row_bytes;
        rows.block_next = row_bytes - block_bytes;
        rows.pair_next = row_bytes - 4 * stride;
        rows.block_back = block_bytes - row_bytes * channels;
        rows.pair_back = 4 * stride - row_bytes * channels;
        rows.table_bytes = (int32_t)sizeof(dw_channel) * channels;
    }
    if (mode == MCUFORGE_DSP_FAST) {
        dw_dsp_fast_table(table, p, filter);
    } else {
        /* The channel table: the output stages are built in the ring's space (free until the first row enters),
         * then moved into each channel's entry next to its filter pairs. */
        mcuforge_dsp_channel *out_stage = (mcuforge_dsp_channel *)(table + channels);
        mcuforge_dsp_channels(out_stage, channels, p->bias_folded, &p->requant, p->output_offset, mode);
        for (c = 0; c < channels; ++c) {
            const int8_t *f = filter + c;
            int32_t ky;
            table[c].out = out_stage[c];
            for (ky = 0; ky < 3; ++ky) {
                const uint32_t w0 = (uint32_t)f[(3 * ky) * channels] & 0xFFFFu;
                const uint32_t w1 = (uint32_t)f[(3 * ky + 1) * channels] & 0xFFFFu;
                const uint32_t w2 = (uint32_t)f[(3 * ky + 2) * channels] & 0xFFFFu;
                table[c].filter[2 * ky] = w0 | w1 << 16;
                table[c].filter[2 * ky + 1] = w2 | w1 << 16;
            }
        }
    }
    /* The zero-point columns around the input: written once (with the rest of the ring), rows only ever
     * overwrite the input columns. */
    dw_dsp_fill(ring.rows, 3 * slot_values, ring.zero_point);
    clean = 7; /* bit k: ring slot k holds only the zero point (a padded row need not be written again) */
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)g->in_h * in_row;
        int32_t next = 0; /* the next padded row (input row + pad_top) to enter the ring */
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t top = oy * g->stride_h; /* padded row of the window's first tap */
            const int16_t *r0;
            const int16_t *r1;
            const int16_t *r2;
            int32_t first;
            if (next < top) {
                next = top;
            }
            for (; next < top + 3; ++next) {
                const int32_t y = next - g->pad_top;
                const int32_t slot = next % 3;
                if (y >= 0 && y < g->in_h) {
                    dw_dsp_load_row(p, &ring, image + (size_t)y * in_row, slot);
                    clean &= ~(1 << slot);
                } else if ((clean >> slot & 1) == 0) { /* a padded row: the zero point, unless it is there */
                    dw_dsp_fill(ring.rows + (size_t)slot * slot_values, slot_values, ring.zero_point);
                    clean |= 1 << slot;
                }
            }
            first = top % 3; /* the window's rows: slots first, first + 1 and first + 2, modulo 3 */
            r0 = ring.rows + (size_t)first * slot_values;
            r1 = ring.rows + (size_t)(first == 2 ? 0 : first + 1) * slot_values;
            r2 = ring.rows + (size_t)(first == 0 ? 2 : first - 1) * slot_values;
            dw_dsp_row(p, r0, r1, r2, table, ring.width, stride, mode, fast_row, &rows, output);
            output += (size_t)g->out_w * (size_t)channels;
        }
    }
}

#if defined(DW_FAST_ROWS_ASM)
/* The fast stage in assembly takes the stride at run time: one copy of the layer loop for every fast entry. */
static void dw_dsp_fast(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                        int8_t *output, void *scratch, dw_fast_row_fn fast_row) {
    dw_dsp_run(p, input, filter, output, scratch, p->geom.stride_w, MCUFORGE_DSP_FAST, fast_row);
}
#define DW_FAST_RUNTIME_STRIDE 1
#else
#define DW_FAST_RUNTIME_STRIDE 0
#define dw_dsp_fast(p, input, filter, output, scratch, fast_row) ((void)(fast_row))
#endif

static void dw_dsp(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                   int8_t *output, void *scratch) {
    const int32_t mode = mcuforge_dsp_mode(p->dsp_requant, p->act_min, p->act_max);
    /* Literal strides (the emitter allows 1 and 2) and, for the usual fast stage, a literal mode; the other
     * stages branch per output. */
    if (mode == MCUFORGE_DSP_FAST && DW_FAST_RUNTIME_STRIDE) {
        dw_dsp_fast(p, input, filter, output, scratch, DW_FAST_ROW_ANY(p));
    } else if (p->geom.stride_w == 1 && mode == MCUFORGE_DSP_FAST) {
        dw_dsp_run(p, input, filter, output, scratch, 1, MCUFORGE_DSP_FAST, DW_FAST_ROW_ANY(p));
    } else if (p->geom.stride_w == 1) {
        dw_dsp_run(p, input, filter, output, scratch, 1, mode, DW_FAST_ROW_ANY(p));
    } else if (mode == MCUFORGE_DSP_FAST) {
        dw_dsp_run(p, input, filter, output, scratch, 2, MCUFORGE_DSP_FAST, DW_FAST_ROW_ANY(p));
    } else {
        dw_dsp_run(p, input, filter, output, scratch, 2, mode, DW_FAST_ROW_ANY(p));
    }
}
#endif

void mcuforge_depthwise_conv_s8(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                                const int32_t *bias, int8_t *output, void *scratch) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t item = (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c;
    dw_window win;
    int32_t b;
    int32_t oy;
    int32_t ox;
#if defined(DW_DSP)
    if (p->dsp_requant) {
        dw_dsp(p, input, filter, output, scratch);
        return;
    }
#endif
    (void)scratch;
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

/* A layer whose DSP variant takes the fast output stage (the emitter checks: folded requantization, clamp
 * [-128, 127]) or the wide one (general requantization, clamp [-128, 127]): on a core with the DSP extension only
 * that variant is compiled in, elsewhere only the portable code, so the linker (--gc-sections) keeps neither the
 * other stages nor the unused path. */
#if defined(DW_DSP)
#define DW_ENTRY(suffix, mode, fast_row) \
    void mcuforge_depthwise_conv_s8##suffix(const mcuforge_depthwise_conv_params *p, const int8_t *input, \
                                            const int8_t *filter, const int32_t *bias, int8_t *output, \
                                            void *scratch) { \
        (void)bias; \
        if ((mode) == MCUFORGE_DSP_FAST && DW_FAST_RUNTIME_STRIDE) { \
            dw_dsp_fast(p, input, filter, output, scratch, fast_row); \
        } else if (p->geom.stride_w == 1) { \
            dw_dsp_run(p, input, filter, output, scratch, 1, mode, fast_row); \
        } else { \
            dw_dsp_run(p, input, filter, output, scratch, 2, mode, fast_row); \
        } \
    }
#else
#define DW_ENTRY(suffix, mode, fast_row) \
    void mcuforge_depthwise_conv_s8##suffix(const mcuforge_depthwise_conv_params *p, const int8_t *input, \
                                            const int8_t *filter, const int32_t *bias, int8_t *output, \
                                            void *scratch) { \
        mcuforge_depthwise_conv_s8(p, input, filter, bias, output, scratch); \
    }
#endif
DW_ENTRY(_fast_long, MCUFORGE_DSP_FAST, DW_FAST_ROW_LONG)
DW_ENTRY(_fast_w5, MCUFORGE_DSP_FAST, DW_FAST_ROW_W5)
DW_ENTRY(_fast_s2_long, MCUFORGE_DSP_FAST, DW_FAST_ROW_S2_LONG)
DW_ENTRY(_fast_both_long, MCUFORGE_DSP_FAST, DW_FAST_ROW_BOTH_LONG)
DW_ENTRY(_fast_both_no_pairs, MCUFORGE_DSP_FAST, DW_FAST_ROW_BOTH_NO_PAIRS)
DW_ENTRY(_wide, MCUFORGE_DSP_WIDE, 0) /* no row function: the wide stage runs in C */
