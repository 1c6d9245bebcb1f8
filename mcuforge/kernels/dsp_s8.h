/* Armv7E-M DSP building blocks of the int8 conv, depthwise and fully connected kernels.
 *
 * Each of those kernels keeps its portable C and adds a DSP variant under `#if defined(MCUFORGE_DSP)`: the
 * generated library compiles portable on any host and uses the SIMD instructions (SXTB16, SMLAD, ...) when the
 * compiler targets a core with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, M55). Both give
 * identical outputs. Define MCUFORGE_NO_DSP to force the portable kernels. MCUFORGE_DSP_EMULATE runs the DSP
 * variants on any host with the instructions written in plain C: a test hook (sanitizers then check the DSP
 * variants' index arithmetic).
 *
 * Here: the instructions (ACLE intrinsics, a few lines of inline assembly where GCC's arm_acle.h has none) and the
 * output stage of conv and depthwise; dsp_gemm_s8.h builds the conv kernel's matrix product on them.
 *
 * "q15 pairs": a 32-bit word of two int16 lanes. SXTB16 widens bytes 0 and 2 of a word into the lanes, SXTB16
 * with ROR #8 bytes 1 and 3, and SMLAD adds both lane products to an accumulator. Widening the input and the
 * weights the same way pairs value 0 with weight 0 and value 2 with weight 2 (1 with 1, 3 with 3): nothing
 * needs reordering, neither at run time nor in the weights. Little-endian, as every Cortex-M build is. */
#ifndef MCUFORGE_DSP_S8_H
#define MCUFORGE_DSP_S8_H

#include "mcuforge_common.h"

#if defined(__ARM_FEATURE_DSP) && !defined(MCUFORGE_NO_DSP)
#define MCUFORGE_DSP 1
#if !defined(MCUFORGE_NO_DSP_ASM)
/* GNU inline assembly (GCC, clang) in the hottest loops. Their statements use every register an optimized build
 * leaves free: a build that keeps a frame pointer (-fno-omit-frame-pointer) defines MCUFORGE_NO_DSP_ASM and runs
 * the same loops in C (slower, identical outputs). */
#define MCUFORGE_DSP_ASM 1
#endif
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

/* (acc 2^32 + a * b + 2^31) >> 32: SMMULR with acc added to the high word, exactly. */
MCUFORGE_INLINE int32_t mcuforge_smmlar(int32_t a, int32_t b, int32_t acc) {
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
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

/* acc 2^32 as a product: a left shift of a negative value would be undefined; no int64 overflow while
 * |acc| < 2^30. */
MCUFORGE_INLINE int32_t mcuforge_smmlar(int32_t a, int32_t b, int32_t acc) {
    return (int32_t)(((int64_t)acc * ((int64_t)1 << 32) + (int64_t)a * (int64_t)b + ((int64_t)1 << 31)) >> 32);
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

/* The output value (int8 range) of accumulator `acc`; `mode` is best a literal (else a branch per output). */
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

/* The fast stage (MCUFORGE_DSP_FAST: multiplier m >= 0, shift s in [1, 22], clamp [-128, 127]) in four
 * instructions on a doubled accumulator acc2 = 2 acc (kernels that double their bias and one operand get it for
 * free): t = round + (acc2 >> 31); SMMLAR(acc2, m, t) >> s; SSAT 8. SMMLAR(acc2, m, t) is t + SMMULR(acc2, m)
 * = t + high exactly, so this is mcuforge_dsp_output's (high + (high >> 31) + round) >> s but for the -1 taken
 * from the sign of acc instead of high. They differ only when acc < 0 and high = 0 (m >= 0: a negative product
 * rounds to 0 at most); then (round - 1) >> s = round >> s, as round = 2^(s-1) + zp 2^s with s >= 1. */
MCUFORGE_INLINE int8_t mcuforge_dsp_fast_doubled(int32_t acc2, int32_t multiplier, int32_t round, int32_t shift) {
    return (int8_t)mcuforge_ssat8(mcuforge_smmlar(acc2, multiplier, round + (acc2 >> 31)) >> shift);
}

#endif /* MCUFORGE_DSP */

#endif /* MCUFORGE_DSP_S8_H */
