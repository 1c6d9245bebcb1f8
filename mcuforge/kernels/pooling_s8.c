#include "pooling_s8.h"
#include "dsp_s8.h"

/* Channels summed at once: the taps of a window are read as contiguous NHWC pixels (channel innermost) into a
 * small stack accumulator, instead of striding through the window once per channel. */
#define MCUFORGE_POOL_BLOCK 32

/* The window of one output position along one axis, clamped to the input: taps [*first, *end). */
MCUFORGE_INLINE void pool_window(int32_t origin, int32_t filter, int32_t in_size, int32_t *first, int32_t *end) {
    *first = origin < 0 ? -origin : 0;
    *end = in_size - origin < filter ? in_size - origin : filter;
}

#if defined(MCUFORGE_DSP)
/* The DSP variant sums four channels per word: SXTAB16 adds bytes 0 and 2 of a word to the two int16 lanes of
 * one accumulator, SXTAB16 with ROR #8 bytes 1 and 3 to another. A lane holds the sum of up to 256 int8 taps
 * (256 * -128 = -32768), so runs of taps are summed in chunks of POOL_LANE_TAPS and then widened to int32. */
#define POOL_LANE_TAPS 256

#if defined(MCUFORGE_DSP_ASM)
MCUFORGE_INLINE uint32_t pool_sxtab16(uint32_t acc, uint32_t x) {
    return (uint32_t)__sxtab16((int32_t)acc, (int32_t)x);
}

MCUFORGE_INLINE uint32_t pool_sxtab16_ror8(uint32_t acc, uint32_t x) {
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}
#else
MCUFORGE_INLINE uint32_t pool_sxtab16(uint32_t acc, uint32_t x) {
    return mcuforge_sadd16(acc, mcuforge_sxtb16(x));
}

MCUFORGE_INLINE uint32_t pool_sxtab16_ror8(uint32_t acc, uint32_t x) {
    return mcuforge_sadd16(acc, mcuforge_sxtb16_ror8(x));
}
#endif

/* Adds `taps` pixels, `step` bytes apart from `tap`, to sum[0..3]: their four channels from `tap` on when `wide`,
 * else the one at `tap` (to sum[0]; the other sums get 0). Lanes are widened every POOL_LANE_TAPS taps. */
MCUFORGE_INLINE void pool_sum_run(const int8_t *tap, int32_t taps, int32_t step, int32_t wide, int32_t *sum) {
    while (taps > 0) {
        int32_t k = taps < POOL_LANE_TAPS ? taps : POOL_LANE_TAPS;
        uint32_t even = 0; /* channels 0 and 2 */
        uint32_t odd = 0;  /* channels 1 and 3 */
        taps -= k;
        if (wide) {
            if (k & 1) {
                const uint32_t x = mcuforge_read_s8x4(tap);
                even = pool_sxtab16(even, x);
                odd = pool_sxtab16_ror8(odd, x);
                tap += step;
            }
            for (k >>= 1; k > 0; --k) { /* two taps per iteration: the second load pipelines */
                const uint32_t x0 = mcuforge_read_s8x4(tap);
                const uint32_t x1 = mcuforge_read_s8x4(tap + step);
                even = pool_sxtab16(pool_sxtab16(even, x0), x1);
                odd = pool_sxtab16_ror8(pool_sxtab16_ror8(odd, x0), x1);
                tap += 2 * step;
            }
        } else {
            for (; k > 0; --k) {
                even = pool_sxtab16(even, (uint8_t)*tap);
                tap += step;
            }
        }
        /* The low lane sign-extended; the high lane by an arithmetic shift. */
        sum[0] += (int16_t)(even & 0xFFFFu);
        sum[1] += (int16_t)(odd & 0xFFFFu);
        sum[2] += (int32_t)even >> 16;
        sum[3] += (int32_t)odd >> 16;
    }
}

/* The block's `width` averages (sum / count rounded half away from zero, as C's truncating division after adding
 * half the count) into out[0..width), clamped. */
static void pool_store(const mcuforge_pool_params *p, const int32_t *sum, int32_t width, int32_t count,
                       int8_t *out) {
    const int32_t half = count / 2;
    const int32_t lo = p->act_min; /* locals: the int8 stores could alias the params and force reloads */
    const int32_t hi = p->act_max;
    int32_t c;
    for (c = 0; c < width; ++c) {
        const int32_t avg = (sum[c] + (sum[c] > 0 ? half : -half)) / count;
        out[c] = (int8_t)mcuforge_clamp(avg, lo, hi);
    }
}

/* Channels in blocks of four; fewer than four channels one at a time (a word would read past the tensor). The
 * last block of four ends at the last channel: it may overlap the one before, which writes the same values. */
#define POOL_WIDTH(channels) ((channels) >= 4 ? 4 : 1)
#define POOL_BLOCK(c0, width, channels) ((c0) + (width) > (channels) ? (channels) - (width) : (c0))

void mcuforge_avg_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output) {
    int32_t line; /* output rows of every batch item, in order */
    int32_t ox;
    int32_t c0;
    int32_t r;
    const int32_t step = p->channels;
    const int32_t width = POOL_WIDTH(step);
    const int32_t row = p->in_w * step;
    for (line = 0; line < p->batches * p->out_h; ++line) {
        const int32_t oy = line % p->out_h;
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        int32_t ky0;
        int32_t ky1;
        pool_window(y0, p->filter_h, p->in_h, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int32_t kx0;
            int32_t kx1;
            int32_t count;
            int32_t runs;
            int32_t taps;
            const int8_t *first;
            pool_window(x0, p->filter_w, p->in_w, &kx0, &kx1);
            count = (ky1 - ky0) * (kx1 - kx0);
            /* A window as wide as the input is one run of contiguous pixels. */
            runs = kx1 - kx0 == p->in_w ? 1 : ky1 - ky0;
            taps = runs == 1 ? count : kx1 - kx0;
            first = input + ((line / p->out_h) * p->in_h + y0 + ky0) * row + (x0 + kx0) * step;
            for (c0 = 0; c0 < step; c0 += width) {
                const int32_t block = POOL_BLOCK(c0, width, step);
                int32_t sum[4] = {0, 0, 0, 0};
                for (r = 0; r < runs; ++r) {
                    pool_sum_run(first + r * row + block, taps, step, width == 4, sum);
                }
                pool_store(p, sum, width, count, output + block);
            }
            output += step;
        }
    }
}

void mcuforge_global_avg_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output) {
    const int32_t step = p->channels;
    const int32_t width = POOL_WIDTH(step);
    const int32_t taps = p->in_h * p->in_w;
    int32_t b;
    int32_t c0;
    for (b = 0; b < p->batches; ++b) {
        for (c0 = 0; c0 < step; c0 += width) {
            const int32_t block = POOL_BLOCK(c0, width, step);
            int32_t sum[4] = {0, 0, 0, 0};
            pool_sum_run(input + block, taps, step, width == 4, sum);
            pool_store(p, sum, width, taps, output + block);
        }
        input += taps * step;
        output += step;
    }
}
#else
void mcuforge_avg_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output) {
    int32_t acc[MCUFORGE_POOL_BLOCK];
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ky;
    int32_t kx;
    int32_t c0;
    int32_t c;
    const size_t row = (size_t)p->in_w * (size_t)p->channels;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->in_h * row;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            int32_t ky0;
            int32_t ky1;
            pool_window(y0, p->filter_h, p->in_h, &ky0, &ky1);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                int32_t kx0;
                int32_t kx1;
                int32_t count;
                int32_t half;
                pool_window(x0, p->filter_w, p->in_w, &kx0, &kx1);
                count = (ky1 - ky0) * (kx1 - kx0);
                half = count / 2;
                for (c0 = 0; c0 < p->channels; c0 += MCUFORGE_POOL_BLOCK) {
                    const int32_t n = p->channels - c0 < MCUFORGE_POOL_BLOCK ? p->channels - c0 : MCUFORGE_POOL_BLOCK;
                    for (c = 0; c < n; ++c) {
                        acc[c] = 0;
                    }
                    for (ky = ky0; ky < ky1; ++ky) {
                        const int8_t *line = image + (size_t)(y0 + ky) * row + (size_t)c0;
                        for (kx = kx0; kx < kx1; ++kx) {
                            const int8_t *pixel = line + (size_t)(x0 + kx) * (size_t)p->channels;
                            for (c = 0; c < n; ++c) {
                                acc[c] += pixel[c];
                            }
                        }
                    }
                    for (c = 0; c < n; ++c) {
                        /* C division truncates toward zero; adding half the count first rounds half away. */
                        const int32_t avg = acc[c] > 0 ? (acc[c] + half) / count : (acc[c] - half) / count;
                        output[c0 + c] = (int8_t)mcuforge_clamp(avg, p->act_min, p->act_max);
                    }
                }
                output += p->channels;
            }
        }
    }
}

void mcuforge_global_avg_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output) {
    mcuforge_avg_pool_s8(p, input, output); /* the general kernel is as fast here */
}
#endif

void mcuforge_global_avg_pool_s8_small(const mcuforge_pool_params *p, const int8_t *input, int8_t *output) {
    const int32_t channels = p->channels;
    const int32_t count = p->in_h * p->in_w;
    const int32_t half = count / 2;
    int32_t b;
    int32_t c;
    int32_t t;
    for (b = 0; b < p->batches; ++b) {
        for (c = 0; c < channels; ++c) {
            const int8_t *tap = input + c;
            int32_t sum = 0;
            for (t = 0; t < count; ++t) {
                sum += *tap;
                tap += channels;
            }
            /* C division truncates toward zero; adding half the count first rounds half away. */
            sum = (sum + (sum > 0 ? half : -half)) / count;
            output[c] = (int8_t)mcuforge_clamp(sum, p->act_min, p->act_max);
        }
        input += count * channels;
        output += channels;
    }
}

void mcuforge_max_pool_s8(const mcuforge_pool_params *p, const int8_t *input, int8_t *output) {
    int32_t b;
    int32_t oy;
    int32_t ox;
    int32_t ky;
    int32_t kx;
    int32_t c;
    const size_t row = (size_t)p->in_w * (size_t)p->channels;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *image = input + (size_t)b * (size_t)p->in_h * row;
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
                /* The output pixel is the running maximum. Starting it at act_min folds the lower clamp in:
                 * max(act_min, max(taps)) == clamp from below. It lies in rows already consumed, never in the
                 * window being read. */
                for (c = 0; c < p->channels; ++c) {
                    output[c] = (int8_t)p->act_min;
                }
                for (ky = ky0; ky < ky1; ++ky) {
                    const int8_t *line = image + (size_t)(y0 + ky) * row;
                    for (kx = kx0; kx < kx1; ++kx) {
                        const int8_t *pixel = line + (size_t)(x0 + kx) * (size_t)p->channels;
                        for (c = 0; c < p->channels; ++c) {
                            output[c] = pixel[c] > output[c] ? pixel[c] : output[c];
                        }
                    }
                }
                for (c = 0; c < p->channels; ++c) {
                    output[c] = output[c] < p->act_max ? output[c] : (int8_t)p->act_max;
                }
                output += p->channels;
            }
        }
    }
}
