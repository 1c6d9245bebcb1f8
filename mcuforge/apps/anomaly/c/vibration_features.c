/* Vibration features (see features.py): frames every VIB_FRAME_STEP samples, periodic Hann window, radix-2
 * complex FFT, one-sided power averaged over the frames, summed over bands, log(energy + floor). */
#include "vibration_features.h"

#include <math.h>

#define N VIB_FRAME_LENGTH

/* In-place complex FFT of N points, interleaved re/im, decimation in time. */
static void complex_fft(float *z)
{
    unsigned i, size, start, k;
    for (i = 0; i < N; ++i) {
        unsigned j = vib_bitrev[i];
        if (j > i) {
            float re = z[2 * i], im = z[2 * i + 1];
            z[2 * i] = z[2 * j];
            z[2 * i + 1] = z[2 * j + 1];
            z[2 * j] = re;
            z[2 * j + 1] = im;
        }
    }
    for (size = 2; size <= N; size *= 2) {
        unsigned half = size / 2, stride = N / size;
        for (start = 0; start < N; start += size) {
            for (k = 0; k < half; ++k) {
                float wr = vib_fft_cos[k * stride], wi = -vib_fft_sin[k * stride];
                float *a = z + 2 * (start + k), *b = z + 2 * (start + k + half);
                float tr = wr * b[0] - wi * b[1], ti = wr * b[1] + wi * b[0];
                b[0] = a[0] - tr;
                b[1] = a[1] - ti;
                a[0] += tr;
                a[1] += ti;
            }
        }
    }
}

void mcuforge_vibration_features(const float *clip, float features[VIB_NUM_FEATURES],
                                 float work[VIB_WORK_FLOATS])
{
    float *z = work, *power = work + 2 * N;
    unsigned c, f, i, k, b;
    for (c = 0; c < VIB_CHANNELS; ++c) {
        const float *signal = clip + (unsigned long)c * VIB_CLIP_SAMPLES;
        for (k = 0; k < VIB_NUM_BINS; ++k) {
            power[k] = 0.0f;
        }
        for (f = 0; f < VIB_NUM_FRAMES; ++f) {
            const float *frame = signal + f * VIB_FRAME_STEP;
            for (i = 0; i < N; ++i) {
                z[2 * i] = frame[i] * vib_window[i];
                z[2 * i + 1] = 0.0f;
            }
            complex_fft(z);
            for (k = 0; k < VIB_NUM_BINS; ++k) {
                power[k] += z[2 * k] * z[2 * k] + z[2 * k + 1] * z[2 * k + 1];
            }
        }
        for (b = 0; b < VIB_NUM_BANDS; ++b) {
            float energy = 0.0f;
            for (k = vib_band_edges[b]; k < vib_band_edges[b + 1]; ++k) {
                energy += power[k];
            }
            features[c * VIB_NUM_BANDS + b] = logf(energy * VIB_POWER_SCALE + VIB_FLOOR);
        }
    }
}
