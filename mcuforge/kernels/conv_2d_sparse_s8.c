#include "conv_2d_sparse_s8.h"

/* Every output pixel walks the whole compressed filter once, output channel by output channel, so the packed
 * nonzeros are read strictly in order through one pointer. A row of the bitmap is consumed in runs: a run whose
 * input values exist (a filter row's taps inside the input, contiguous in NHWC when dilation_w is 1 and there is
 * one group; one tap's channels otherwise) is multiplied, a run of padded taps only advances the nonzeros
 * pointer by its number of set bits. Windows entirely inside the input start from the folded bias and add x * w;
 * the others start from the bias and add (x + input_offset) * w over their inside taps, as TFLite does. Four (or
 * two) neighbouring inside pixels are computed together, each decoded weight feeding all of them. */

MCUFORGE_INLINE int8_t conv_sparse_store(const mcuforge_conv_sparse_params *p, int32_t oc, int32_t acc) {
    const int32_t c = p->requant.per_channel ? oc : 0;
    acc = mcuforge_requantize(acc, p->requant.multiplier[c], p->requant.shift[c]) + p->output_offset;
    return (int8_t)mcuforge_clamp(acc, p->act_min, p->act_max);
}

/* `n` (2 or 4) output pixels side by side whose windows lie inside the input (top-left of the first at
 * (y0, x0)); their outputs at out, out + out_c, ... */
static void conv_sparse_pixels(const mcuforge_conv_sparse_params *p, const int8_t *image, const uint8_t *bitmap,
                               const int8_t *values, int32_t y0, int32_t x0, int32_t n, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t depth = g->in_c / p->groups;
    const int32_t per_group = g->out_c / p->groups;
    const size_t row_bits = (size_t)g->kernel_w * (size_t)depth;
    const size_t row_bytes = ((size_t)g->kernel_h * row_bits + 7u) / 8u;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const size_t x_step = (size_t)g->stride_w * (size_t)g->in_c; /* from the first pixel's window to the second's */
    const int contiguous = g->dilation_w == 1 && p->groups == 1;
    const int8_t *w = values;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    int32_t k;
    for (oc = 0; oc < g->out_c; ++oc) {
        const uint8_t *bits = bitmap + (size_t)oc * row_bytes;
        const size_t group_start = (size_t)(oc / per_group) * (size_t)depth;
        int32_t acc[4];
        for (k = 0; k < 4; ++k) {
            acc[k] = p->bias_folded[oc];
        }
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const int8_t *row = image + (size_t)(y0 + ky * g->dilation_h) * in_row + (size_t)x0 * (size_t)g->in_c;
            /* one run per filter row when its taps are contiguous in the input, else one per tap */
            const int32_t runs = contiguous ? 1 : g->kernel_w;
            const size_t len = contiguous ? row_bits : (size_t)depth;
            for (kx = 0; kx < runs; ++kx) {
                const int8_t *x = row + (size_t)(kx * g->dilation_w) * (size_t)g->in_c + group_start;
                const size_t first = (size_t)ky * row_bits + (size_t)kx * (size_t)depth;
                if (n == 4) {
                    mcuforge_sparse_dot_4px(x, x_step, bits, first, len, &w, acc);
                } else {
                    mcuforge_sparse_dot_2px(x, x_step, bits, first, len, &w, acc);
                }
            }
        }
        for (k = 0; k < n; ++k) {
            out[(size_t)k * (size_t)g->out_c + (size_t)oc] = conv_sparse_store(p, oc, acc[k]);
        }
    }
}

/* One output pixel, all channels; the window's top-left input coordinate is (y0, x0). */
static void conv_sparse_pixel(const mcuforge_conv_sparse_params *p, const int8_t *image, const uint8_t *bitmap,
                              const int8_t *values, const int32_t *bias, int32_t y0, int32_t x0, int8_t *out) {
    const mcuforge_conv_geometry *g = &p->geom;
    const int32_t depth = g->in_c / p->groups;
    const int32_t per_group = g->out_c / p->groups;
    const size_t row_bits = (size_t)g->kernel_w * (size_t)depth; /* one filter row (ky) */
    const size_t row_bytes = ((size_t)g->kernel_h * row_bits + 7u) / 8u;
    const size_t in_row = (size_t)g->in_w * (size_t)g->in_c;
    const int contiguous = g->dilation_w == 1 && p->groups == 1;
    const int8_t *w = values;
    int32_t ky0;
    int32_t ky1;
    int32_t kx0;
    int32_t kx1;
    int32_t full;
    int32_t offset;
    int32_t oc;
    int32_t ky;
    int32_t kx;
    mcuforge_conv_taps(y0, g->kernel_h, g->dilation_h, g->in_h, &ky0, &ky1);
    mcuforge_conv_taps(x0, g->kernel_w, g->dilation_w, g->in_w, &kx0, &kx1);
    full = ky0 == 0 && ky1 == g->kernel_h && kx0 == 0 && kx1 == g->kernel_w;
    offset = full ? 0 : p->input_offset;
    for (oc = 0; oc < g->out_c; ++oc) {
        const uint8_t *bits = bitmap + (size_t)oc * row_bytes;
        const size_t group_start = (size_t)(oc / per_group) * (size_t)depth;
        int32_t acc = full ? p->bias_folded[oc] : (bias ? bias[oc] : 0);
        for (ky = 0; ky < g->kernel_h; ++ky) {
            const size_t first = (size_t)ky * row_bits;
            const int8_t *row;
            if (ky < ky0 || ky >= ky1 || kx0 == kx1) {
                w += mcuforge_sparse_count(bits, first, row_bits);
                continue;
            }
            row = image + (size_t)(y0 + ky * g->dilation_h) * in_row;
            if (contiguous) {
                const size_t lo = (size_t)kx0 * (size_t)depth;
                const size_t hi = (size_t)kx1 * (size_t)depth;
                w += mcuforge_sparse_count(bits, first, lo);
                acc += mcuforge_sparse_dot(row + (size_t)(x0 + kx0) * (size_t)g->in_c, 1, bits, first + lo, hi - lo,
                                           offset, &w);
                w += mcuforge_sparse_count(bits, first + hi, row_bits - hi);
                continue;
            }
            for (kx = 0; kx < g->kernel_w; ++kx) {
                const size_t tap = first + (size_t)kx * (size_t)depth;
                if (kx < kx0 || kx >= kx1) {
                    w += mcuforge_sparse_count(bits, tap, (size_t)depth);
                } else {
                    const int8_t *x = row + (size_t)(x0 + kx * g->dilation_w) * (size_t)g->in_c + group_start;
                    acc += mcuforge_sparse_dot(x, 1, bits, tap, (size_t)depth, offset, &w);
                }
            }
        }
        out[oc] = conv_sparse_store(p, oc, acc);
    }
}

void mcuforge_conv_sparse_s8(const mcuforge_conv_sparse_params *p, const int8_t *input, const uint8_t *bitmap,
                             const int8_t *values, const int32_t *bias, int8_t *output) {
    const mcuforge_conv_geometry *g = &p->geom;
    const size_t image_size = (size_t)g->in_h * (size_t)g->in_w * (size_t)g->in_c;
    int32_t b;
    int32_t oy;
    int32_t ox;
    for (b = 0; b < g->batches; ++b) {
        const int8_t *image = input + (size_t)b * image_size;
        for (oy = 0; oy < g->out_h; ++oy) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            const int inner_row = oy >= g->inner_y0 && oy < g->inner_y1;
            ox = 0;
            while (ox < g->out_w) {
                const int32_t x0 = ox * g->stride_w - g->pad_left;
                const int32_t inside = inner_row && ox >= g->inner_x0 ? g->inner_x1 - ox : 0;
                if (inside >= 2) {
                    const int32_t n = inside >= 4 ? 4 : 2;
                    conv_sparse_pixels(p, image, bitmap, values, y0, x0, n, output);
                    ox += n;
                    output += (size_t)n * (size_t)g->out_c;
                } else {
                    conv_sparse_pixel(p, image, bitmap, values, bias, y0, x0, output);
                    ++ox;
                    output += g->out_c;
                }
            }
        }
    }
}
