/* Window geometry and parameters shared by the convolution kernels (CONV_2D and DEPTHWISE_CONV_2D, every dtype
 * variant).
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

/* The window of one output pixel: its top-left tap is input (y0, x0), and taps [ky0, ky1) x [kx0, kx1) of the
 * filter land inside the input. */
typedef struct {
    int32_t y0;
    int32_t x0;
    int32_t ky0;
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
} mcuforge_conv_window;

MCUFORGE_INLINE void mcuforge_conv_window_at(const mcuforge_conv_geometry *g, int32_t y0, int32_t x0,
                                             mcuforge_conv_window *win) {
    win->y0 = y0;
    win->x0 = x0;
    mcuforge_conv_taps(y0, g->kernel_h, g->dilation_h, g->in_h, &win->ky0, &win->ky1);
    mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &win->kx0, &win->kx1);
}

/* Every tap inside the input: the window may start from the folded bias and skip the input offset. */
MCUFORGE_INLINE int32_t mcuforge_conv_window_full(const mcuforge_conv_geometry *g, const mcuforge_conv_window *win) {
    return win->ky0 == 0 && win->ky1 == g->kernel_h && win->kx0 == 0 && win->kx1 == g->kernel_w;
}

/* The int8 kernels visit the output pixels in NHWC order through a cursor: the batch item's input image, the
 * output pixel (oy, ox) and the top-left tap (y0, x0) of its window. A kernel may step over several pixels of a
 * row at once (never past the row's end), which keeps the output rows in increasing order. */
typedef struct {
    const int8_t *image;
    int32_t batch;
    int32_t oy;
    int32_t ox;
    int32_t y0;
    int32_t x0;
} mcuforge_conv_cursor;

MCUFORGE_INLINE void mcuforge_conv_begin(const mcuforge_conv_geometry *g, const int8_t *input,
                                         mcuforge_conv_cursor *at) {
    at->image = input;
    at->batch = g->out_h > 0 && g->out_w > 0 ? 0 : g->batches; /* no output pixel: nothing to visit */
    at->oy = 0;
    at->ox = 0;
    at->y0 = -g->pad_top;
    at->x0 = -g->pad_left;
}

MCUFORGE_INLINE int32_t mcuforge_conv_more(const mcuforge_conv_geometry *g, const mcuforge_conv_cursor *at) {
    return at->batch < g->batches;
}

MCUFORGE_INLINE void mcuforge_conv_advance(const mcuforge_conv_geometry *g, mcuforge_conv_cursor *at,
                                           int32_t pixels) {
    at->ox += pixels;
    if (at->ox >= g->out_w) {
        at->ox = 0;
        if (++at->oy == g->out_h) {
            at->oy = 0;
            ++at->batch;
            at->image += (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c;
        }
        at->y0 = at->oy * g->stride_h - g->pad_top;
    }
    at->x0 = at->ox * g->stride_w - g->pad_left;
}

/* How many output pixels of the row, from the cursor's on, have their whole window inside the input: 0 when the
 * cursor's own does not. */
MCUFORGE_INLINE int32_t mcuforge_conv_inside(const mcuforge_conv_geometry *g, const mcuforge_conv_cursor *at) {
    const int32_t inner_row = at->oy >= g->inner_y0 && at->oy < g->inner_y1;
    return inner_row && at->ox >= g->inner_x0 && at->ox < g->inner_x1 ? g->inner_x1 - at->ox : 0;
}

/* The segments of a full (unpadded) window of a one-group filter: `rows` x `cols` runs of `len` values, one per
 * filter row when dilation_w is 1 (its taps are then contiguous in NHWC), one per tap otherwise. */
typedef struct {
    int32_t rows;
    int32_t cols;
    int32_t len;
    size_t x_row; /* input step between segment rows, in values */
    size_t x_col;
    size_t w_row; /* filter step, in weights */
    size_t w_col;
} mcuforge_conv_segments;

MCUFORGE_INLINE void mcuforge_conv_full_segments(const mcuforge_conv_geometry *g, mcuforge_conv_segments *s) {
    s->rows = g->kernel_h;
    s->cols = g->dilation_w == 1 ? 1 : g->kernel_w;
    s->len = g->dilation_w == 1 ? g->kernel_w * g->in_c : g->in_c;
    s->x_row = (size_t)g->dilation_h * (size_t)g->in_w * (size_t)g->in_c;
    s->x_col = (size_t)g->dilation_w * (size_t)g->in_c;
    s->w_row = (size_t)g->kernel_w * (size_t)g->in_c;
    s->w_col = (size_t)g->in_c;
}

/* The parameters of every int8 CONV_2D kernel: int8 (conv_2d_s8.h), int4 (conv_2d_s4.h) and bitmap-sparse
 * (conv_2d_sparse_s8.h) filters. */
typedef struct {
    mcuforge_conv_geometry geom;
    int32_t groups;         /* filter depth = in_c / groups; output channel oc reads group oc / (out_c / groups) */
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    int32_t act_min;
    int32_t act_max;
    /* bias[oc] + input_offset * (sum of filter oc): the accumulator's start when no tap is padded. */
    const int32_t *bias_folded;
    mcuforge_requant requant;
    /* MCUFORGE_DSP_FOLDED or _GENERAL: the form of the DSP variant's requantization that holds for this layer
     * (dsp_s8.h); the int8 kernel's `scratch` then holds at least MCUFORGE_CONV_DSP_SCRATCH bytes and its DSP
     * variant runs when the target has the DSP extension. 0: the portable code runs everywhere. The int4 and
     * sparse kernels do not read it (the emitter picks the sparse pointwise kernel's entry point by it). */
    int32_t dsp_requant;
} mcuforge_conv_params;

/* The parameters of every int8 DEPTHWISE_CONV_2D kernel: int8, int4 (which reads neither bias_folded nor
 * dsp_requant) and bitmap-sparse (which does not read dsp_requant) filters. */
typedef struct {
    mcuforge_conv_geometry geom; /* out_c = in_c * depth_multiplier */
    int32_t depth_multiplier;    /* output channel oc filters input channel oc / depth_multiplier */
    int32_t input_offset;        /* -input zero point */
    int32_t output_offset;       /* output zero point */
    int32_t act_min;
    int32_t act_max;
    /* bias[oc] + input_offset * (sum of the filter's taps for oc): the accumulator's start when no tap is padded. */
    const int32_t *bias_folded;
    mcuforge_requant requant;
    /* MCUFORGE_DSP_FOLDED or _GENERAL: a 3x3 filter, depth multiplier 1, no dilation, stride_w 1 or 2, the
     * form of the DSP variant's requantization that holds for this layer (dsp_s8.h), and `scratch` holds
     * MCUFORGE_DEPTHWISE_DSP_SCRATCH bytes; the DSP variant then runs when the target has the DSP extension.
     * 0: the portable code runs everywhere. */
    int32_t dsp_requant;
} mcuforge_depthwise_conv_params;

/* The int8 output stage: the accumulator of output channel oc requantized, plus the output zero point, clamped to
 * the fused activation's range. */
MCUFORGE_INLINE int8_t mcuforge_conv_output(const mcuforge_requant *requant, int32_t oc, int32_t acc,
                                            int32_t output_offset, int32_t act_min, int32_t act_max) {
    const int32_t c = requant->per_channel ? oc : 0;
    acc = mcuforge_requantize(acc, requant->multiplier[c], requant->shift[c]) + output_offset;
    return (int8_t)mcuforge_clamp(acc, act_min, act_max);
}

#endif
