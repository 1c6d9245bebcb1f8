#ifndef MCUFORGE_DEPTHWISE_CONV_2D_SPARSE_DENSE_S8_H
#define MCUFORGE_DEPTHWISE_CONV_2D_SPARSE_DENSE_S8_H

#include "depthwise_conv_2d_sparse_s8.h"

/* A sparse depthwise layer (mcuforge_depthwise_conv_sparse_s8's arguments) whose dense kernel would run its DSP
 * variant (depthwise_conv_2d_s8.c: 3x3, depth multiplier 1, no dilation, stride_w 1 or 2; `p` then carries that
 * variant's dsp_requant and folded bias): "sparse storage, dense compute". The filter is decoded into `scratch` in
 * the dense layout [KH, KW, out_c] and run by the dense entry point of the same suffix
 * (mcuforge_depthwise_conv_s8<suffix>, which the emitter chooses as for a dense layer: its DSP variant, or its
 * portable code on cores without the DSP extension, also faster than the sparse kernel); the dense kernel's
 * scratch follows, at the filter's bytes rounded up to a multiple of 16 (ops/depthwise_conv_2d.py reserves both).
 * One entry point per dense one (no suffix: the general entry), so a build links only its layers'. */
#define MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(suffix)                                                              \
    void mcuforge_depthwise_conv_sparse_s8_dense##suffix(const mcuforge_depthwise_conv_params *p,               \
                                                         const int8_t *input, const uint8_t *bitmap,            \
                                                         const int8_t *values, const int32_t *bias,             \
                                                         int8_t *output, void *scratch)
MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL();
MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(_wide);
MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(_fast_long);
MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(_fast_w5);
MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(_fast_s2_long);
MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(_fast_both_long);
MCUFORGE_DEPTHWISE_SPARSE_DENSE_DECL(_fast_both_no_pairs);

#endif
