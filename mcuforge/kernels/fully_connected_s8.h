#ifndef MCUFORGE_FULLY_CONNECTED_S8_H
#define MCUFORGE_FULLY_CONNECTED_S8_H

#include "dsp_s8.h"

typedef struct {
    int32_t batches; /* rows of the input */
    int32_t depth;   /* input features */
    int32_t units;   /* output features */
    int32_t input_offset;  /* -input zero point */
    int32_t weights_offset; /* -weights zero point (0 for symmetric int8) */
    int32_t output_offset; /* output zero point */
    int32_t act_min;
    int32_t act_max;
    mcuforge_requant requant;
} mcuforge_fc_params;

/* y[b][u] = clamp(requant(sum_d (x[b][d] + in_off) * (w[u][d] + w_off) + bias[u]) + out_off). bias may be NULL.
 * With the DSP extension and symmetric weights (w_off 0), two units at a time through SMLAD (dsp_s8.h). */
void mcuforge_fully_connected_s8(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights,
                                 const int32_t *bias, int8_t *output);

/* The same for weights_offset == 0 only: a build links just the variant its core runs. */
void mcuforge_fully_connected_s8_sym(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights,
                                     const int32_t *bias, int8_t *output);

/* The same through the portable loop on every core (any weights_offset): less than half the flash of the DSP
 * variant at some 7 more cycles a MAC, for graphs whose FC layers are all tiny (ops/fully_connected.py picks it). */
void mcuforge_fully_connected_s8_small(const mcuforge_fc_params *p, const int8_t *input, const int8_t *weights,
                                       const int32_t *bias, int8_t *output);

#endif
