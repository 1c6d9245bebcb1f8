/* Window geometry shared by the convolution kernels (CONV_2D and DEPTHWISE_CONV_2D, every dtype variant).
 *
 * Every convolution kernel walks NHWC output rows in increasing order and, while producing output row r, reads
 * no input row before r * stride_h - pad_top (padded taps are skipped, never read): the planner may place the
 * output over input rows already consumed (the OpDef's row_window). */
#ifndef MCUFORGE_CONV_WINDOW_H
#define MCUFORGE_CONV_WINDOW_H

#include "mcuforge_common.h"

typedef struct {
    int32_t batches;
    int32_t in_h;
    int32_t in_w;
    int32_t in_c;
    int32_t out_h;
    int32_t out_w;
    int32_t out_c;
    int32_t kernel_h;
    int32_t kernel_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dilation_h;
    int32_t dilation_w;
    int32_t pad_top;  /* TFLite's ComputePaddingHeightWidth: the odd pixel goes after */
    int32_t pad_left;
    /* Outputs in rows [inner_y0, inner_y1) and columns [inner_x0, inner_x1) see every tap inside the input. */
    int32_t inner_y0;
    int32_t inner_y1;
    int32_t inner_x0;
    int32_t inner_x1;
} mcuforge_conv_geometry;

/* The taps [*first, *end) of a window starting at input coordinate `origin` (kernel taps `dilation` apart) that
 * land inside [0, size); *end == *first when none does. */
void mcuforge_conv_taps(int32_t origin, int32_t kernel, int32_t dilation, int32_t size, int32_t *first,
                        int32_t *end);

#endif
