#include "conv_2d_sparse_dense_s8.h"
#include "conv_2d_s8.h" /* the dense pointwise kernel, run on the decoded filters */

/* Sparse storage, dense compute: decoding costs ~10 cycles a nonzero weight once per layer, the dense kernel ~1.2
 * a MAC, and each block of filters widens the input again (~2 cycles a value, over `filters` filters). Only where
 * the dense kernel's DSP variant runs (conv_2d_s8.c: the DSP extension, double rounding); elsewhere the sparse
 * one. No struct copy, memset or memcpy of a variable size: those would link the C library's (~500 bytes). */
void mcuforge_conv_sparse_1x1_s8_dense(const mcuforge_conv_params *p, const int8_t *input,
                                       const uint8_t *bitmap, const int8_t *values, int8_t *output, void *scratch,
                                       int32_t filters, int32_t chunk) {
#if defined(MCUFORGE_DSP) && !defined(MCUFORGE_SINGLE_ROUNDING)
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t k = g->in_c;
    const int32_t bytes = (k + 7) / 8;
    const int32_t pixels = g->batches * g->in_h * g->in_w;
    int8_t *rows = (int8_t *)scratch;
    int8_t *outs = rows + filters * k + 32;
    void *dense = rows + ((filters * k + 32 + chunk * filters + 15) & ~15);
    const int8_t *w = values;
    mcuforge_conv_params block; /* a block of filters over a chunk of pixels: one row of a pointwise layer */
    int32_t first;
    /* the fields the dense kernel may read (a copy of the struct would be a memcpy call) */
    block.geom.batches = 1;
    block.geom.in_h = 1;
    block.geom.in_c = k;
    block.geom.out_h = 1;
    block.geom.kernel_h = 1;
    block.geom.kernel_w = 1;
    block.geom.stride_h = 1;
    block.geom.stride_w = 1;
    block.geom.dilation_h = 1;
    block.geom.dilation_w = 1;
    block.geom.pad_top = 0;
    block.geom.pad_left = 0;
    block.geom.inner_y0 = 0;
    block.geom.inner_y1 = 1;
    block.geom.inner_x0 = 0;
    block.groups = 1;
    block.input_offset = p->input_offset;
    block.output_offset = p->output_offset;
    block.act_min = p->act_min;
    block.act_max = p->act_max;
    block.requant = p->requant;
    block.dsp_requant = p->dsp_requant;
    for (first = 0; first < g->out_c; first += filters) {
        const int32_t count = g->out_c - first < filters ? g->out_c - first : filters;
        const int32_t c0 = p->requant.per_channel ? first : 0;
        int32_t n;
        mcuforge_sparse_decode(bitmap + (size_t)first * (size_t)bytes, (size_t)bytes, k, count, &w, rows);
        block.geom.out_c = count;
        block.bias_folded = p->bias_folded + first;
        block.requant.multiplier = p->requant.multiplier + c0;
        block.requant.shift = p->requant.shift + c0;
        for (n = 0; n < pixels; n += chunk) {
            const int32_t m = pixels - n < chunk ? pixels - n : chunk;
            const int8_t *src = outs;
            int8_t *dst = output + (size_t)n * (size_t)g->out_c + (size_t)first;
            int32_t i;
            int32_t c;
            block.geom.in_w = m;
            block.geom.out_w = m;
            block.geom.inner_x1 = m;
            mcuforge_conv_1x1_s8_fast(&block, input + (size_t)n * (size_t)k, rows, outs, dense);
            for (i = 0; i < m; ++i, src += count, dst += g->out_c) { /* the chunk's outputs to their channels */
                for (c = 0; c + 1 < count; c += 2) {
                    memcpy(dst + c, src + c, 2);
                }
                if (c < count) {
                    dst[c] = src[c];
                }
            }
        }
    }
#else
    (void)scratch;
    (void)filters;
    (void)chunk;
    mcuforge_conv_sparse_1x1_s8_fast(p, input, bitmap, values, output);
#endif
}
