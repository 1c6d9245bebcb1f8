/* The conv kernel's DSP matrix product: two pixels' input windows, widened to q15 pairs (dsp_s8.h), against the
 * int8 filter rows in place, two pixels by two filters, SMLAD by SMLAD. */
#ifndef MCUFORGE_DSP_GEMM_S8_H
#define MCUFORGE_DSP_GEMM_S8_H

#include "dsp_s8.h"

/* A block of two q15-pair columns (two pixels' input windows, widened), interleaved by groups of four values:
 * words 4g, 4g+1 hold column 0's values 4g..4g+3 as (v0, v2), (v1, v3); words 4g+2, 4g+3 column 1's. One LDM
 * then fetches a group of both columns. A block of k values takes 4 * ceil(k / 4) words. */
#define MCUFORGE_DSP_BLOCK_WORDS(k) (4 * (((size_t)(k) + 3) / 4))

/* Narrow pointwise layers (dsp_gemm_s8.c): k <= 8 values a pixel into exactly MCUFORGE_DSP_NARROW_FILTERS filters,
 * the fast output stage, pixels MCUFORGE_DSP_NARROW_RUN at a time, MCUFORGE_DSP_NARROW_PIXELS (a multiple of
 * it) widened per pass. Scratch: the channel table (20 bytes a filter), then the filters' records (32 bytes each),
 * then a pass's pixels and a run more widened (16 bytes each). ops/conv_2d.py mirrors these numbers. */
#define MCUFORGE_DSP_NARROW_MAX_K 8
#define MCUFORGE_DSP_NARROW_FILTERS 16
#define MCUFORGE_DSP_NARROW_RUN 8
#define MCUFORGE_DSP_NARROW_PIXELS 128
#define MCUFORGE_DSP_NARROW_SCRATCH \
    ((20 + 32) * (size_t)MCUFORGE_DSP_NARROW_FILTERS + \
     16 * ((size_t)MCUFORGE_DSP_NARROW_PIXELS + MCUFORGE_DSP_NARROW_RUN))

/* Their deeper kind: up to 16 values a pixel into exactly MCUFORGE_DSP_NARROW16_FILTERS filters, in two passes over
 * each filter (dsp_gemm_s8.c). Scratch: the channel table, the records (48 bytes each), then a pass's pixels and a
 * run more widened in two blocks (20 and 16 bytes each). */
#define MCUFORGE_DSP_NARROW16_MAX_K 16
#define MCUFORGE_DSP_NARROW16_FILTERS 32
#define MCUFORGE_DSP_NARROW16_PIXELS 128
#define MCUFORGE_DSP_NARROW16_SCRATCH \
    ((20 + 48) * (size_t)MCUFORGE_DSP_NARROW16_FILTERS + \
     (20 + 16) * ((size_t)MCUFORGE_DSP_NARROW16_PIXELS + MCUFORGE_DSP_NARROW_RUN))

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

/* The same, out of line: for the per-pixel-pair calls of the pointwise loops (one copy of the loop). */
void mcuforge_dsp_widen_pair_at(uint32_t *block, const int8_t *src, int32_t n);

/* Both columns of a block from the windows at src and src + second, each `rows` runs of n values (n > 1): the
 * runs back to back, packed into groups across their seams when n is not a multiple of 4, the last group zero
 * after the window's last value. Reads up to 3 bytes past each run of both windows when n is not a multiple of
 * 4 (never for the 3x3x3 window: three runs of 9): the caller makes sure the second window's last run has them.
 * (dsp_window_s8.c; declared here for the streams of mcuforge_dsp_pairs.) */
void mcuforge_dsp_window_pair(uint32_t *block, const int8_t *src, size_t second, size_t stride, int32_t rows,
                              int32_t n);

/* Writes `value` into n values of column `column` from value `k0` (both multiples of 4). */
void mcuforge_dsp_fill(uint32_t *block, int32_t column, int32_t k0, int32_t n, int32_t value);

/* One group of four values of both columns times four weights of two filters (the words wva, wvb). */
#define MCUFORGE_DSP_GROUP_2X2(block, wva, wvb, aa, ab, ba, bb) do { \
        const uint32_t x02_ = (block)[0]; \
        const uint32_t x13_ = (block)[1]; \
        const uint32_t y02_ = (block)[2]; \
        const uint32_t y13_ = (block)[3]; \
        const uint32_t a02_ = mcuforge_sxtb16(wva); \
        const uint32_t a13_ = mcuforge_sxtb16_ror8(wva); \
        const uint32_t b02_ = mcuforge_sxtb16(wvb); \
        const uint32_t b13_ = mcuforge_sxtb16_ror8(wvb); \
        aa = mcuforge_smlad(x02_, a02_, aa); \
        aa = mcuforge_smlad(x13_, a13_, aa); \
        ab = mcuforge_smlad(x02_, b02_, ab); \
        ab = mcuforge_smlad(x13_, b13_, ab); \
        ba = mcuforge_smlad(y02_, a02_, ba); \
        ba = mcuforge_smlad(y13_, a13_, ba); \
        bb = mcuforge_smlad(y02_, b02_, bb); \
        bb = mcuforge_smlad(y13_, b13_, bb); \
    } while (0)

#if !defined(MCUFORGE_DSP_ASM)
/* The same, advancing the block and both filter pointers past the group. */
#define MCUFORGE_DSP_STEP_2X2(block, wa, wb, aa, ab, ba, bb) do { \
        MCUFORGE_DSP_GROUP_2X2(block, mcuforge_read_s8x4(wa), mcuforge_read_s8x4(wb), aa, ab, ba, bb); \
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
#define MCUFORGE_DSP_ASM_OPERANDS \
    [aa] "+r"(aa), [ab] "+r"(ab), [ba] "+r"(ba), [bb] "+r"(bb), [blk] "+r"(block), [wa] "+r"(wa), \
    [wb] "+r"(wb), [wv] "=&r"(wv_), [t] "=&r"(t_)

#define MCUFORGE_DSP_STEP_2X2(block, wa, wb, aa, ab, ba, bb) do { \
        uint32_t wv_; \
        uint32_t t_; \
        __asm__(MCUFORGE_DSP_ASM_2X2_GROUP : MCUFORGE_DSP_ASM_OPERANDS : : "r8", "r9", "r10", "r11", "memory"); \
    } while (0)

#endif

/* acc[0..3] += (column 0 . wa, column 0 . wb, column 1 . wa, column 1 . wb) over k values. Filter rows are read
 * in place (int8, any alignment), never past value k. For the lone last filter of an odd out_c (conv_2d_s8.c)
 * and the pairs' C variant (below): a group at a time, compact. */
MCUFORGE_INLINE void mcuforge_dsp_dot_2x2(const uint32_t *block, const int8_t *wa, const int8_t *wb, int32_t k,
                                          int32_t *acc) {
    int32_t aa = acc[0];
    int32_t ab = acc[1];
    int32_t ba = acc[2];
    int32_t bb = acc[3];
    int32_t groups;
    for (groups = k >> 2; groups > 0; --groups) {
        MCUFORGE_DSP_STEP_2X2(block, wa, wb, aa, ab, ba, bb);
    }
    if (k & 3) { /* the block's padding is zero; the weights stop at k */
        MCUFORGE_DSP_GROUP_2X2(block, mcuforge_read_s8_partial(wa, k & 3), mcuforge_read_s8_partial(wb, k & 3), aa,
                               ab, ba, bb);
    }
    acc[0] = aa;
    acc[1] = ab;
    acc[2] = ba;
    acc[3] = bb;
}

/* A stream, when the pairs cover every filter: `blocks` pixel pairs in one call, each after the first gathered
 * into `refill` (the block) between the passes over the filters by mcuforge_dsp_window_pair from `next` (its first
 * window; the second `second` bytes further, each `rows` runs of `run` values `stride` bytes apart), `next` then
 * advancing `advance` bytes: a row's pixel pairs whose windows lie inside the input, or a pointwise layer's
 * consecutive pixels (one run of k values). */
typedef struct {
    int32_t blocks;
    int32_t rows;
    int32_t run;
    uint32_t *refill;
    const int8_t *next;
    size_t second;
    size_t stride;
    size_t advance;
} mcuforge_dsp_stream;

/* The pairs of filters of a layer over a block of two pixels: for pair j (filters 2j, 2j+1, rows of k values
 * from `filter`, channel entries from `table`), the four outputs at out[2j], out[2j+1] and out_c further (the
 * second column's stored first: out_c 0 leaves the first column's, for a block of one pixel); `mode` a literal
 * (the output stage). Weights are read in whole groups of four: when k is not a multiple of 4, a row's
 * last group runs up to 3 bytes into the next row, multiplied by the block's zero padding: past the last row,
 * into the 3 zero bytes the emitter appends to the filters (ops/conv_2d.py), so every pair runs here. With a
 * `stream`, its pixel pairs follow in the same call, outputs 2 out_c further each. */
typedef struct {
    const uint32_t *block;
    const uint32_t *end; /* the block's end */
    const mcuforge_dsp_channel *table;
    int8_t *out;
    int8_t *out_end; /* out + 2 pairs */
    int32_t out_c;   /* from a first-column output to the second column's: out_c, or 0 for a block of one pixel */
    int32_t k;
    int32_t pairs;
    int32_t step;    /* k - (4 ceil(k / 4) - k): from the ends of a pair's rows (groups read) to the next pair's rows */
    int32_t skip;    /* (-ceil(k / 4)) mod 8: the groups the first pass of the eight-group loop leaves out */
    uintptr_t entry; /* the assembly's: where each pair enters the eight-group loop */
    int32_t zero_point;
    int32_t act_min;
    int32_t act_max;
    mcuforge_dsp_stream *stream; /* NULL: the block alone (the stream's blocks and next advance) */
} mcuforge_dsp_pairs_job;

MCUFORGE_INLINE void mcuforge_dsp_pairs_init(mcuforge_dsp_pairs_job *job, const uint32_t *block, int32_t k,
                                             const mcuforge_dsp_channel *table, int8_t *out, int32_t out_c,
                                             int32_t pairs, int32_t zero_point, int32_t act_min, int32_t act_max) {
    const int32_t groups = (k + 3) >> 2; /* the last one partial when k % 4 != 0 */
    job->block = block;
    job->end = block + 4 * (size_t)groups;
    job->table = table;
    job->out = out;
    job->out_end = out + 2 * (size_t)pairs;
    job->out_c = out_c;
    job->k = k;
    job->pairs = pairs;
    job->step = k - (4 * groups - k);
    job->skip = -groups & 7;
    job->entry = 0;
    job->zero_point = zero_point;
    job->act_min = act_min;
    job->act_max = act_max;
    job->stream = NULL;
}

/* After a pass over the filters: the next pixel pair of a stream (mcuforge_dsp_stream) set up, or 0. */
MCUFORGE_INLINE int32_t mcuforge_dsp_pairs_next(mcuforge_dsp_pairs_job *job, const mcuforge_dsp_channel *table) {
    mcuforge_dsp_stream *stream = job->stream;
    if (stream == NULL || --stream->blocks <= 0) {
        return 0;
    }
    job->table = table;
    job->out_end += 2 * (size_t)job->out_c;
    job->out = job->out_end - 2 * (size_t)job->pairs;
    mcuforge_dsp_window_pair(stream->refill, stream->next, stream->second, stream->stride, stream->rows,
                             stream->run);
    stream->next += stream->advance;
    return 1;
}

#if defined(MCUFORGE_DSP_ASM) && defined(__OPTIMIZE__)
/* In assembly, loops and all: compiled from C, GCC spills around the group assembly and reloads the channel
 * entries after each int8 store (it may alias them), an overhead that weighs as much as the multiplies when k is
 * small. The statement takes all 14 registers: the four accumulators, the block and filter pointers, three
 * temporaries (two of them LR and, with r8-r11, the block words: optimized builds save LR in the prologue and
 * use it freely); the job's fields are memory operands on the stack (GCC -O0 keeps r7 as its frame pointer and
 * has no register left: it takes the C below; optimized builds with -fno-omit-frame-pointer are not supported).
 * A group: the two weight words and the four block words in one chain of single loads (each LDR after an
 * independent LDR takes one cycle: 7 cycles where LDM + 2 LDR take 9), 4 SXTB16, 8 SMLAD: 19 cycles for 16 MACs.
 * The groups run eight per loop pass, the loop entered at the copy that leaves `skip` of them out (a computed
 * jump, Duff's device); the last copy loads the block's end in its chain and compares before its multiplies.
 * The loop starts word-aligned (the padding before it never runs: the pair's start jumps): its 32-bit
 * instructions then never straddle a word, nor a 1 KB page, where the emulator counting the cycles
 * (targets/instruction_count.py) would split the loop's block once more, breaking a chain of loads.
 * The output stage works on the accumulators in place. */
#define MCUFORGE_DSP_ASM_PAIR_GROUP \
    "ldr %[w1], [%[wa]], #4\n\t" \
    "ldr lr, [%[wb]], #4\n\t" \
    "ldr r9, [%[blk], #4]\n\t" \
    "ldr r10, [%[blk], #8]\n\t" \
    "ldr r11, [%[blk], #12]\n\t" \
    "ldr r8, [%[blk]], #16\n\t"
#define MCUFORGE_DSP_ASM_PAIR_MACS \
    "sxtb16 %[t], %[w1]\n\t" \
    "sxtb16 %[w1], %[w1], ror #8\n\t" \
    "smlad %[aa], r8, %[t], %[aa]\n\t" \
    "smlad %[ba], r10, %[t], %[ba]\n\t" \
    "smlad %[aa], r9, %[w1], %[aa]\n\t" \
    "smlad %[ba], r11, %[w1], %[ba]\n\t" \
    "sxtb16 %[t], lr\n\t" \
    "sxtb16 lr, lr, ror #8\n\t" \
    "smlad %[ab], r8, %[t], %[ab]\n\t" \
    "smlad %[bb], r10, %[t], %[bb]\n\t" \
    "smlad %[ab], r9, lr, %[ab]\n\t" \
    "smlad %[bb], r11, lr, %[bb]\n\t"
/* FAST, 5 instructions: TFLite's (round-half-up high word of 2 acc m, minus one when negative, + round) >> s as
 * smmlar(2 acc, m, round - [acc < 0]) >> s. SMMLAR adds its third operand to the high word before its own
 * rounding (exactly: t 2^32 + 2 acc m + 2^31, then >> 32), so the sum equals high + round - [acc < 0]. The sign
 * taken from acc instead of the high word: they differ only when acc < 0 and the rounded high word is 0 (m > 0:
 * the product is negative and above -2^31; m == 0); then round - 1 = 2^(s-1) - 1 + zp 2^s and round give the same
 * value zp after >> s (s >= 1, which FAST guarantees). */
#define MCUFORGE_DSP_ASM_FAST(acc, m, round, shift) \
    "add %[t], " round ", %[" acc "], asr #31\n\t" \
    "lsl %[" acc "], %[" acc "], #1\n\t" \
    "smmlar %[" acc "], %[" acc "], " m ", %[t]\n\t" \
    "asr %[" acc "], %[" acc "], " shift "\n\t" \
    "ssat %[" acc "], #8, %[" acc "]\n\t"
/* The general form (dsp_s8.h), the zero point in w1. */
#define MCUFORGE_DSP_ASM_GENERAL(acc) \
    "lsl %[" acc "], %[" acc "], #1\n\t" \
    "smmulr %[" acc "], %[" acc "], r8\n\t" \
    "and %[t], r11, %[" acc "], asr #31\n\t" \
    "add %[" acc "], %[" acc "], %[t]\n\t" \
    "add %[" acc "], %[" acc "], r9\n\t" \
    "asr %[" acc "], %[" acc "], r10\n\t" \
    "add %[" acc "], %[" acc "], %[w1]\n\t"
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
/* Channel a's entry at [blk], b's at [blk, #20]: bias, multiplier, round, shift, correction. Both channels'
 * multiplier, round and shift in one chain of loads (with the filter step). */
#define MCUFORGE_DSP_ASM_STAGES_FAST \
    "ldr r8, [%[blk], #4]\n\t" \
    "ldr r9, [%[blk], #8]\n\t" \
    "ldr r10, [%[blk], #12]\n\t" \
    "ldr r11, [%[blk], #24]\n\t" \
    "ldr %[w1], [%[blk], #28]\n\t" \
    "ldr lr, [%[blk], #32]\n\t" \
    "add %[wa], %[wa], %[t]\n\t" \
    "add %[wb], %[wb], %[t]\n\t" \
    MCUFORGE_DSP_ASM_FAST("aa", "r8", "r9", "r10") MCUFORGE_DSP_ASM_FAST("ba", "r8", "r9", "r10") \
    MCUFORGE_DSP_ASM_FAST("ab", "r11", "%[w1]", "lr") MCUFORGE_DSP_ASM_FAST("bb", "r11", "%[w1]", "lr")
#define MCUFORGE_DSP_ASM_STAGES_GENERAL(STAGE) \
    "add %[wa], %[wa], %[t]\n\t" \
    "add %[wb], %[wb], %[t]\n\t" \
    "ldr %[w1], %[zp]\n\t" \
    "ldr r8, [%[blk], #4]\n\t" \
    "ldr r9, [%[blk], #8]\n\t" \
    "ldr r10, [%[blk], #12]\n\t" \
    "ldr r11, [%[blk], #16]\n\t" \
    STAGE("aa") STAGE("ba") \
    "ldr r8, [%[blk], #24]\n\t" \
    "ldr r9, [%[blk], #28]\n\t" \
    "ldr r10, [%[blk], #32]\n\t" \
    "ldr r11, [%[blk], #36]\n\t" \
    STAGE("ab") STAGE("bb")
/* A pair's start (blk holds its channel entries): the accumulators from the biases, blk at the block. */
#define MCUFORGE_DSP_ASM_PAIR_START \
    "ldr %[aa], [%[blk]]\n\t" \
    "ldr %[ab], [%[blk], #20]\n\t" \
    "ldr %[blk], %[block]\n\t" \
    "mov %[ba], %[aa]\n\t" \
    "mov %[bb], %[ab]\n\t" \
    "ldr pc, %[entry]\n"
#define MCUFORGE_DSP_ASM_PAIRS(STAGES) \
    "adr.w %[t], 1f\n\t" \
    "adr.w %[w1], 2f\n\t" \
    "sub %[w1], %[w1], %[t]\n\t" \
    "ldr lr, %[skip]\n\t" \
    "mla %[t], %[w1], lr, %[t]\n\t" \
    "orr %[t], %[t], #1\n\t" \
    "str %[t], %[entry]\n\t" \
    "ldr %[wa], %[filter]\n\t" \
    "ldr %[t], %[k]\n\t" \
    "add %[wb], %[wa], %[t]\n\t" \
    "ldr %[blk], %[table]\n\t" \
    MCUFORGE_DSP_ASM_PAIR_START \
    ".p2align 2\n" \
    "1:\n\t" \
    MCUFORGE_DSP_ASM_PAIR_GROUP MCUFORGE_DSP_ASM_PAIR_MACS \
    "2:\n\t" \
    MCUFORGE_DSP_ASM_PAIR_GROUP MCUFORGE_DSP_ASM_PAIR_MACS \
    MCUFORGE_DSP_ASM_PAIR_GROUP MCUFORGE_DSP_ASM_PAIR_MACS \
    MCUFORGE_DSP_ASM_PAIR_GROUP MCUFORGE_DSP_ASM_PAIR_MACS \
    MCUFORGE_DSP_ASM_PAIR_GROUP MCUFORGE_DSP_ASM_PAIR_MACS \
    MCUFORGE_DSP_ASM_PAIR_GROUP MCUFORGE_DSP_ASM_PAIR_MACS \
    MCUFORGE_DSP_ASM_PAIR_GROUP MCUFORGE_DSP_ASM_PAIR_MACS \
    MCUFORGE_DSP_ASM_PAIR_GROUP \
    "ldr %[t], %[end]\n\t" \
    "cmp %[blk], %[t]\n\t" \
    MCUFORGE_DSP_ASM_PAIR_MACS \
    "bne 1b\n\t" \
    "ldr %[blk], %[table]\n\t" \
    "ldr %[t], %[step]\n\t" \
    STAGES \
    "ldr r8, %[out]\n\t" \
    "ldr r9, %[out_c]\n\t" \
    "ldr r10, %[out_end]\n\t" \
    "strb %[ba], [r8, r9]\n\t" \
    "add r9, r9, #1\n\t" \
    "strb %[bb], [r8, r9]\n\t" \
    "strb %[aa], [r8]\n\t" \
    "strb %[ab], [r8, #1]\n\t" \
    "add r8, r8, #2\n\t" \
    "str r8, %[out]\n\t" \
    "add %[blk], %[blk], #40\n\t" \
    "str %[blk], %[table]\n\t" \
    "cmp r8, r10\n\t" \
    "beq 3f\n\t" \
    MCUFORGE_DSP_ASM_PAIR_START \
    "3:"
#define MCUFORGE_DSP_ASM_PAIRS_OPERANDS \
    [aa] "=&r"(aa), [ab] "=&r"(ab), [ba] "=&r"(ba), [bb] "=&r"(bb), [blk] "=&r"(blk), [wa] "=&r"(wa), \
    [wb] "=&r"(wb), [w1] "=&r"(w1), [t] "=&r"(t), [table] "+m"(job->table), [out] "+m"(job->out), \
    [entry] "+m"(job->entry) \
    : [filter] "m"(filter), [k] "m"(job->k), [step] "m"(job->step), [skip] "m"(job->skip), [block] "m"(job->block), \
      [end] "m"(job->end), [out_c] "m"(job->out_c), [out_end] "m"(job->out_end), [zp] "m"(job->zero_point), \
      [lo] "m"(job->act_min), [hi] "m"(job->act_max) \
    : "r8", "r9", "r10", "r11", "lr", "cc", "memory"

/* Runs the job (consumed: its table, out and stream fields advance). */
MCUFORGE_INLINE void mcuforge_dsp_pairs(mcuforge_dsp_pairs_job *job, const int8_t *filter, int32_t mode) {
    int32_t aa;
    int32_t ab;
    int32_t ba;
    int32_t bb;
    const uint32_t *blk;
    const int8_t *wa;
    const int8_t *wb;
    uint32_t w1;
    uint32_t t;
    const mcuforge_dsp_channel *table = job->table;
    do {
        if (mode == MCUFORGE_DSP_FAST) {
            __asm__ volatile(MCUFORGE_DSP_ASM_PAIRS(MCUFORGE_DSP_ASM_STAGES_FAST) : MCUFORGE_DSP_ASM_PAIRS_OPERANDS);
        } else if (mode == MCUFORGE_DSP_WIDE) {
            __asm__ volatile(MCUFORGE_DSP_ASM_PAIRS(MCUFORGE_DSP_ASM_STAGES_GENERAL(MCUFORGE_DSP_ASM_WIDE))
                             : MCUFORGE_DSP_ASM_PAIRS_OPERANDS);
        } else {
            __asm__ volatile(MCUFORGE_DSP_ASM_PAIRS(MCUFORGE_DSP_ASM_STAGES_GENERAL(MCUFORGE_DSP_ASM_CLAMP))
                             : MCUFORGE_DSP_ASM_PAIRS_OPERANDS);
        }
    } while (mcuforge_dsp_pairs_next(job, table));
}
#else
MCUFORGE_INLINE void mcuforge_dsp_pairs(mcuforge_dsp_pairs_job *job, const int8_t *filter, int32_t mode) {
    const mcuforge_dsp_channel *table = job->table;
    do {
        const int8_t *w = filter;
        for (; job->out < job->out_end; job->table += 2, job->out += 2, w += 2 * (size_t)job->k) {
            mcuforge_dsp_channel ca = job->table[0];
            mcuforge_dsp_channel cb = job->table[1];
            int32_t acc[4];
            acc[0] = acc[2] = ca.bias;
            acc[1] = acc[3] = cb.bias;
            mcuforge_dsp_dot_2x2(job->block, w, w + job->k, job->k, acc);
            job->out[job->out_c] = mcuforge_dsp_output(&ca, acc[2], mode, job->zero_point, job->act_min, job->act_max);
            job->out[job->out_c + 1] = mcuforge_dsp_output(&cb, acc[3], mode, job->zero_point, job->act_min,
                                                         job->act_max);
            job->out[0] = mcuforge_dsp_output(&ca, acc[0], mode, job->zero_point, job->act_min, job->act_max);
            job->out[1] = mcuforge_dsp_output(&cb, acc[1], mode, job->zero_point, job->act_min, job->act_max);
        }
    } while (mcuforge_dsp_pairs_next(job, table));
}
#endif

/* Narrow pointwise layers, weight-stationary: one filter at a time holds its widened weights and its output stage
 * in registers over a pass of pixels, each pixel's widened values loaded once per filter (one LDM). A pixel is
 * four words, values (v0, v2), (v1, v3), (v4, v6), (v5, v7) as in a block column, zeros past k; a filter's
 * record the same four words of its weights, doubled (SADD16: 2 w fits a q15 lane), then twice its folded bias,
 * its multiplier, round and shift (the channel table's, fast form). The accumulator is then already the doubled
 * one the output stage multiplies (2 acc fits: the fast form bounds |acc| below 2^30), which saves the stage's LSL:
 *     add t, round, acc2, asr #31;  smmlar v, acc2, m, t;  asr v, v, shift;  ssat v, #8, v
 * (dsp_gemm_s8.h's MCUFORGE_DSP_ASM_FAST without its LSL; acc2 has the sign of acc). A pixel in assembly: LDM
 * (5 cycles), 4 SMLAD, those 4 and one STRB: 14 cycles for 8 MACs, and 4 cycles of loop every 4 pixels (a loop of
 * 8 would save 0.06 cycles a MAC for 160 bytes of code).
 * The store needs no output pointer of its own: with pixels 16 bytes apart in the block and outputs 16 apart
 * (MCUFORGE_DSP_NARROW_FILTERS), a pixel's output address is the block pointer (past the pixel) plus a
 * per-filter constant, STRB's register offset. The loop count lives in the shift register's upper bits (ASR by
 * a register shifts by its low byte): shift - 512 runs, counted up by 256 to the shift, the sign ending the loop. */
typedef struct {
    const uint32_t *block;   /* the pass's pixels, widened: 4 words each */
    const uint32_t *records; /* one per filter (8 words), MCUFORGE_DSP_NARROW_FILTERS of them */
    int8_t *out;             /* the pass's first pixel's outputs */
    int32_t filters;         /* MCUFORGE_DSP_NARROW_FILTERS */
    int32_t runs;            /* the pass's pixels / MCUFORGE_DSP_NARROW_RUN, > 0 */
} mcuforge_dsp_narrow_job;

/* Widens `pixels` pixels of k (1..8) values each, consecutive from src, into the block (4 words each). */
void mcuforge_dsp_narrow_widen(uint32_t *block, const int8_t *src, int32_t k, int32_t pixels);

/* The filters' records from their rows widened (mcuforge_dsp_narrow_widen, a row a pixel) and their channel
 * entries (mcuforge_dsp_channels, fast form). */
void mcuforge_dsp_narrow_records(uint32_t *records, const uint32_t *weights, const mcuforge_dsp_channel *table);

/* Every filter's outputs for the job's pixels (an output row of MCUFORGE_DSP_NARROW_FILTERS int8 a pixel). */
void mcuforge_dsp_narrow_pass(const mcuforge_dsp_narrow_job *job);

/* The deeper kind, up to 16 values (8 words a pixel, w0..w7): no register is left for a pixel's words when a filter
 * holds 8 weight words and its stage, so each filter takes two passes over the pixels. The first pass: words
 * w0..w4 (block A, 5 words a pixel) times the first 5 weight words, from twice the bias, its sum stored into the
 * pixel's slot in block B (LDM 6, 5 SMLAD, STR: 12 cycles). The second: block B's rows, (sum, w5, w6, w7), times
 * the last 3 weight words, and the stage (LDM 5, 3 SMLAD, 4, STRB: 13 cycles); B's rows 16 bytes apart, outputs 32:
 * the store address is the block pointer shifted left by one plus the filter's constant. Records of 12 words: the
 * first 5 weight words doubled, twice the bias, the last 3 doubled, multiplier, round, shift. */
typedef struct {
    const uint32_t *block_a; /* 5 words a pixel */
    uint32_t *block_b;       /* 4 words a pixel: the first pass's sum, w5, w6, w7 */
    const uint32_t *records; /* one per filter (12 words), MCUFORGE_DSP_NARROW16_FILTERS of them */
    int8_t *out;
    int32_t filters;         /* MCUFORGE_DSP_NARROW16_FILTERS */
    int32_t runs;            /* the pass's pixels / MCUFORGE_DSP_NARROW_RUN, > 0 */
} mcuforge_dsp_narrow16_job;

/* Widens `pixels` pixels of k (1..16) values each, `step` bytes apart from src (k when consecutive), into blocks A
 * and B. */
void mcuforge_dsp_narrow16_widen(uint32_t *block_a, uint32_t *block_b, const int8_t *src, int32_t k, size_t step,
                                 int32_t pixels);

/* The records from the filter rows widened (mcuforge_dsp_narrow16_widen, a row a pixel) and the channel entries. */
void mcuforge_dsp_narrow16_records(uint32_t *records, const uint32_t *block_a, const uint32_t *block_b,
                                   const mcuforge_dsp_channel *table);

void mcuforge_dsp_narrow16_pass(const mcuforge_dsp_narrow16_job *job);

/* Pointwise layers (and windowed ones, each window gathered: conv_2d_s8.c) in 3x2 tiles, over passes of pixels: the
 * 2x2 group above is 19 cycles for 16 MACs, four of them the SXTB16 of the weights, and a tile of three pixels by
 * two filters would need 15 registers with the weights widened as it goes (six accumulators, four weight and two
 * pixel words, three pointers). With the pixels of a pass widened once, three a tile, and a filter pair's rows
 * widened once a pass into a buffer (the layout of a block of two columns: A's (w0, w2), (w1, w3), B's, a group of
 * four values), one pointer serves both filters and the tile fits the 14. A group splits by lanes: the (v0, v2)
 * words of both filters and the three pixels are one chain of five loads and six SMLAD, the (v1, v3) words the same
 * (two chains, each LDR after the first one cycle): 24 cycles for 24 MACs, and LR free. A tile's words 6g .. 6g+5
 * hold pixel 0's (v0, v2), (v1, v3) of group g, then pixel 1's, then pixel 2's (24 bytes a group). A pass holds up
 * to MCUFORGE_DSP_TILES_BYTES of tiles and at least MCUFORGE_DSP_TILES_MIN (fewer, and widening the weights each
 * pass costs as much as the tiles save); k a multiple of 4, the pair's rows (16 bytes a group) fewer than
 * MCUFORGE_DSP_TILES_ALIGN bytes. Scratch after the channel table: the tiles, then the pair's rows, ending at a
 * multiple of MCUFORGE_DSP_TILES_ALIGN (the loop's end test; MCUFORGE_DSP_TILES_ALIGN bytes reserved for it).
 * ops/conv_2d.py mirrors these numbers. */
#define MCUFORGE_DSP_TILES_BYTES 4224
#define MCUFORGE_DSP_TILES_MIN 6
#define MCUFORGE_DSP_TILES_ALIGN 512
/* Tiles a pass for k values a pixel (0 when fewer than MCUFORGE_DSP_TILES_MIN fit, or k is too deep). */
#define MCUFORGE_DSP_TILES_PER_PASS(k) \
    (MCUFORGE_DSP_TILES_BYTES / (6 * (size_t)(k)) >= MCUFORGE_DSP_TILES_MIN && \
     4 * (size_t)(k) < MCUFORGE_DSP_TILES_ALIGN ? MCUFORGE_DSP_TILES_BYTES / (6 * (size_t)(k)) : 0)
/* The tiles a pass of a layer's `tiles` (> 0) takes, the passes as few and as even as they go (each of these but
 * the last, shorter by less than one a pass): the same passes in less scratch. */
#define MCUFORGE_DSP_TILES_EVEN(k, tiles) \
    (((size_t)(tiles) + (((size_t)(tiles) + MCUFORGE_DSP_TILES_PER_PASS(k) - 1) / MCUFORGE_DSP_TILES_PER_PASS(k)) - \
      1) / (((size_t)(tiles) + MCUFORGE_DSP_TILES_PER_PASS(k) - 1) / MCUFORGE_DSP_TILES_PER_PASS(k)))

/* A pass: every filter pair (its rows widened into `weights`, then its outputs for every tile). The assembly loads
 * the fields in this order (one LDM). */
typedef struct {
    const uint32_t *block;                /* the pass's first tile */
    const uint32_t *end;                  /* past its last tile */
    uint32_t *weights;                    /* a pair's rows widened: 4 words a group */
    const mcuforge_dsp_channel *channels; /* the first pair's two entries (fast form) */
    int8_t *out;                          /* the pass's first pixel's outputs */
    int32_t out_c;
    int32_t groups;                       /* k / 4 */
    const int8_t *filter;                 /* the first pair's rows */
    int32_t pairs;
} mcuforge_dsp_tiles_job;

/* Widens `tiles` tiles of three consecutive pixels of k (a multiple of 4) values each from src, doubled (2 v fits a
 * q15 lane): the tiles' accumulators are then the doubled ones their output stage multiplies. */
void mcuforge_dsp_tiles_widen(uint32_t *block, const int8_t *src, int32_t k, int32_t tiles);

/* Every pair's outputs for the job's pass (the fast output stage): the tiles' outputs 3 out_c apart, a pair's two
 * filters' side by side, the pairs' 2 apart. */
void mcuforge_dsp_tiles_pass(const mcuforge_dsp_tiles_job *job);

#endif /* MCUFORGE_DSP */

#endif /* MCUFORGE_DSP_GEMM_S8_H */
