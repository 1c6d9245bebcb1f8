#ifndef MCUFORGE_CONV_2D_S4_H
#define MCUFORGE_CONV_2D_S4_H

#include "conv_window.h"
#include "int4_s8.h"

/* CONV_2D with int8 activations and symmetric int4 filters (zero point 0), packed two per byte. */

/* TFLite's ConvPerChannel with the OHWI filter [out_c, KH, KW, in_c / groups] packed in order (int4_s8.h):
 * y[oc] = clamp(requant(bias[oc] + sum over the taps inside the input of (x + input_offset) * w[oc]) +
 * output_offset). bias may be NULL. */
void mcuforge_conv_s4(const mcuforge_conv_params *p, const int8_t *input, const uint8_t *filter,
                      const int32_t *bias, int8_t *output);

#endif
