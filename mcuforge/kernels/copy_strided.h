/* Strided copy: the one kernel behind every pure data-movement op (TRANSPOSE, STRIDED_SLICE, PAD,
 * CONCATENATION). Values are moved, never converted, so it works on element bytes for any dtype. */
#ifndef MCUFORGE_COPY_STRIDED_H
#define MCUFORGE_COPY_STRIDED_H

#include "mcuforge_common.h"

#define MCUFORGE_COPY_MAX_DIMS 6

/* A dims[0] x ... x dims[rank - 1] box of elements: element (i0, ..., ik) is read at byte
 * in_offset + sum(i_d * in_strides[d]) of the input and written at byte out_offset + sum(i_d * out_strides[d])
 * of the output. Gathers (TRANSPOSE, STRIDED_SLICE) step through the input with permuted or scaled, possibly
 * negative strides; scatters (PAD, CONCATENATION) place a contiguous input inside a larger output.
 * The emitter merges dimensions that are contiguous on both sides, so the last one is usually one memcpy. */
typedef struct {
    int32_t rank;         /* 1..MCUFORGE_COPY_MAX_DIMS */
    int32_t element_size; /* bytes per element */
    int32_t in_offset;    /* bytes */
    int32_t out_offset;   /* bytes */
    int32_t dims[MCUFORGE_COPY_MAX_DIMS];
    int32_t in_strides[MCUFORGE_COPY_MAX_DIMS];  /* bytes, may be negative */
    int32_t out_strides[MCUFORGE_COPY_MAX_DIMS]; /* bytes */
} mcuforge_copy_params;

void mcuforge_copy_strided(const mcuforge_copy_params *p, const void *input, void *output);

/* Writes `count` copies of the element_size bytes at `value` (PAD's constant). */
void mcuforge_fill(void *output, const void *value, int32_t element_size, int32_t count);

#endif
