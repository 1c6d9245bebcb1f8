/* MFCC front end: periodic Hann window, real FFT (radix-2, via a half-size complex FFT), magnitude,
 * sparse mel filterbank, log(mel + offset), DCT-II. Tables come from mfcc_tables.c. */
#include "mfcc_frontend.h"
#include "fft_f32.h"

#include <math.h>
#include <stddef.h>

#define HALF (MFCC_FFT_SIZE / 2)

/* |X[k]|, k = 0..HALF, of the real signal whose even/odd samples are z's re/im parts. */
static void real_magnitudes(const float *z, float *mag)
{
    unsigned k;
    mag[0] = fabsf(z[0] + z[1]);
    mag[HALF] = fabsf(z[0] - z[1]);
    for (k = 1; k < HALF; ++k) {
        float ar = z[2 * k], ai = z[2 * k + 1];
        float br = z[2 * (HALF - k)], bi = -z[2 * (HALF - k) + 1];   /* conj(Z[HALF - k]) */
        float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);          /* even part */
        float dr = 0.5f * (ar - br), di = 0.5f * (ai - bi);
        float orr = di, oi = -dr;                                      /* odd part: d / i */
        float wr = mfcc_split_cos[k], wi = -mfcc_split_sin[k];         /* exp(-2 pi i k / N) */
        float xr = er + wr * orr - wi * oi, xi = ei + wr * oi + wi * orr;
        mag[k] = sqrtf(xr * xr + xi * xi);
    }
}

void mcuforge_mfcc_frame(const float *samples, float divisor, float features[MFCC_NUM_FEATURES],
                         float work[MFCC_WORK_FLOATS])
{
    float *z = work, *mag = work + MFCC_FFT_SIZE, *logmel = mag + MFCC_NUM_BINS;
    unsigned i, m;
    for (i = 0; i < MFCC_FRAME_LENGTH; ++i) {
        z[i] = (samples[i] / divisor) * mfcc_window[i];
    }
    for (; i < MFCC_FFT_SIZE; ++i) {
        z[i] = 0.0f;
    }
    mcuforge_fft_f32(z, HALF, mfcc_fft_cos, mfcc_fft_sin, mfcc_bitrev);
    real_magnitudes(z, mag);
    for (m = 0; m < MFCC_NUM_MEL; ++m) {
        const float *w = mfcc_mel_weights + mfcc_mel_offset[m];
        const float *x = mag + mfcc_mel_start[m];
        float acc = 0.0f;
        for (i = 0; i < mfcc_mel_count[m]; ++i) {
            acc += w[i] * x[i];
        }
        logmel[m] = logf(acc + MFCC_LOG_OFFSET);
    }
#if MFCC_NUM_COEFS > 0
    for (i = 0; i < MFCC_NUM_COEFS; ++i) {
        const float *row = mfcc_dct + i * MFCC_NUM_MEL;
        float acc = 0.0f;
        for (m = 0; m < MFCC_NUM_MEL; ++m) {
            acc += row[m] * logmel[m];
        }
        features[i] = acc;
    }
#else
    for (m = 0; m < MFCC_NUM_MEL; ++m) {
        features[m] = logmel[m];
    }
#endif
}

void mcuforge_mfcc_compute(const float audio[MFCC_CLIP_SAMPLES],
                           float features[MFCC_NUM_FRAMES * MFCC_NUM_FEATURES], float work[MFCC_WORK_FLOATS])
{
    float divisor = 1.0f;
    unsigned f;
#if MFCC_PEAK_NORMALIZE
    unsigned i;
    float peak = audio[0];
    for (i = 1; i < MFCC_CLIP_SAMPLES; ++i) {
        peak = audio[i] > peak ? audio[i] : peak;
    }
    divisor = peak > 0.0f ? peak : 1.0f;   /* a silent clip stays as it is */
#endif
    for (f = 0; f < MFCC_NUM_FRAMES; ++f) {
        mcuforge_mfcc_frame(audio + f * MFCC_FRAME_STEP, divisor, features + f * MFCC_NUM_FEATURES, work);
    }
}

void mcuforge_mfcc_stream_init(mcuforge_mfcc_stream *s)
{
    unsigned i;
    for (i = 0; i < MFCC_RING_SAMPLES; ++i) {
        s->ring[i] = 0.0f;
    }
    for (i = 0; i < MFCC_NUM_FRAMES * MFCC_NUM_FEATURES; ++i) {
        s->rows[i] = 0.0f;
    }
    s->next_slot = s->hops = s->next_row = s->frames = 0;
}

int mcuforge_mfcc_stream_push(mcuforge_mfcc_stream *s, const float hop[MFCC_FRAME_STEP], float *features)
{
    /* The ring holds MFCC_HISTORY_HOPS = ceil(frame / step) hops; the frame completed by this hop starts at
     * the oldest of them. */
    float frame[MFCC_FRAME_LENGTH];
    float *row;
    unsigned i, slot, pos;
    for (i = 0; i < MFCC_FRAME_STEP; ++i) {
        s->ring[s->next_slot * MFCC_FRAME_STEP + i] = hop[i];
    }
    s->next_slot = (s->next_slot + 1) % MFCC_HISTORY_HOPS;
    if (s->hops < MFCC_HISTORY_HOPS) {
        ++s->hops;
    }
    if (s->hops < MFCC_HISTORY_HOPS) {
        return 0;
    }
    slot = s->next_slot;   /* now the oldest hop */
    for (i = 0; i < MFCC_FRAME_LENGTH; ++i) {
        pos = (slot * MFCC_FRAME_STEP + i) % MFCC_RING_SAMPLES;
        frame[i] = s->ring[pos];
    }
    row = s->rows + s->next_row * MFCC_NUM_FEATURES;
    mcuforge_mfcc_frame(frame, 1.0f, row, s->work);
    s->next_row = (s->next_row + 1) % MFCC_NUM_FRAMES;
    if (s->frames < MFCC_NUM_FRAMES) {
        ++s->frames;
    }
    if (features != NULL) {
        for (i = 0; i < MFCC_NUM_FEATURES; ++i) {
            features[i] = row[i];
        }
    }
    return 1;
}

unsigned mcuforge_mfcc_stream_window(const mcuforge_mfcc_stream *s,
                                     float window[MFCC_NUM_FRAMES * MFCC_NUM_FEATURES])
{
    unsigned r, i, first = s->frames < MFCC_NUM_FRAMES ? 0 : s->next_row;
    for (r = 0; r < MFCC_NUM_FRAMES; ++r) {
        const float *row = s->rows + ((first + r) % MFCC_NUM_FRAMES) * MFCC_NUM_FEATURES;
        for (i = 0; i < MFCC_NUM_FEATURES; ++i) {
            window[r * MFCC_NUM_FEATURES + i] = row[i];
        }
    }
    return s->frames;
}
