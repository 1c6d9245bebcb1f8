/* Gathering the DSP conv's input windows (im2col) into the q15 blocks of dsp_gemm_s8.h. A window inside the input
 * is `rows` runs of values (its filter rows), `stride` bytes apart; the two pixels of a block are `second` bytes
 * apart (the stride along x). Runs of whole groups of four values widen as they are; other runs are packed into
 * groups across their seams. */
#ifndef MCUFORGE_DSP_WINDOW_S8_H
#define MCUFORGE_DSP_WINDOW_S8_H

#include "dsp_gemm_s8.h"

#if defined(MCUFORGE_DSP)

/* Widens `rows` runs of 4 * groups values (rows, groups > 0) into consecutive groups of one block column: `dst`
 * is the column's word of the first group (block + k0 + 2 * column, k0 a multiple of 4). */
void mcuforge_dsp_widen_runs(uint32_t *dst, const int8_t *src, size_t stride, int32_t rows, int32_t groups);

/* mcuforge_dsp_window_pair (both columns of a block from two windows) is declared in dsp_gemm_s8.h, whose
 * pixel-pair streams call it. */

#endif /* MCUFORGE_DSP */

#endif /* MCUFORGE_DSP_WINDOW_S8_H */
