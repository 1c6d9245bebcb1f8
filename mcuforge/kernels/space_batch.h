/* SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND over NHWC (a 3-D NHC tensor is NHWC with W = 1): pure data movement, so
 * pixels are moved as bytes whatever the dtype. */
#ifndef MCUFORGE_SPACE_BATCH_H
#define MCUFORGE_SPACE_BATCH_H

#include "mcuforge_common.h"

typedef struct {
    int32_t batches;   /* N of the spatial tensor (SPACE_TO_BATCH_ND's input, BATCH_TO_SPACE_ND's output) */
    int32_t space_h;   /* its H, W */
    int32_t space_w;
    int32_t blocked_h; /* H, W of the batched tensor (batch N * block_h * block_w) */
    int32_t blocked_w;
    int32_t block_h;
    int32_t block_w;
    int32_t edge_top;  /* paddings (SPACE_TO_BATCH_ND) or crops (BATCH_TO_SPACE_ND) before each axis */
    int32_t edge_left;
    int32_t pixel_bytes;  /* C * element size */
    int32_t element_size;
} mcuforge_space_batch_params;

/* Batched pixel (b, oy, ox), b = (by * block_w + bx) * N + n, is padded pixel (n, oy * block_h + by,
 * ox * block_w + bx); a pixel of the padding is filled with the element_size bytes at `pad_value`. */
void mcuforge_space_to_batch(const mcuforge_space_batch_params *p, const void *input, void *output,
                             const void *pad_value);

/* The inverse shuffle, cropped: output pixel (n, y, x) is full pixel (n, y + edge_top, x + edge_left). */
void mcuforge_batch_to_space(const mcuforge_space_batch_params *p, const void *input, void *output);

#endif
