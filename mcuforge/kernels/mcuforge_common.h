/* mcuforge kernel runtime: TFLite's integer requantization, shared by every generated kernel.
 *
 * Two conventions, as in TFLite:
 *  - default: "double rounding" (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT), as TFLite
 *    Micro and CMSIS-NN compute it on microcontrollers;
 *  - MCUFORGE_SINGLE_ROUNDING: one 64-bit multiply-add-shift, as LiteRT (TFLITE_SINGLE_ROUNDING) does.
 * Portable C99, no allocation, no floating point. */
#ifndef MCUFORGE_COMMON_H
#define MCUFORGE_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "mcuforge_config.h" /* generated per model: rounding convention */

#if defined(__GNUC__)
#define MCUFORGE_INLINE static inline __attribute__((always_inline))
#define MCUFORGE_ALIGNED(n) __attribute__((aligned(n)))
#else
#define MCUFORGE_INLINE static inline
#define MCUFORGE_ALIGNED(n)
#endif

/* Per-channel (or per-tensor, count 1) requantization: real scale = multiplier * 2^(shift - 31). TFLite's shifts
 * lie in [-31, 30]: int8 tables take a quarter of the flash int32 ones would. */
typedef struct {
    const int32_t *multiplier;
    const int8_t *shift;
    int32_t per_channel; /* 0: use element 0 for every channel */
} mcuforge_requant;

MCUFORGE_INLINE int32_t mcuforge_clamp(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* gemmlowp's SaturatingRoundingDoublingHighMul. Adding 2^30 and shifting right by 31 (floor) equals gemmlowp's
 * sign-dependent nudge with truncating division exactly, and compiles to one SMLAL on Cortex-M; only
 * INT32_MIN * INT32_MIN needs the saturation. Right shift of a negative int64 is arithmetic on every compiler
 * we target. */
MCUFORGE_INLINE int32_t mcuforge_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded half away from zero, 0 <= exponent <= 31. */
MCUFORGE_INLINE int32_t mcuforge_rounding_divide_by_pot(int32_t x, int32_t exponent) {
    const int32_t mask = (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite's MultiplyByQuantizedMultiplier. */
MCUFORGE_INLINE int32_t mcuforge_requantize(int32_t x, int32_t multiplier, int32_t shift) {
#ifdef MCUFORGE_SINGLE_ROUNDING
    const int32_t total_shift = 31 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return (int32_t)(((int64_t)x * (int64_t)multiplier + round) >> total_shift);
#else
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    /* The shift wraps like TFLite's int32 multiply; unsigned arithmetic keeps that defined behaviour. */
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    return mcuforge_rounding_divide_by_pot(mcuforge_srdhm(shifted, multiplier), right);
#endif
}

#endif /* MCUFORGE_COMMON_H */
