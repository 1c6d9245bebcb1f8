#ifndef MCUFORGE_FULLY_CONNECTED_S4_H
#define MCUFORGE_FULLY_CONNECTED_S4_H

#include "int4_s8.h"

/* FULLY_CONNECTED with int8 activations and symmetric int4 weights (zero point 0), packed two per byte. */
typedef struct {
    int32_t batches; /* rows of the input */
    int32_t depth;   /* input features */
    int32_t units;   /* output features */
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min;
    int32_t act_max;
    mcuforge_requant requant;
} mcuforge_fc_s4_params;

/* y[b][u] = clamp(requant(sum_d (x[b][d] + in_off) * w[u][d] + bias[u]) + out_off). The weights [units][depth]
 * are packed in order, two per byte: element 2k in the low nibble of byte k, element 2k + 1 in its high nibble,
 * each a two's complement int4 (TFLite's and CMSIS-NN's packing). bias may be NULL. */
void mcuforge_fully_connected_s4(const mcuforge_fc_s4_params *p, const int8_t *input, const uint8_t *weights,
                                 const int32_t *bias, int8_t *output);

#endif
