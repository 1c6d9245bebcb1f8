/* Armv7E-M DSP building blocks of the int8 conv, depthwise and fully connected kernels.
 *
 * Each of those kernels keeps its portable C and adds a DSP variant under `#if defined(MCUFORGE_DSP)`: the
 * generated library compiles portable on any host and uses the SIMD instructions (SXTB16, SMLAD, ...) when the
 * compiler targets a core with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, M55). Both give
 * identical outputs. Define MCUFORGE_NO_DSP to force the portable kernels. MCUFORGE_DSP_EMULATE runs the DSP
 * variants on any host with the instructions written in plain C: a test hook (sanitizers then check the DSP
 * variants' index arithmetic).
 *
 * "q15 pairs": a 32-bit word of two int16 lanes. SXTB16 widens bytes 0 and 2 of a word into the lanes, SXTB16
 * with ROR #8 bytes 1 and 3, and SMLAD adds both lane products to an accumulator. Widening the input and the
 * weights the same way pairs value 0 with weight 0 and value 2 with weight 2 (1 with 1, 3 with 3): nothing
 * needs reordering, neither at run time nor in the weights. Little-endian, as every Cortex-M build is. */
#ifndef MCUFORGE_DSP_S8_H
#define MCUFORGE_DSP_S8_H

#include "mcuforge_common.h"

/* A block of two q15-pair columns (two pixels' input windows, widened), interleaved by groups of four values:
 * words 4g, 4g+1 hold column 0's values 4g..4g+3 as (v0, v2), (v1, v3); words 4g+2, 4g+3 column 1's. One LDM
 * then fetches a group of both columns. A block of k values takes 4 * ceil(k / 4) words. */
#define MCUFORGE_DSP_BLOCK_WORDS(k) (4 * (((size_t)(k) + 3) / 4))

#if defined(__ARM_FEATURE_DSP) && !defined(MCUFORGE_NO_DSP)
#define MCUFORGE_DSP 1
#define MCUFORGE_DSP_ASM 1 /* GNU inline assembly (GCC, clang) in the hottest loop */
#include <arm_acle.h>

MCUFORGE_INLINE uint32_t mcuforge_sxtb16(uint32_t x) {
    return (uint32_t)__sxtb16((int32_t)x);
}

/* GCC's arm_acle.h has no rotating SXTB16 and does not fold a rotate into it: one instruction in assembly. */
MCUFORGE_INLINE uint32_t mcuforge_sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* Low lane of `lo` at the bottom, low lane of `hi` on top. */
MCUFORGE_INLINE uint32_t mcuforge_pkhbt(uint32_t lo, uint32_t hi) {
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* High lane of `lo` at the bottom, high lane of `hi` on top. */
MCUFORGE_INLINE uint32_t mcuforge_pkhtb(uint32_t hi, uint32_t lo) {
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* Lane by lane a + b (modulo 2^16). */
MCUFORGE_INLINE uint32_t mcuforge_sadd16(uint32_t a, uint32_t b) {
    return (uint32_t)__sadd16((int32_t)a, (int32_t)b);
}

/* acc + lo(a) * lo(b) + hi(a) * hi(b) */
MCUFORGE_INLINE int32_t mcuforge_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return __smlad((int32_t)a, (int32_t)b, acc);
}

/* acc + lo(a) * hi(b) + hi(a) * lo(b) */
MCUFORGE_INLINE int32_t mcuforge_smladx(uint32_t a, uint32_t b, int32_t acc) {
    return __smladx((int32_t)a, (int32_t)b, acc);
}

/* acc + lo(a) * lo(b) */
MCUFORGE_INLINE int32_t mcuforge_smlabb(uint32_t a, uint32_t b, int32_t acc) {
    return __smlabb((int32_t)a, (int32_t)b, acc);
}

/* acc + hi(a) * lo(b) */
MCUFORGE_INLINE int32_t mcuforge_smlatb(uint32_t a, uint32_t b, int32_t acc) {
    return __smlatb((int32_t)a, (int32_t)b, acc);
}

MCUFORGE_INLINE int32_t mcuforge_ssat8(int32_t x) {
    return __ssat(x, 8);
}

/* (a * b + 2^31) >> 32: the high word, rounded. */
MCUFORGE_INLINE int32_t mcuforge_smmulr(int32_t a, int32_t b) {
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

#elif defined(MCUFORGE_DSP_EMULATE)
#define MCUFORGE_DSP 1

MCUFORGE_INLINE int32_t mcuforge_lane(uint32_t x, int32_t top) {
    return (int32_t)(((top ? x >> 16 : x) & 0xFFFFu) ^ 0x8000u) - 0x8000;
}

MCUFORGE_INLINE uint32_t mcuforge_byte_lane(uint32_t byte) {
    return (uint32_t)((int32_t)((byte & 0xFFu) ^ 0x80u) - 0x80) & 0xFFFFu;
}

MCUFORGE_INLINE uint32_t mcuforge_sxtb16(uint32_t x) {
    return mcuforge_byte_lane(x) | mcuforge_byte_lane(x >> 16) << 16;
}

MCUFORGE_INLINE uint32_t mcuforge_sxtb16_ror8(uint32_t x) {
    return mcuforge_sxtb16(x >> 8 | x << 24);
}

MCUFORGE_INLINE uint32_t mcuforge_pkhbt(uint32_t lo, uint32_t hi) {
    return (lo & 0xFFFFu) | hi << 16;
}

MCUFORGE_INLINE uint32_t mcuforge_pkhtb(uint32_t hi, uint32_t lo) {
    return (hi & 0xFFFF0000u) | lo >> 16;
}

MCUFORGE_INLINE uint32_t mcuforge_sadd16(uint32_t a, uint32_t b) {
    return ((a + b) & 0xFFFFu) | ((a >> 16) + (b >> 16)) << 16;
}

/* Sums in uint32_t: SMLAD wraps where C's signed overflow would be undefined. */
MCUFORGE_INLINE int32_t mcuforge_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(mcuforge_lane(a, 0) * mcuforge_lane(b, 0)) +
                     (uint32_t)(mcuforge_lane(a, 1) * mcuforge_lane(b, 1)));
}

MCUFORGE_INLINE int32_t mcuforge_smladx(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(mcuforge_lane(a, 0) * mcuforge_lane(b, 1)) +
                     (uint32_t)(mcuforge_lane(a, 1) * mcuforge_lane(b, 0)));
}

MCUFORGE_INLINE int32_t mcuforge_smlabb(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(mcuforge_lane(a, 0) * mcuforge_lane(b, 0)));
}

MCUFORGE_INLINE int32_t mcuforge_smlatb(uint32_t a, uint32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(mcuforge_lane(a, 1) * mcuforge_lane(b, 0)));
}

MCUFORGE_INLINE int32_t mcuforge_ssat8(int32_t x) {
    return x < -128 ? -128 : (x > 127 ? 127 : x);
}

MCUFORGE_INLINE int32_t mcuforge_smmulr(int32_t a, int32_t b) {
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 31)) >> 32);
}

#endif

#if defined(MCUFORGE_DSP)

/* Four int8 values, any alignment. */
MCUFORGE_INLINE uint32_t mcuforge_read_s8x4(const int8_t *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

/* The first n (1..3) values, zeros after them (no memcpy of a variable size: that would be a call). */
MCUFORGE_INLINE uint32_t mcuforge_read_s8_partial(const int8_t *p, int32_t n) {
    uint32_t x = (uint8_t)p[0];
    if (n > 1) {
        x |= (uint32_t)(uint8_t)p[1] << 8;
    }
    if (n > 2) {
        x |= (uint32_t)(uint8_t)p[2] << 16;
    }
    return x;
}

/* The output stage of the conv and depthwise DSP variants: TFLite Micro's requantization ("double rounding",
 * as both runtimes compute conv), the output zero point and the clamp, in a handful of exact instructions:
 *  - SaturatingRoundingDoublingHighMul(acc, m) is (2 acc m + 2^31) >> 32: one SMMULR, as 2 acc fits in int32
 *    while -2^30 <= acc < 2^30;
 *  - RoundingDivideByPOT(high, s) for s >= 1 is (high + nudge - [high < 0]) >> s, nudge = 2^(s-1): the sum
 *    stays in int32 (|high| <= 2^30); for s = 0 it is high itself.
 * Two forms, per layer (the params' `dsp_requant`, from the emitters, which bound the accumulators):
 *  - MCUFORGE_DSP_FOLDED: every shift in [1, 22] (TFLite's in [-22, -1]): the zero point, times 2^s, folds
 *    into the nudge;
 *  - MCUFORGE_DSP_GENERAL: every shift in [0, 31]: the correction is masked off for s = 0 and the zero point
 *    added after the shift. */
#define MCUFORGE_DSP_FOLDED 1
#define MCUFORGE_DSP_GENERAL 2

/* How a kernel instantiates the output stage (a literal at each call): */
#define MCUFORGE_DSP_FAST 1  /* folded form, clamp [-128, 127]: one SSAT */
#define MCUFORGE_DSP_WIDE 2  /* general form, clamp [-128, 127] */
#define MCUFORGE_DSP_CLAMP 3 /* general form, any clamp */

/* One output channel: its accumulator start (the folded bias) and requantization. */
typedef struct {
    int32_t bias;
    int32_t multiplier;
    int32_t round;      /* the nudge, plus the zero point times 2^shift when folded */
    int32_t shift;      /* right shift, 0..31 */
    int32_t correction; /* -1 (subtract one from a negative value) or 0 (shift 0): general form only */
} mcuforge_dsp_channel;

/* The n channels' entries, from a layer's folded bias and requantization, for a kernel mode. */
void mcuforge_dsp_channels(mcuforge_dsp_channel *table, int32_t n, const int32_t *bias, const mcuforge_requant *q,
                           int32_t zero_point, int32_t mode);

/* The mode of a layer whose params say `form` (MCUFORGE_DSP_FOLDED or _GENERAL). */
MCUFORGE_INLINE int32_t mcuforge_dsp_mode(int32_t form, int32_t act_min, int32_t act_max) {
    if (act_min == -128 && act_max == 127) {
        return form == MCUFORGE_DSP_FOLDED ? MCUFORGE_DSP_FAST : MCUFORGE_DSP_WIDE;
    }
    return MCUFORGE_DSP_CLAMP;
}

/* The output value (int8 range) of accumulator `acc`; `mode` is a literal at each call. */
MCUFORGE_INLINE int8_t mcuforge_dsp_output(const mcuforge_dsp_channel *c, int32_t acc, int32_t mode,
                                           int32_t zero_point, int32_t act_min, int32_t act_max) {
    const int32_t high = mcuforge_smmulr((int32_t)((uint32_t)acc << 1), c->multiplier);
    int32_t v;
    if (mode == MCUFORGE_DSP_FAST) {
        return (int8_t)mcuforge_ssat8((high + (high >> 31) + c->round) >> c->shift);
    }
    v = ((high + ((high >> 31) & c->correction) + c->round) >> c->shift) + zero_point;
    if (mode == MCUFORGE_DSP_WIDE) {
        return (int8_t)mcuforge_ssat8(v);
    }
    return (int8_t)(v < act_min ? act_min : (v > act_max ? act_max : v));
}

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
 * from `filter`, channel entries from `table`), the four outputs at out[2j], out[2j+1] and out_c further. k is
 * a multiple of 4; `mode` a literal (the output stage). */
typedef struct {
    const uint32_t *block;
    const uint32_t *single_end; /* the groups before it go one at a time: (k / 4) % 4 of them */
    const uint32_t *end;        /* the block's end: the rest go four at a time */
    const mcuforge_dsp_channel *table;
    int8_t *out;
    int32_t out_c;
    int32_t k;
    int32_t pairs;
    int32_t zero_point;
    int32_t act_min;
    int32_t act_max;
} mcuforge_dsp_pairs_job;

#if defined(MCUFORGE_DSP_ASM) && defined(__OPTIMIZE__)
/* In assembly, loops and all: GCC spills around the group assembly and reloads the channel entries after each
 * int8 store (it may alias them), an overhead that weighs as much as the multiplies when k is small. The
 * statement keeps to 13 registers (the accumulators, the block and filter pointers, two temporaries, r8-r11);
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
    "ldr %[t], %[end]\n\t" \
    "cmp %[blk], %[t]\n\t" \
    "beq 5f\n" \
    "4:\n\t" \
    MCUFORGE_DSP_ASM_2X2_GROUP MCUFORGE_DSP_ASM_2X2_GROUP MCUFORGE_DSP_ASM_2X2_GROUP MCUFORGE_DSP_ASM_2X2_GROUP \
    "ldr %[t], %[end]\n\t" \
    "cmp %[blk], %[t]\n\t" \
    "bne 4b\n" \
    "5:\n\t" \
    MCUFORGE_DSP_ASM_EPILOGUE(STAGE) \
    "mov %[wa], %[wb]\n\t" \
    "ldr %[t], %[k]\n\t" \
    "add %[wb], %[wb], %[t]\n\t" \
    "ldr %[t], %[pairs]\n\t" \
    "subs %[t], %[t], #1\n\t" \
    "str %[t], %[pairs]\n\t" \
    "bne 1b"
#define MCUFORGE_DSP_ASM_PAIRS_OPERANDS \
    [aa] "=&r"(aa), [ab] "=&r"(ab), [ba] "=&r"(ba), [bb] "=&r"(bb), [blk] "=&r"(blk), [wa] "=&r"(wa), \
    [wb] "=&r"(wb), [wv] "=&r"(wv), [t] "=&r"(t), [table] "+m"(job.table), [out] "+m"(job.out), \
    [pairs] "+m"(job.pairs) \
    : [filter] "m"(filter), [k] "m"(job.k), [block] "m"(job.block), [single_end] "m"(job.single_end), \
      [end] "m"(job.end), [out_c] "m"(job.out_c), [zp] "m"(job.zero_point), [lo] "m"(job.act_min), \
      [hi] "m"(job.act_max) \
    : "r8", "r9", "r10", "r11", "cc", "memory"

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

#endif /* MCUFORGE_DSP_S8_H */
