#include "pooling_f32.h"

/* Channels summed at once, reading each tap as a contiguous NHWC pixel (see pooling_s8.c). */
#define MCUFORGE_POOL_BLOCK 32

MCUFORGE_INLINE void pool_window(int32_t origin, int32_t filter, int32_t in_size, int32_t *first, int32_t *end) {
    *first = origin < 0 ? -origin : 0;
    *end = in_size - origin < filter ? in_size - origin : filter;
}

MCUFORGE_INLINE float clamp_f32(float x, float lo, float hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

void mcuforge_avg_pool_f32(const mcuforge_pool_f32_params *p, const float *input, float *output) {
    float acc[MCUFORGE_POOL_BLOCK];
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ky;
    int32_t kx;
    int32_t c0;
    int32_t c;
    const size_t row = (size_t)p->in_w * (size_t)p->channels;
    for (b = 0; b < p->batches; ++b) {
        const float *image = input + (size_t)b * (size_t)p->in_h * row;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            int32_t ky0;
            int32_t ky1;
            pool_window(y0, p->filter_h, p->in_h, &ky0, &ky1);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                int32_t kx0;
                int32_t kx1;
                float count;
                pool_window(x0, p->filter_w, p->in_w, &kx0, &kx1);
                count = (float)((ky1 - ky0) * (kx1 - kx0));
                for (c0 = 0; c0 < p->channels; c0 += MCUFORGE_POOL_BLOCK) {
                    const int32_t n = p->channels - c0 < MCUFORGE_POOL_BLOCK ? p->channels - c0 : MCUFORGE_POOL_BLOCK;
                    for (c = 0; c < n; ++c) {
                        acc[c] = 0.0f;
                    }
                    /* Taps summed row by row, as TFLite's float AveragePool. */
                    for (ky = ky0; ky < ky1; ++ky) {
                        const float *line = image + (size_t)(y0 + ky) * row + (size_t)c0;
                        for (kx = kx0; kx < kx1; ++kx) {
                            const float *pixel = line + (size_t)(x0 + kx) * (size_t)p->channels;
                            for (c = 0; c < n; ++c) {
                                acc[c] += pixel[c];
                            }
                        }
                    }
                    for (c = 0; c < n; ++c) {
                        output[c0 + c] = clamp_f32(acc[c] / count, p->act_min, p->act_max);
                    }
                }
                output += p->channels;
            }
        }
    }
}

void mcuforge_max_pool_f32(const mcuforge_pool_f32_params *p, const float *input, float *output) {
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ky;
    int32_t kx;
    int32_t c;
    const size_t row = (size_t)p->in_w * (size_t)p->channels;
    for (b = 0; b < p->batches; ++b) {
        const float *image = input + (size_t)b * (size_t)p->in_h * row;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            int32_t ky0;
            int32_t ky1;
            pool_window(y0, p->filter_h, p->in_h, &ky0, &ky1);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                int32_t kx0;
                int32_t kx1;
                pool_window(x0, p->filter_w, p->in_w, &kx0, &kx1);
                /* Running maximum in the output pixel, started at act_min (the lower clamp); the pixel lies in
                 * rows already consumed, never in the window being read. */
                for (c = 0; c < p->channels; ++c) {
                    output[c] = p->act_min;
                }
                for (ky = ky0; ky < ky1; ++ky) {
                    const float *line = image + (size_t)(y0 + ky) * row;
                    for (kx = kx0; kx < kx1; ++kx) {
                        const float *pixel = line + (size_t)(x0 + kx) * (size_t)p->channels;
                        for (c = 0; c < p->channels; ++c) {
                            output[c] = pixel[c] > output[c] ? pixel[c] : output[c];
                        }
                    }
                }
                for (c = 0; c < p->channels; ++c) {
                    output[c] = output[c] < p->act_max ? output[c] : p->act_max;
                }
                output += p->channels;
            }
        }
    }
}
