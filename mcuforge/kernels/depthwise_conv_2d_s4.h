#ifndef MCUFORGE_DEPTHWISE_CONV_2D_S4_H
#define MCUFORGE_DEPTHWISE_CONV_2D_S4_H

#include "conv_window.h"
#include "int4_s8.h"

/* DEPTHWISE_CONV_2D with int8 activations and symmetric int4 filters (zero point 0), packed two per byte. */

/* TFLite's DepthwiseConvPerChannel with the filter [1, KH, KW, out_c] packed in order (int4_s8.h): tap (ky, kx)
 * of channel oc is weight (ky * KW + kx) * out_c + oc. bias may be NULL. */
void mcuforge_depthwise_conv_s4(const mcuforge_depthwise_conv_params *p, const int8_t *input,
                                const uint8_t *filter, const int32_t *bias, int8_t *output);

#endif
