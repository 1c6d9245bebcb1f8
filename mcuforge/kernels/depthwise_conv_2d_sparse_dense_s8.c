#include "depthwise_conv_2d_sparse_dense_s8.h"
#include "depthwise_conv_2d_s8.h" /* the dense kernel, run on the decoded filter */

/* Sparse storage, dense compute: the sparse kernel walks the bitmap at every output pixel (DS-CNN's 3x3x64 layers
 * on a Cortex-M4 at 75% zeros: ~32x the dense DSP kernel's cycles, 5.2x the portable one's); decoding the whole
 * filter (576 bytes) takes ~6.5 cycles a weight once per call, 2% of the DSP kernel's run that follows. */

/* The sparse rows (one per channel: `taps` bits of bitmap, then its nonzeros in order) into the dense filter
 * [taps][channels]: channel c's tap t at t * channels + c. The filter is zeroed 16 bytes at a time (up to 15 bytes
 * past it: its scratch is rounded up to 16; straight-line stores, as a loop of single ones would become a C
 * library memset), then each channel's nonzeros stored from one set bit to the next. */
static void dw_sparse_decode_taps(const uint8_t *bitmap, const int8_t *values, int32_t taps, int32_t channels,
                                  int8_t *filter) {
    const uint32_t zero = 0;
    const size_t bytes = ((size_t)taps + 7u) / 8u;
    const size_t step = (size_t)channels;
    const size_t end = (size_t)taps * step;
    const int8_t *w = values;
    size_t at;
    int32_t c;
    for (at = 0; at < end; at += 16u) {
        memcpy(filter + at, &zero, 4);
        memcpy(filter + at + 4, &zero, 4);
        memcpy(filter + at + 8, &zero, 4);
        memcpy(filter + at + 12, &zero, 4);
    }
    for (c = 0; c < channels; ++c, bitmap += bytes) {
        int8_t *column = filter + c;
        size_t b;
        for (b = 0; b < bytes; ++b) {
            uint32_t m = bitmap[b];
            while (m != 0u) { /* lowest bit first: the nonzeros are in order */
                column[(8u * b + MCUFORGE_SPARSE_LOWEST_BIT(m)) * step] = *w++;
                m &= m - 1u;
            }
        }
    }
}

#define DW_SPARSE_DENSE_ENTRY(suffix, dense)                                                                  \
    MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(suffix) {                                                            \
        const int32_t weights = p->geom.kernel_h * p->geom.kernel_w * p->geom.out_c;                          \
        int8_t *filter = (int8_t *)scratch;                                                                   \
        dw_sparse_decode_taps(bitmap, values, p->geom.kernel_h * p->geom.kernel_w, p->geom.out_c, filter);    \
        dense(p, input, filter, bias, output, filter + ((weights + 15) & ~15));                               \
    }
DW_SPARSE_DENSE_ENTRY(, mcuforge_depthwise_conv_s8)
DW_SPARSE_DENSE_ENTRY(_wide, mcuforge_depthwise_conv_s8_wide)
DW_SPARSE_DENSE_ENTRY(_fast_long, mcuforge_depthwise_conv_s8_fast_long)
DW_SPARSE_DENSE_ENTRY(_fast_w5, mcuforge_depthwise_conv_s8_fast_w5)
DW_SPARSE_DENSE_ENTRY(_fast_s2_long, mcuforge_depthwise_conv_s8_fast_s2_long)
DW_SPARSE_DENSE_ENTRY(_fast_both_long, mcuforge_depthwise_conv_s8_fast_both_long)
DW_SPARSE_DENSE_ENTRY(_fast_both_no_pairs, mcuforge_depthwise_conv_s8_fast_both_no_pairs)
