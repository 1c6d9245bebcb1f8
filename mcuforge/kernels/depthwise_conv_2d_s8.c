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
 * Scratch: the channel table, the filter pairs (6 words a channel), then the ring. */
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

/* Input row `row` (NULL: a padded row) into ring slot `slot`; a padded row takes the zero point throughout. */
static void dw_dsp_load_row(const mcuforge_depthwise_conv_params *p, const dw_ring *ring, const int8_t *row,
                            int32_t slot) {
    const int32_t channels = p->geom.in_c;
    const int32_t in_w = p->geom.in_w;
    int16_t *dst = ring->rows + (size_t)slot * (size_t)channels * (size_t)ring->width + ring->lead;
    const size_t width = (size_t)ring->width;
    int32_t x = ring->lead & 1; /* pixel pairs land on even indices: word stores */
    int32_t c;
    if (row == NULL) {
        for (c = 0; c < channels; ++c) {
            int32_t i;
            for (i = 0; i < in_w; ++i) {
                dst[(size_t)c * width + (size_t)i] = (int16_t)ring->zero_point;
            }
        }
        return;
    }
    if (x == 1) {
        for (c = 0; c < channels; ++c) {
            dst[(size_t)c * width] = row[c];
        }
    }
    for (; x + 1 < in_w; x += 2) {
        const int8_t *a = row + (size_t)x * (size_t)channels;
        const int8_t *b = a + channels;
        int16_t *d = dst + x;
        for (c = 0; c + 4 <= channels; c += 4) {
            const uint32_t pa = mcuforge_read_s8x4(a + c);
            const uint32_t pb = mcuforge_read_s8x4(b + c);
            const uint32_t a02 = mcuforge_sxtb16(pa);
            const uint32_t b02 = mcuforge_sxtb16(pb);
            const uint32_t a13 = mcuforge_sxtb16_ror8(pa);
            const uint32_t b13 = mcuforge_sxtb16_ror8(pb);
            dw_put2(d, mcuforge_pkhbt(a02, b02));
            dw_put2(d + width, mcuforge_pkhbt(a13, b13));
            dw_put2(d + 2 * width, mcuforge_pkhtb(b02, a02));
            dw_put2(d + 3 * width, mcuforge_pkhtb(b13, a13));
            d += 4 * width;
        }
        for (; c < channels; ++c) {
            d[0] = a[c];
            d[1] = b[c];
            d += width;
        }
    }
    if (x < in_w) {
        for (c = 0; c < channels; ++c) {
            dst[(size_t)c * width + (size_t)x] = row[(size_t)x * (size_t)channels + (size_t)c];
        }
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

#if defined(MCUFORGE_DSP_ASM) && defined(__OPTIMIZE__)
/* A whole channel row in assembly for the fast output stage (dsp_s8.h): pairs of outputs, an odd row closing
 * with three at once (a row of one: computed as a pair, the ring has the columns, and stored alone). 13
 * registers; the odd flag is a
 * memory operand, which GCC -O0 cannot address without a 14th register: it takes the C below. (Four outputs
 * at a time save loads on long rows but, as a second statement, cost more than that on short ones.) */
#define DW_ASM_FAST_OUT(acc) \
    "lsl %[" acc "], %[" acc "], #1\n\t" \
    "smmulr %[" acc "], %[" acc "], %[xa]\n\t" \
    "add %[" acc "], %[" acc "], %[" acc "], asr #31\n\t" \
    "add %[" acc "], %[" acc "], %[xb]\n\t" \
    "asr %[" acc "], %[" acc "], %[wa]\n\t" \
    "ssat %[" acc "], #8, %[" acc "]\n\t"
#define DW_ASM_PAIR_OUT(ROW) \
    "ldr %[a0], [%[ch]]\n\t" \
    "mov %[a1], %[a0]\n\t" \
    ROW("r0", "20") ROW("r1", "28") ROW("r2", "36") \
    "ldrd %[xa], %[xb], [%[ch], #4]\n\t" \
    "ldr %[wa], [%[ch], #12]\n\t" \
    DW_ASM_FAST_OUT("a0")
/* Three outputs (the last three of an odd row: a pair and a lone output would cost a pair more), all three filter
 * rows; the pair count `n` is spent by then and holds the third accumulator. Words W0 W1 (then W2, W3) of a ring
 * row from the first output's first tap. Stride 1: outputs 0 and 1 as a pair, output 2 takes W1 and the bottom
 * lane of W2. Stride 2: output j takes W(j) and the bottom lane of W(j+1). */
#define DW_ASM_TRIPLE_ROW_S1(r, offset) \
    "ldrd %[xa], %[xb], [%[" r "]]\n\t" \
    "ldrd %[wa], %[wb], [%[ch], #" offset "]\n\t" \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t" \
    "smlabb %[a0], %[xb], %[wb], %[a0]\n\t" \
    "smlatb %[a1], %[xa], %[wa], %[a1]\n\t" \
    "smladx %[a1], %[xb], %[wb], %[a1]\n\t" \
    "ldr %[xa], [%[" r "], #8]\n\t" \
    "smlad %[n], %[xb], %[wa], %[n]\n\t" \
    "smlabb %[n], %[xa], %[wb], %[n]\n\t"
#define DW_ASM_TRIPLE_ROW_S2(r, offset) \
    "ldrd %[xa], %[xb], [%[" r "]]\n\t" \
    "ldrd %[wa], %[wb], [%[ch], #" offset "]\n\t" \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t" \
    "smlabb %[a0], %[xb], %[wb], %[a0]\n\t" \
    "ldr %[xa], [%[" r "], #8]\n\t" \
    "smlad %[a1], %[xb], %[wa], %[a1]\n\t" \
    "smlabb %[a1], %[xa], %[wb], %[a1]\n\t" \
    "ldr %[xb], [%[" r "], #12]\n\t" \
    "smlad %[n], %[xa], %[wa], %[n]\n\t" \
    "smlabb %[n], %[xb], %[wb], %[n]\n\t"
/* `odd` (a memory operand): 0 when the pairs cover the row, 1 for one output after them (a row of one: computed
 * as a pair, stored alone), 3 for a closing triple. */
#define DW_ASM_FAST_ROW(ROW, TRIPLE_ROW) \
    "cmp %[n], #0\n\t" \
    "beq 2f\n" \
    "1:\n\t" \
    DW_ASM_PAIR_OUT(ROW) \
    DW_ASM_FAST_OUT("a1") \
    "strb %[a0], [%[out]]\n\t" \
    "strb %[a1], [%[out], %[step]]\n\t" \
    "add %[out], %[out], %[step], lsl #1\n\t" \
    "subs %[n], %[n], #1\n\t" \
    "bne 1b\n" \
    "2:\n\t" \
    "ldr %[xa], %[odd]\n\t" \
    "cmp %[xa], #1\n\t" \
    "blt 3f\n\t" \
    "bgt 4f\n\t" \
    DW_ASM_PAIR_OUT(ROW) \
    "strb %[a0], [%[out]]\n\t" \
    "b 3f\n" \
    "4:\n\t" \
    "ldr %[a0], [%[ch]]\n\t" \
    "mov %[a1], %[a0]\n\t" \
    "mov %[n], %[a0]\n\t" \
    TRIPLE_ROW("r0", "20") TRIPLE_ROW("r1", "28") TRIPLE_ROW("r2", "36") \
    "ldrd %[xa], %[xb], [%[ch], #4]\n\t" \
    "ldr %[wa], [%[ch], #12]\n\t" \
    DW_ASM_FAST_OUT("a0") DW_ASM_FAST_OUT("a1") DW_ASM_FAST_OUT("n") \
    "strb %[a0], [%[out]]\n\t" \
    "strb %[a1], [%[out], %[step]]\n\t" \
    "strb %[n], [%[out], %[step], lsl #1]\n" \
    "3:"
#define DW_ASM_FAST_OPERANDS \
    [a0] "=&r"(a0), [a1] "=&r"(a1), [xa] "=&r"(xa_), [xb] "=&r"(xb_), [wa] "=&r"(wa_), [wb] "=&r"(wb_), \
    [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2), [out] "+r"(out), [n] "+r"(n) \
    : [ch] "r"(ch), [step] "r"(step), [odd] "m"(odd) \
    : "cc", "memory"
#define DW_FAST_ROW_ASM 1
#endif

/* One output row of one channel: r0..r2 are the channel's three ring rows from the first output's first tap,
 * outputs `step` bytes apart. */
MCUFORGE_INLINE void dw_dsp_channel_row(const int16_t *r0, const int16_t *r1, const int16_t *r2, const dw_channel *ch,
                                        int32_t out_w, int32_t stride, int32_t mode, int32_t zp, int32_t lo,
                                        int32_t hi, int8_t *out, size_t step) {
    const mcuforge_dsp_channel q = ch->out; /* a copy: the int8 stores could alias the table */
    const int8_t *end = out + (size_t)(out_w - 1) * step;
    const uint32_t *w = ch->filter;
    int32_t a0;
    int32_t a1;
#if defined(DW_FAST_ROW_ASM)
    if (mode == MCUFORGE_DSP_FAST) {
        const int32_t odd = (out_w & 1) == 0 ? 0 : (out_w == 1 ? 1 : 3);
        int32_t n = (out_w - odd) >> 1;
        uint32_t xa_;
        uint32_t xb_;
        uint32_t wa_;
        uint32_t wb_;
        if (stride == 1) {
            __asm__ volatile(DW_ASM_FAST_ROW(DW_ASM_ROW_S1, DW_ASM_TRIPLE_ROW_S1) : DW_ASM_FAST_OPERANDS);
        } else {
            __asm__ volatile(DW_ASM_FAST_ROW(DW_ASM_ROW_S2, DW_ASM_TRIPLE_ROW_S2) : DW_ASM_FAST_OPERANDS);
        }
        return;
    }
#endif
    for (; out < end; out += 2 * step) {
        DW_DSP_PAIR(ch, stride, r0, r1, r2, a0, a1);
        out[0] = mcuforge_dsp_output(&q, a0, mode, zp, lo, hi);
        out[step] = mcuforge_dsp_output(&q, a1, mode, zp, lo, hi);
    }
    if (out == end) {
        a0 = q.bias;
        a1 = 0;
        DW_DSP_ROW(r0, w[0], w[1], stride, 0, a0, a1);
        DW_DSP_ROW(r1, w[2], w[3], stride, 0, a0, a1);
        DW_DSP_ROW(r2, w[4], w[5], stride, 0, a0, a1);
        out[0] = mcuforge_dsp_output(&q, a0, mode, zp, lo, hi);
        (void)a1;
    }
}

MCUFORGE_INLINE void dw_dsp_run(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                                int8_t *output, void *scratch, int32_t stride, int32_t mode) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t channels = g->in_c;
    const size_t in_row = (size_t)g->in_w * (size_t)channels;
    dw_channel *table = (dw_channel *)scratch;
    mcuforge_dsp_channel *out_stage = (mcuforge_dsp_channel *)(table + channels); /* in the ring's space */
    dw_ring ring;
    size_t slot_values;
    int32_t b;
    int32_t oy;
    int32_t c;
    int32_t i;
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
    /* The channel table: the output stages are built in the ring's space (free until the first row enters),
     * then moved into each channel's entry next to its filter pairs. */
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
    /* The zero-point columns around the input: written once, rows only ever overwrite the input columns. */
    for (i = 0; i < 3 * channels; ++i) {
        int16_t *r = ring.rows + (size_t)i * (size_t)ring.width;
        int32_t k;
        for (k = 0; k < ring.lead; ++k) {
            r[k] = (int16_t)ring.zero_point;
        }
        for (k = ring.lead + g->in_w; k < ring.width; ++k) {
            r[k] = (int16_t)ring.zero_point;
        }
    }
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)g->in_h * in_row;
        int32_t next = 0; /* the next padded row (input row + pad_top) to enter the ring */
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t top = oy * g->stride_h; /* padded row of the window's first tap */
            const int16_t *r0;
            const int16_t *r1;
            const int16_t *r2;
            if (next < top) {
                next = top;
            }
            for (; next < top + 3; ++next) {
                const int32_t y = next - g->pad_top;
                dw_dsp_load_row(p, &ring, y >= 0 && y < g->in_h ? image + (size_t)y * in_row : NULL, next % 3);
            }
            r0 = ring.rows + (size_t)(top % 3) * slot_values;
            r1 = ring.rows + (size_t)((top + 1) % 3) * slot_values;
            r2 = ring.rows + (size_t)((top + 2) % 3) * slot_values;
            for (c = 0; c < channels; ++c) {
                dw_dsp_channel_row(r0, r1, r2, &table[c], g->out_w, stride, mode, p->output_offset, p->act_min,
                                   p->act_max, output + c, (size_t)channels);
                r0 += ring.width;
                r1 += ring.width;
                r2 += ring.width;
            }
            output += (size_t)g->out_w * (size_t)channels;
        }
    }
}

static void dw_dsp(const mcuforge_depthwise_conv_params *p, const int8_t *input, const int8_t *filter,
                   int8_t *output, void *scratch) {
    const int32_t mode = mcuforge_dsp_mode(p->dsp_requant, p->act_min, p->act_max);
    /* Literal strides (the emitter allows 1 and 2) and, for the usual fast stage, a literal mode; the other
     * stages branch per output. */
    if (p->geom.stride_w == 1 && mode == MCUFORGE_DSP_FAST) {
        dw_dsp_run(p, input, filter, output, scratch, 1, MCUFORGE_DSP_FAST);
    } else if (p->geom.stride_w == 1) {
        dw_dsp_run(p, input, filter, output, scratch, 1, mode);
    } else if (mode == MCUFORGE_DSP_FAST) {
        dw_dsp_run(p, input, filter, output, scratch, 2, MCUFORGE_DSP_FAST);
    } else {
        dw_dsp_run(p, input, filter, output, scratch, 2, mode);
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
#define DW_ENTRY(suffix, mode) \
    void mcuforge_depthwise_conv_s8##suffix(const mcuforge_depthwise_conv_params *p, const int8_t *input, \
                                            const int8_t *filter, const int32_t *bias, int8_t *output, \
                                            void *scratch) { \
        (void)bias; \
        if (p->geom.stride_w == 1) { \
            dw_dsp_run(p, input, filter, output, scratch, 1, mode); \
        } else { \
            dw_dsp_run(p, input, filter, output, scratch, 2, mode); \
        } \
    }
#else
#define DW_ENTRY(suffix, mode) \
    void mcuforge_depthwise_conv_s8##suffix(const mcuforge_depthwise_conv_params *p, const int8_t *input, \
                                            const int8_t *filter, const int32_t *bias, int8_t *output, \
                                            void *scratch) { \
        mcuforge_depthwise_conv_s8(p, input, filter, bias, output, scratch); \
    }
#endif
DW_ENTRY(_fast, MCUFORGE_DSP_FAST)
DW_ENTRY(_wide, MCUFORGE_DSP_WIDE)
