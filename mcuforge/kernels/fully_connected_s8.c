#include "fully_connected_s8.h"

/* One output, inlined: an out-of-line copy saves ~140 B of flash but costs ~9 cycles an output, 2% of the
 * all-FC anomaly model (ad01). */
MCUFORGE_INLINE int8_t fc_output(const mcuforge_fc_params *p, int32_t unit, int32_t acc) {
    const int32_t c = p->requant.per_channel ? unit : 0;
    acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
    return (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
}

#if defined(MCUFORGE_DSP)
/* DSP variant: each group of four inputs is widened once (SXTB16, plus the input offset in both lanes with
 * SADD16: at most 255 in magnitude) and meets two weight rows, widened the same way, through four SMLADs. The
 * input row is read in place: no scratch. */
static void fc_dsp(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights, const int32_t *bias,
                   int8_t *output) {
    const int32_t depth = p->depth;
    const uint32_t offset = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    int32_t b;
    int32_t u;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * (size_t)depth;
        for (u = 0; u < p->units; u += 2) {
            const int32_t pair = u + 1 < p->units;
            const int8_t *wa = weights + (size_t)u * (size_t)depth;
            const int8_t *wb = pair ? wa + depth : wa; /* a lone last unit is computed twice */
            int32_t aa = bias ? bias[u] : 0;
            int32_t ab = bias && pair ? bias[u + 1] : 0;
            int32_t d = 0;
            for (; d + 4 <= depth; d += 4) {
                const uint32_t xv = mcuforge_read_s8x4(x + d);
                const uint32_t va = mcuforge_read_s8x4(wa + d);
                const uint32_t vb = mcuforge_read_s8x4(wb + d);
                const uint32_t x02 = mcuforge_sadd16(mcuforge_sxtb16(xv), offset);
                const uint32_t x13 = mcuforge_sadd16(mcuforge_sxtb16_ror8(xv), offset);
                aa = mcuforge_smlad(x02, mcuforge_sxtb16(va), aa);
                aa = mcuforge_smlad(x13, mcuforge_sxtb16_ror8(va), aa);
                ab = mcuforge_smlad(x02, mcuforge_sxtb16(vb), ab);
                ab = mcuforge_smlad(x13, mcuforge_sxtb16_ror8(vb), ab);
            }
            for (; d < depth; ++d) {
                const int32_t v = (int32_t)x[d] + p->input_offset;
                aa += v * wa[d];
                ab += v * wb[d];
            }
            output[(size_t)b * (size_t)p->units + (size_t)u] = fc_output(p, u, aa);
            if (pair) {
                output[(size_t)b * (size_t)p->units + (size_t)u + 1] = fc_output(p, u + 1, ab);
            }
        }
    }
}
#endif

void mcuforge_fully_connected_s8(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights,
                                 const int32_t *bias, int8_t *output) {
#if defined(MCUFORGE_DSP)
    if (p->weights_offset == 0) {
        fc_dsp(p, input, weights, bias, output);
        return;
    }
#endif
    mcuforge_fully_connected_s8_small(p, input, weights, bias, output);
}

/* The portable loop: one unit at a time, one MAC per step, the output stage inlined once. The offsets are locals
 * so that they stay in registers next to the output stage's. */
void mcuforge_fully_connected_s8_small(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights,
                                       const int32_t *bias, int8_t *output) {
    const int32_t depth = p->depth;
    const int32_t input_offset = p->input_offset;
    const int32_t weights_offset = p->weights_offset;
    int32_t b;
    int32_t u;
    int32_t d;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *w = weights;
        for (u = 0; u < p->units; ++u) {
            int32_t acc = bias ? bias[u] : 0;
            for (d = 0; d < depth; ++d) {
                acc += ((int32_t)input[d] + input_offset) * ((int32_t)*w++ + weights_offset);
            }
            *output++ = fc_output(p, u, acc);
        }
        input += depth;
    }
}

/* Symmetric weights (weights_offset 0, as TFLite's int8 scheme has them; the emitter checks): on a core with the
 * DSP extension only the DSP variant is linked, elsewhere only the portable loop (--gc-sections drops the entry
 * point a build does not call). */
void mcuforge_fully_connected_s8_sym(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights,
                                     const int32_t *bias, int8_t *output) {
#if defined(MCUFORGE_DSP)
    fc_dsp(p, input, weights, bias, output);
#else
    mcuforge_fully_connected_s8_small(p, input, weights, bias, output);
#endif
}
