#include "sparse_s8.h"

/* The bits of the bitmap byte holding bit `pos`, shifted down to bit 0 and cut to at most `left` bits;
 * *taken: how many (the rest of that byte, or `left`). */
MCUFORGE_INLINE uint32_t sparse_bits(const uint8_t *bits, size_t pos, size_t left, size_t *taken) {
    const uint32_t shift = (uint32_t)(pos & 7u);
    size_t n = 8u - (size_t)shift;
    if (n > left) {
        n = left;
    }
    *taken = n;
    return ((uint32_t)bits[pos >> 3] >> shift) & ((1u << n) - 1u);
}

/* The bitmap of a run [first, first + len): a partial first byte, then 32 bits at a time (a pruned row skips 32
 * zero weights in one test), whole bytes, a partial last byte. `visit(mask, i)` sees the set bits of each piece:
 * bit j of mask stands for position i + j of the run. */
#define SPARSE_RUN(bits, first, len, visit)                                                  \
    do {                                                                                     \
        size_t i_ = 0;                                                                       \
        size_t taken_;                                                                       \
        if (((first) & 7u) != 0u && (len) > 0u) {                                            \
            const uint32_t head_ = sparse_bits(bits, first, len, &taken_);                   \
            visit(head_, 0u);                                                                \
            i_ = taken_;                                                                     \
        }                                                                                    \
        for (; i_ + 32u <= (len); i_ += 32u) {                                               \
            const uint8_t *b_ = (bits) + (((first) + i_) >> 3);                              \
            visit((uint32_t)b_[0] | ((uint32_t)b_[1] << 8) | ((uint32_t)b_[2] << 16) |       \
                      ((uint32_t)b_[3] << 24),                                               \
                  i_);                                                                       \
        }                                                                                    \
        for (; i_ + 8u <= (len); i_ += 8u) {                                                 \
            visit((uint32_t)(bits)[((first) + i_) >> 3], i_);                                \
        }                                                                                    \
        if (i_ < (len)) {                                                                    \
            const uint32_t tail_ = sparse_bits(bits, (first) + i_, (len) - i_, &taken_);     \
            visit(tail_, i_);                                                                \
        }                                                                                    \
    } while (0)

size_t mcuforge_sparse_count(const uint8_t *bits, size_t first, size_t len) {
    size_t n = 0;
#define SPARSE_VISIT_COUNT(mask, at)   \
    do {                               \
        uint32_t m_ = (mask);          \
        (void)(at);                    \
        while (m_ != 0u) {             \
            m_ &= m_ - 1u;             \
            ++n;                       \
        }                              \
    } while (0)
    SPARSE_RUN(bits, first, len, SPARSE_VISIT_COUNT);
#undef SPARSE_VISIT_COUNT
    return n;
}

int32_t mcuforge_sparse_dot(const int8_t *x, size_t step, const uint8_t *bits, size_t first, size_t len,
                            int32_t offset, const int8_t **w) {
    const int8_t *wp = *w;
    int32_t acc = 0;
#define SPARSE_VISIT_DOT(mask, at)                                                \
    do {                                                                          \
        uint32_t m_ = (mask);                                                     \
        while (m_ != 0u) { /* lowest bit first: the nonzeros are in increasing d */ \
            const size_t d_ = (at) + (size_t)MCUFORGE_SPARSE_LOWEST_BIT(m_);      \
            acc += ((int32_t)x[d_ * step] + offset) * (int32_t)*wp++;             \
            m_ &= m_ - 1u;                                                        \
        }                                                                         \
    } while (0)
    SPARSE_RUN(bits, first, len, SPARSE_VISIT_DOT);
#undef SPARSE_VISIT_DOT
    *w = wp;
    return acc;
}

/* `pixels` (a literal 2 or 4) pixels x_step values apart, each weight read once: the two entry points below. */
MCUFORGE_INLINE void sparse_dot_pixels(const int8_t *x, size_t x_step, const uint8_t *bits, size_t first, size_t len,
                                       const int8_t **w, int32_t *acc, int32_t pixels) {
    const int8_t *wp = *w;
    const size_t x2 = 2u * x_step;
    const size_t x3 = 3u * x_step;
    int32_t a0 = acc[0];
    int32_t a1 = acc[1];
    int32_t a2 = pixels == 4 ? acc[2] : 0;
    int32_t a3 = pixels == 4 ? acc[3] : 0;
#define SPARSE_VISIT_PIXELS(byte_mask, at)                                \
    do {                                                                  \
        uint32_t m_ = (byte_mask);                                        \
        while (m_ != 0u) {                                                \
            const int8_t *xd = x + (at) + (size_t)MCUFORGE_SPARSE_LOWEST_BIT(m_); \
            const int32_t wv = (int32_t)*wp++;                            \
            a0 += (int32_t)xd[0] * wv;                                    \
            a1 += (int32_t)xd[x_step] * wv;                               \
            if (pixels == 4) {                                            \
                a2 += (int32_t)xd[x2] * wv;                               \
                a3 += (int32_t)xd[x3] * wv;                               \
            }                                                             \
            m_ &= m_ - 1u;                                                \
        }                                                                 \
    } while (0)
    SPARSE_RUN(bits, first, len, SPARSE_VISIT_PIXELS);
#undef SPARSE_VISIT_PIXELS
    acc[0] = a0;
    acc[1] = a1;
    if (pixels == 4) {
        acc[2] = a2;
        acc[3] = a3;
    }
    *w = wp;
}

void mcuforge_sparse_dot_2px(const int8_t *x, size_t x2, const uint8_t *bits, size_t first, size_t len,
                             const int8_t **w, int32_t acc[2]) {
    sparse_dot_pixels(x, x2, bits, first, len, w, acc, 2);
}

void mcuforge_sparse_dot_4px(const int8_t *x, size_t x_step, const uint8_t *bits, size_t first, size_t len,
                             const int8_t **w, int32_t acc[4]) {
    sparse_dot_pixels(x, x_step, bits, first, len, w, acc, 4);
}

/* A word of bitmap at a time: its 32 values zeroed (up to 31 bytes past the row: into the next row, decoded after
 * it, or past the last), then its nonzeros stored. The zero stores are straight-line: GCC turns a loop of them
 * into a memset call, which would link the C library's. ~10 cycles a nonzero weight on a Cortex-M4. */
void mcuforge_sparse_decode(const uint8_t *bits, size_t bytes, int32_t depth, int32_t count, const int8_t **w,
                            int8_t *rows) {
    const uint32_t zero = 0;
    const int8_t *wp = *w;
    int32_t r;
    for (r = 0; r < count; ++r, bits += bytes, rows += depth) {
        size_t at; /* the bitmap byte of the word's bit 0 */
        for (at = 0; at < bytes; at += 4u) {
            int8_t *dst = rows + 8u * at;
            uint32_t m = 0;
            size_t t;
            memcpy(dst, &zero, 4);
            memcpy(dst + 4, &zero, 4);
            memcpy(dst + 8, &zero, 4);
            memcpy(dst + 12, &zero, 4);
            memcpy(dst + 16, &zero, 4);
            memcpy(dst + 20, &zero, 4);
            memcpy(dst + 24, &zero, 4);
            memcpy(dst + 28, &zero, 4);
            if (bytes - at >= 4u) {
                memcpy(&m, bits + at, 4); /* one unaligned load on Armv7-M */
            } else {
                for (t = 0; t < bytes - at; ++t) { /* the row's last bytes */
                    m |= (uint32_t)bits[at + t] << (8u * t);
                }
            }
            while (m != 0u) { /* lowest bit first: the nonzeros are in order */
                dst[MCUFORGE_SPARSE_LOWEST_BIT(m)] = *wp++;
                m &= m - 1u;
            }
        }
    }
    *w = wp;
}
