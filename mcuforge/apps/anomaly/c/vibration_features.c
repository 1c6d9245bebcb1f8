/* Vibration features (see features.py): frames every VIB_FRAME_STEP samples, periodic Hann window, radix-2
 * complex FFT, one-sided power averaged over the frames, summed over bands, log(energy + floor). */
#include "vibration_features.h"
#include "fft_f32.h"

#include <math.h>

#define N VIB_FRAME_LENGTH

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
            mcuforge_fft_f32(z, N, vib_fft_cos, vib_fft_sin, vib_bitrev);
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
