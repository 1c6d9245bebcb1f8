#ifndef MCUFORGE_SPARSE_S8_H
#define MCUFORGE_SPARSE_S8_H

#include "mcuforge_common.h"

/* The index of the lowest set bit of a nonzero mask (RBIT + CLZ on Armv7-M). */
#if defined(__GNUC__)
#define MCUFORGE_SPARSE_LOWEST_BIT(mask) ((uint32_t)__builtin_ctz(mask))
#else
MCUFORGE_INLINE uint32_t mcuforge_sparse_lowest_bit(uint32_t mask) {
    uint32_t bit = 0;
    while (((mask >> bit) & 1u) == 0u) {
        ++bit;
    }
    return bit;
}
#define MCUFORGE_SPARSE_LOWEST_BIT(mask) mcuforge_sparse_lowest_bit(mask)
#endif

/* Runs of the sparse weight format (quant/sparse.py) shared by the sparse FC and conv kernels: a bitmap row
 * (bit d % 8 of byte d / 8 set when weight d is nonzero) and the nonzero weights packed in order. A run is a
 * range of bits [first, first + len) of one row, read up to 32 bits at a time and, within those, from one set
 * bit to the next (count trailing zeros: RBIT + CLZ on Armv7-M), so a zero weight costs little but its bit. */

/* The number of nonzero weights in a run: how far to advance the nonzeros past taps that are not computed. */
size_t mcuforge_sparse_count(const uint8_t *bits, size_t first, size_t len);

/* sum over the set bits first + d of a run of (x[d * step] + offset) * (next nonzero), lowest bit first; *w
 * advances past the run's nonzeros. */
int32_t mcuforge_sparse_dot(const int8_t *x, size_t step, const uint8_t *bits, size_t first, size_t len,
                            int32_t offset, const int8_t **w);

/* A run [first, first + len) of which only the bits [first + lo, first + hi) have input values (x the value of
 * bit first + lo): mcuforge_sparse_dot over those, the nonzeros of the others skipped. */
MCUFORGE_INLINE int32_t mcuforge_sparse_dot_within(const int8_t *x, size_t step, const uint8_t *bits, size_t first,
                                                   size_t len, size_t lo, size_t hi, int32_t offset,
                                                   const int8_t **w) {
    int32_t acc;
    *w += mcuforge_sparse_count(bits, first, lo);
    acc = mcuforge_sparse_dot(x, step, bits, first + lo, hi - lo, offset, w);
    *w += mcuforge_sparse_count(bits, first + hi, len - hi);
    return acc;
}

/* Two pixels at once, each weight read once: acc[0] += sum x[d] * w, acc[1] += sum x[d + x2] * w over the set
 * bits first + d of a run of contiguous input values (no offset: windows inside the input, folded bias). */
void mcuforge_sparse_dot_2px(const int8_t *x, size_t x2, const uint8_t *bits, size_t first, size_t len,
                             const int8_t **w, int32_t acc[2]);

/* Four pixels x_step values apart, as mcuforge_sparse_dot_2px. */
void mcuforge_sparse_dot_4px(const int8_t *x, size_t x_step, const uint8_t *bits, size_t first, size_t len,
                             const int8_t **w, int32_t acc[4]);

/* `count` rows of `depth` weights from their bitmap rows (`bytes` each: (depth + 7) / 8) and nonzeros (*w,
 * advanced past them) into dense int8 rows one after the other at `rows`, zeros between the nonzeros. Writes up
 * to 31 bytes past the last row (whose values are then undefined): `rows` holds count depth + 31 bytes. */
void mcuforge_sparse_decode(const uint8_t *bits, size_t bytes, int32_t depth, int32_t count, const int8_t **w,
                            int8_t *rows);

#endif
