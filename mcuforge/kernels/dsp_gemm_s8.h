/* The conv kernel's DSP matrix product: two pixels' input windows, widened to q15 pairs (dsp_s8.h), against the
 * int8 filter rows in place, two pixels by two filters, SMLAD by SMLAD. */
#ifndef MCUFORGE_DSP_GEMM_S8_H
#define MCUFORGE_DSP_GEMM_S8_H

#include "dsp_s8.h"

/* A block of two q15-pair columns (two pixels' input windows, widened), interleaved by groups of four values:
 * words 4g, 4g+1 hold column 0's values 4g..4g+3 as (v0, v2), (v1, v3); words 4g+2, 4g+3 column 1's. One LDM
 * then fetches a group of both columns. A block of k values takes 4 * ceil(k / 4) words. */
#define MCUFORGE_DSP_BLOCK_WORDS(k) (4 * (((size_t)(k) + 3) / 4))

#if defined(MCUFORGE_DSP)

/* Widens n values into column `column` from value `k0` (a multiple of 4); a partial last group is zero-padded. */
void mcuforge_dsp_widen(uint32_t *block, int32_t column, int32_t k0, const int8_t *src, int32_t n);

/* Both columns from 2n consecutive values (two pixels of n values each, n > 0). */
MCUFORGE_INLINE void mcuforge_dsp_widen_pair(uint32_t *block, const int8_t *src, int32_t n) {
    const int8_t *next = src + n;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t a = mcuforge_read_s8x4(src + i);
        const uint32_t b = mcuforge_read_s8x4(next + i);
        block[0] = mcuforge_sxtb16(a);
        block[1] = mcuforge_sxtb16_ror8(a);
        block[2] = mcuforge_sxtb16(b);
        block[3] = mcuforge_sxtb16_ror8(b);
        block += 4;
    }
    if (i < n) {
        const uint32_t a = mcuforge_read_s8_partial(src + i, n - i);
        const uint32_t b = mcuforge_read_s8_partial(next + i, n - i);
        block[0] = mcuforge_sxtb16(a);
        block[1] = mcuforge_sxtb16_ror8(a);
        block[2] = mcuforge_sxtb16(b);
        block[3] = mcuforge_sxtb16_ror8(b);
    }
}

/* Writes `value` into n values of column `column` from value `k0` (both multiples of 4). */
void mcuforge_dsp_fill(uint32_t *block, int32_t column, int32_t k0, int32_t n, int32_t value);

/* One group of four values of both columns times four weights of two filters (the words wva, wvb). */
#define MCUFORGE_DSP_GROUP_2X2(block, wva, wvb, pixels, aa, ab, ba, bb) do { \
        const uint32_t x02_ = (block)[0]; \
        const uint32_t x13_ = (block)[1]; \
        const uint32_t a02_ = mcuforge_sxtb16(wva); \
        const uint32_t a13_ = mcuforge_sxtb16_ror8(wva); \
        const uint32_t b02_ = mcuforge_sxtb16(wvb); \
        const uint32_t b13_ = mcuforge_sxtb16_ror8(wvb); \
        aa = mcuforge_smlad(x02_, a02_, aa); \
        aa = mcuforge_smlad(x13_, a13_, aa); \
        ab = mcuforge_smlad(x02_, b02_, ab); \
        ab = mcuforge_smlad(x13_, b13_, ab); \
        if ((pixels) == 2) { \
            const uint32_t y02_ = (block)[2]; \
            const uint32_t y13_ = (block)[3]; \
            ba = mcuforge_smlad(y02_, a02_, ba); \
            ba = mcuforge_smlad(y13_, a13_, ba); \
            bb = mcuforge_smlad(y02_, b02_, bb); \
            bb = mcuforge_smlad(y13_, b13_, bb); \
        } \
    } while (0)

#if !defined(MCUFORGE_DSP_ASM)
/* The same, advancing the block and both filter pointers past the group. */
#define MCUFORGE_DSP_STEP_2X2(block, wa, wb, pixels, aa, ab, ba, bb) do { \
        MCUFORGE_DSP_GROUP_2X2(block, mcuforge_read_s8x4(wa), mcuforge_read_s8x4(wb), pixels, aa, ab, ba, bb); \
        (block) += 4; \
        (wa) += 4; \
        (wb) += 4; \
    } while (0)

#else
/* In assembly: compiled from C, the four accumulators, three pointers, four block words and the weights do
 * not fit in the registers and GCC spills. The block words go to r8-r11 (LDM fills registers in ascending
 * order): nine register operands, 13 registers, which even -O0 (frame pointer kept) leaves free. */
#define MCUFORGE_DSP_ASM_2X2_GROUP \
    "ldm %[blk]!, {r8, r9, r10, r11}\n\t" \
    "ldr %[wv], [%[wa]], #4\n\t" \
    "sxtb16 %[t], %[wv]\n\t" \
    "sxtb16 %[wv], %[wv], ror #8\n\t" \
    "smlad %[aa], r8, %[t], %[aa]\n\t" \
    "smlad %[ba], r10, %[t], %[ba]\n\t" \
    "smlad %[aa], r9, %[wv], %[aa]\n\t" \
    "smlad %[ba], r11, %[wv], %[ba]\n\t" \
    "ldr %[wv], [%[wb]], #4\n\t" \
    "sxtb16 %[t], %[wv]\n\t" \
    "sxtb16 %[wv], %[wv], ror #8\n\t" \
    "smlad %[ab], r8, %[t], %[ab]\n\t" \
    "smlad %[bb], r10, %[t], %[bb]\n\t" \
    "smlad %[ab], r9, %[wv], %[ab]\n\t" \
    "smlad %[bb], r11, %[wv], %[bb]\n\t"
#define MCUFORGE_DSP_ASM_1X2_GROUP \
    "ldrd r8, r9, [%[blk]], #16\n\t" \
    "ldr %[wv], [%[wa]], #4\n\t" \
    "sxtb16 %[t], %[wv]\n\t" \
    "sxtb16 %[wv], %[wv], ror #8\n\t" \
    "smlad %[aa], r8, %[t], %[aa]\n\t" \
    "smlad %[aa], r9, %[wv], %[aa]\n\t" \
    "ldr %[wv], [%[wb]], #4\n\t" \
    "sxtb16 %[t], %[wv]\n\t" \
    "sxtb16 %[wv], %[wv], ror #8\n\t" \
    "smlad %[ab], r8, %[t], %[ab]\n\t" \
    "smlad %[ab], r9, %[wv], %[ab]\n\t"
#define MCUFORGE_DSP_ASM_OPERANDS \
    [aa] "+r"(aa), [ab] "+r"(ab), [ba] "+r"(ba), [bb] "+r"(bb), [blk] "+r"(block), [wa] "+r"(wa), \
    [wb] "+r"(wb), [wv] "=&r"(wv_), [t] "=&r"(t_)

#define MCUFORGE_DSP_STEP_2X2(block, wa, wb, pixels, aa, ab, ba, bb) do { \
        uint32_t wv_; \
        uint32_t t_; \
        if ((pixels) == 2) { \
            __asm__(MCUFORGE_DSP_ASM_2X2_GROUP : MCUFORGE_DSP_ASM_OPERANDS : : "r8", "r9", "r10", "r11", "memory"); \
        } else { \
            __asm__(MCUFORGE_DSP_ASM_1X2_GROUP : MCUFORGE_DSP_ASM_OPERANDS : : "r8", "r9", "memory"); \
        } \
    } while (0)

#endif

/* acc[0..3] += (column 0 . wa, column 0 . wb, column 1 . wa, column 1 . wb) over k values; with pixels == 1
 * column 1 is ignored. Filter rows are read in place (int8, any alignment), never past value k. */
MCUFORGE_INLINE void mcuforge_dsp_dot_2x2(const uint32_t *block, const int8_t *wa, const int8_t *wb, int32_t k,
                                          int32_t pixels, int32_t *acc) {
    int32_t aa = acc[0];
    int32_t ab = acc[1];
    int32_t ba = acc[2];
    int32_t bb = acc[3];
    int32_t groups = k >> 2;
    /* Four groups per iteration: the loop's compare and branch amortized over 64 MACs. */
    for (; groups >= 4; groups -= 4) {
        MCUFORGE_DSP_STEP_2X2(block, wa, wb, pixels, aa, ab, ba, bb);
        MCUFORGE_DSP_STEP_2X2(block, wa, wb, pixels, aa, ab, ba, bb);
        MCUFORGE_DSP_STEP_2X2(block, wa, wb, pixels, aa, ab, ba, bb);
        MCUFORGE_DSP_STEP_2X2(block, wa, wb, pixels, aa, ab, ba, bb);
    }
    for (; groups > 0; --groups) {
        MCUFORGE_DSP_STEP_2X2(block, wa, wb, pixels, aa, ab, ba, bb);
    }
    if (k & 3) { /* the block's padding is zero; the weights stop at k */
        MCUFORGE_DSP_GROUP_2X2(block, mcuforge_read_s8_partial(wa, k & 3), mcuforge_read_s8_partial(wb, k & 3),
                               pixels, aa, ab, ba, bb);
    }
    acc[0] = aa;
    acc[1] = ab;
    acc[2] = ba;
    acc[3] = bb;
}

/* The pairs of filters of a layer over a block of two pixels: for pair j (filters 2j, 2j+1, rows of k values
 * from `filter`, channel entries from `table`), the four outputs at out[2j], out[2j+1] and out_c further; `mode`
 * a literal (the output stage). Weights are read in whole groups of four: when k is not a multiple of 4, a row's
 * last group runs `overshoot` bytes into the next row, multiplied by the block's zero padding, so the caller
 * leaves out a pair whose second row is the layer's last. */
typedef struct {
    const uint32_t *block;
    const uint32_t *single_end; /* the groups before it go one at a time: (k / 4) % 4 of them */
    const uint32_t *end;        /* the block's end: the rest go four at a time */
    const mcuforge_dsp_channel *table;
    int8_t *out;
    int32_t out_c;
    int32_t k;
    int32_t overshoot; /* 4 ceil(k / 4) - k */
    int32_t pairs;
    int32_t zero_point;
    int32_t act_min;
    int32_t act_max;
} mcuforge_dsp_pairs_job;

#if defined(MCUFORGE_DSP_ASM) && defined(__OPTIMIZE__)
/* In assembly, loops and all: GCC spills around the group assembly and reloads the channel entries after each
 * int8 store (it may alias them), an overhead that weighs as much as the multiplies when k is small. The
 * statement keeps to 13 registers (the accumulators, the block and filter pointers, two temporaries, r8-r11)
 * and LR, which holds the block's end (optimized builds save LR in the prologue and use it freely);
 * the job's fields are memory operands on the stack (GCC -O0 cannot address them without a 14th register: it
 * takes the C below). The output stage works on the accumulators in place. */
#define MCUFORGE_DSP_ASM_REQUANT(acc) \
    "lsl %[" acc "], %[" acc "], #1\n\t" \
    "smmulr %[" acc "], %[" acc "], r8\n\t"
#define MCUFORGE_DSP_ASM_FAST(acc) \
    MCUFORGE_DSP_ASM_REQUANT(acc) \
    "add %[" acc "], %[" acc "], %[" acc "], asr #31\n\t" \
    "add %[" acc "], %[" acc "], r9\n\t" \
    "asr %[" acc "], %[" acc "], r10\n\t" \
    "ssat %[" acc "], #8, %[" acc "]\n\t"
#define MCUFORGE_DSP_ASM_GENERAL(acc) \
    MCUFORGE_DSP_ASM_REQUANT(acc) \
    "and %[wv], r11, %[" acc "], asr #31\n\t" \
    "add %[" acc "], %[" acc "], %[wv]\n\t" \
    "add %[" acc "], %[" acc "], r9\n\t" \
    "asr %[" acc "], %[" acc "], r10\n\t" \
    "add %[" acc "], %[" acc "], %[wa]\n\t"
#define MCUFORGE_DSP_ASM_WIDE(acc) \
    MCUFORGE_DSP_ASM_GENERAL(acc) \
    "ssat %[" acc "], #8, %[" acc "]\n\t"
#define MCUFORGE_DSP_ASM_CLAMP(acc) \
    MCUFORGE_DSP_ASM_GENERAL(acc) \
    "ldr %[t], %[lo]\n\t" \
    "cmp %[" acc "], %[t]\n\t" \
    "it lt\n\t" \
    "movlt %[" acc "], %[t]\n\t" \
    "ldr %[t], %[hi]\n\t" \
    "cmp %[" acc "], %[t]\n\t" \
    "it gt\n\t" \
    "movgt %[" acc "], %[t]\n\t"
/* Channel a's entry at [blk], b's at [blk, #20]: bias, multiplier, round, shift, correction. */
#define MCUFORGE_DSP_ASM_EPILOGUE(STAGE) \
    "ldr %[blk], %[table]\n\t" \
    "ldr %[wa], %[zp]\n\t" \
    "ldrd r8, r9, [%[blk], #4]\n\t" \
    "ldrd r10, r11, [%[blk], #12]\n\t" \
    STAGE("aa") STAGE("ba") \
    "ldrd r8, r9, [%[blk], #24]\n\t" \
    "ldrd r10, r11, [%[blk], #32]\n\t" \
    STAGE("ab") STAGE("bb") \
    "add %[blk], %[blk], #40\n\t" \
    "str %[blk], %[table]\n\t" \
    "ldr %[t], %[out]\n\t" \
    "ldr %[wv], %[out_c]\n\t" \
    "strb %[aa], [%[t]]\n\t" \
    "strb %[ab], [%[t], #1]\n\t" \
    "strb %[ba], [%[t], %[wv]]\n\t" \
    "add %[t], %[t], #1\n\t" \
    "strb %[bb], [%[t], %[wv]]\n\t" \
    "add %[t], %[t], #1\n\t" \
    "str %[t], %[out]\n\t"
#define MCUFORGE_DSP_ASM_PAIRS(STAGE) \
    "ldr lr, %[end]\n\t" \
    "ldr %[wa], %[filter]\n\t" \
    "ldr %[t], %[k]\n\t" \
    "add %[wb], %[wa], %[t]\n" \
    "1:\n\t" \
    "ldr %[blk], %[table]\n\t" \
    "ldr %[aa], [%[blk]]\n\t" \
    "ldr %[ab], [%[blk], #20]\n\t" \
    "mov %[ba], %[aa]\n\t" \
    "mov %[bb], %[ab]\n\t" \
    "ldr %[blk], %[block]\n\t" \
    "ldr %[t], %[single_end]\n\t" \
    "cmp %[blk], %[t]\n\t" \
    "beq 3f\n" \
    "2:\n\t" \
    MCUFORGE_DSP_ASM_2X2_GROUP \
    "ldr %[t], %[single_end]\n\t" \
    "cmp %[blk], %[t]\n\t" \
    "bne 2b\n" \
    "3:\n\t" \
    "cmp %[blk], lr\n\t" \
    "beq 5f\n" \
    "4:\n\t" \
    MCUFORGE_DSP_ASM_2X2_GROUP MCUFORGE_DSP_ASM_2X2_GROUP MCUFORGE_DSP_ASM_2X2_GROUP MCUFORGE_DSP_ASM_2X2_GROUP \
    "cmp %[blk], lr\n\t" \
    "bne 4b\n" \
    "5:\n\t" \
    MCUFORGE_DSP_ASM_EPILOGUE(STAGE) \
    "ldr %[t], %[overshoot]\n\t" \
    "sub %[wa], %[wb], %[t]\n\t" \
    "ldr %[t], %[k]\n\t" \
    "add %[wb], %[wa], %[t]\n\t" \
    "ldr %[t], %[pairs]\n\t" \
    "subs %[t], %[t], #1\n\t" \
    "str %[t], %[pairs]\n\t" \
    "bne 1b"
#define MCUFORGE_DSP_ASM_PAIRS_OPERANDS \
    [aa] "=&r"(aa), [ab] "=&r"(ab), [ba] "=&r"(ba), [bb] "=&r"(bb), [blk] "=&r"(blk), [wa] "=&r"(wa), \
    [wb] "=&r"(wb), [wv] "=&r"(wv), [t] "=&r"(t), [table] "+m"(job.table), [out] "+m"(job.out), \
    [pairs] "+m"(job.pairs) \
    : [filter] "m"(filter), [k] "m"(job.k), [overshoot] "m"(job.overshoot), [block] "m"(job.block), \
      [single_end] "m"(job.single_end), \
      [end] "m"(job.end), [out_c] "m"(job.out_c), [zp] "m"(job.zero_point), [lo] "m"(job.act_min), \
      [hi] "m"(job.act_max) \
    : "r8", "r9", "r10", "r11", "lr", "cc", "memory"

MCUFORGE_INLINE void mcuforge_dsp_pairs(mcuforge_dsp_pairs_job job, const int8_t *filter, int32_t mode) {
    int32_t aa;
    int32_t ab;
    int32_t ba;
    int32_t bb;
    const uint32_t *blk;
    const int8_t *wa;
    const int8_t *wb;
    uint32_t wv;
    uint32_t t;
    if (mode == MCUFORGE_DSP_FAST) {
        __asm__ volatile(MCUFORGE_DSP_ASM_PAIRS(MCUFORGE_DSP_ASM_FAST) : MCUFORGE_DSP_ASM_PAIRS_OPERANDS);
    } else if (mode == MCUFORGE_DSP_WIDE) {
        __asm__ volatile(MCUFORGE_DSP_ASM_PAIRS(MCUFORGE_DSP_ASM_WIDE) : MCUFORGE_DSP_ASM_PAIRS_OPERANDS);
    } else {
        __asm__ volatile(MCUFORGE_DSP_ASM_PAIRS(MCUFORGE_DSP_ASM_CLAMP) : MCUFORGE_DSP_ASM_PAIRS_OPERANDS);
    }
}
#else
MCUFORGE_INLINE void mcuforge_dsp_pairs(mcuforge_dsp_pairs_job job, const int8_t *filter, int32_t mode) {
    for (; job.pairs > 0; --job.pairs, job.table += 2, job.out += 2, filter += 2 * (size_t)job.k) {
        mcuforge_dsp_channel ca = job.table[0];
        mcuforge_dsp_channel cb = job.table[1];
        int32_t acc[4];
        acc[0] = acc[2] = ca.bias;
        acc[1] = acc[3] = cb.bias;
        mcuforge_dsp_dot_2x2(job.block, filter, filter + job.k, job.k, 2, acc);
        job.out[0] = mcuforge_dsp_output(&ca, acc[0], mode, job.zero_point, job.act_min, job.act_max);
        job.out[1] = mcuforge_dsp_output(&cb, acc[1], mode, job.zero_point, job.act_min, job.act_max);
        job.out[job.out_c] = mcuforge_dsp_output(&ca, acc[2], mode, job.zero_point, job.act_min, job.act_max);
        job.out[job.out_c + 1] = mcuforge_dsp_output(&cb, acc[3], mode, job.zero_point, job.act_min,
                                                     job.act_max);
    }
}
#endif

#endif /* MCUFORGE_DSP */

#endif /* MCUFORGE_DSP_GEMM_S8_H */
