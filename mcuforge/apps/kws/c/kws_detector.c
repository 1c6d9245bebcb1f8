/* Streaming keyword detector: see kws_detector.h and mcuforge/apps/kws/streaming.py (the NumPy reference
 * whose semantics this file reproduces: integer smoothing, so events match it exactly given equal posteriors). */
#include "kws_detector.h"

#include <math.h>
#include <stddef.h>

void kws_detector_init(kws_detector *det)
{
    unsigned i, c;
    mcuforge_mfcc_stream_init(&det->mfcc);
    for (i = 0; i < KWS_DET_SMOOTH_INFERENCES; ++i) {
        for (c = 0; c < KWS_DET_NUM_CLASSES; ++c) {
            det->ring[i][c] = 0;
        }
    }
    for (c = 0; c < KWS_DET_NUM_CLASSES; ++c) {
        det->sums[c] = 0;
        det->posteriors[c] = 0;
    }
    for (i = 0; i < KWS_DET_PEAK_HOPS; ++i) {
        det->hop_peaks[i] = 0.0f;
    }
    det->hops = det->quiet_until = 0;
    det->next_slot = det->next_peak = det->peaks_seen = 0;
    det->inferred = 0;
}

int kws_detector_update(kws_detector *det, uint32_t hop, const int8_t posteriors[KWS_DET_NUM_CLASSES],
                        kws_event *event)
{
    int16_t *row = det->ring[det->next_slot];
    int best = -1;
    int32_t best_sum = 0;
    unsigned c;
    for (c = 0; c < KWS_DET_NUM_CLASSES; ++c) {
        int16_t units = (int16_t)((int32_t)posteriors[c] - KWS_DET_OUTPUT_ZERO_POINT);
        det->sums[c] += (int32_t)units - row[c];
        row[c] = units;
    }
    det->next_slot = (det->next_slot + 1) % KWS_DET_SMOOTH_INFERENCES;
    if (hop < det->quiet_until) {
        return 0;
    }
    for (c = 0; c < KWS_DET_NUM_CLASSES; ++c) {
        if (kws_det_is_keyword[c] && (best < 0 || det->sums[c] > best_sum)) {   /* strict: ties keep the lower */
            best = (int)c;
            best_sum = det->sums[c];
        }
    }
    if (best < 0 || best_sum < KWS_DET_REQUIRED_SUM) {
        return 0;
    }
    det->quiet_until = hop + KWS_DET_REFRACTORY_HOPS;
    event->hop = hop;
    event->label = best;
    event->score = best_sum;
    return 1;
}

static int8_t quantize_input(float x)
{
    /* round half away from zero, then the zero point, saturated: TFLite's QUANTIZE (quantize_features) */
    float q = x / KWS_DET_INPUT_SCALE;
    float r = q >= 0.0f ? floorf(q + 0.5f) : -floorf(-q + 0.5f);
    r += (float)KWS_DET_INPUT_ZERO_POINT;
    return (int8_t)(r < -128.0f ? -128 : (r > 127.0f ? 127 : (int)r));
}

#if KWS_DET_NORMALIZE_GAIN
/* The maximum sample of the last KWS_DET_PEAK_HOPS hops (of those pushed so far). */
static float window_peak(const kws_detector *det)
{
    unsigned i, n = det->peaks_seen;
    float peak = det->hop_peaks[0];
    for (i = 1; i < n; ++i) {
        peak = det->hop_peaks[i] > peak ? det->hop_peaks[i] : peak;
    }
    return peak;
}
#endif

static void prepare_input(kws_detector *det)
{
    unsigned i;
    mcuforge_mfcc_stream_window(&det->mfcc, det->window);
#if KWS_DET_NORMALIZE_GAIN
    {
        /* Dividing the clip by its peak p moves each feature by -log(p) * (its DCT row sum): see streaming.py */
        unsigned f;
        float peak = window_peak(det);
        peak = peak > KWS_DET_PEAK_FLOOR ? peak : KWS_DET_PEAK_FLOOR;
        if (peak > 0.0f) {
            float log_peak = logf(peak);
            for (f = 0; f < MFCC_NUM_FRAMES; ++f) {
                for (i = 0; i < MFCC_NUM_FEATURES; ++i) {
                    float shift = kws_det_gain_response[i] * log_peak;
                    det->window[f * MFCC_NUM_FEATURES + i] = det->window[f * MFCC_NUM_FEATURES + i] - shift;
                }
            }
        }
    }
#endif
    for (i = 0; i < KWS_DET_WINDOW_VALUES; ++i) {
        det->input[i] = quantize_input(det->window[i]);
    }
}

int kws_detector_push(kws_detector *det, const float hop[MFCC_FRAME_STEP], kws_event *event)
{
    float peak = hop[0];
    unsigned i;
    int status;
    for (i = 1; i < MFCC_FRAME_STEP; ++i) {
        peak = hop[i] > peak ? hop[i] : peak;
    }
    det->hop_peaks[det->next_peak] = peak;
    det->next_peak = (det->next_peak + 1) % KWS_DET_PEAK_HOPS;
    if (det->peaks_seen < KWS_DET_PEAK_HOPS) {
        ++det->peaks_seen;
    }
    ++det->hops;
    det->inferred = 0;
    mcuforge_mfcc_stream_push(&det->mfcc, hop, NULL);
    if (det->mfcc.frames < MFCC_NUM_FRAMES || det->hops % KWS_DET_INFER_EVERY_HOPS != 0) {
        return 0;
    }
    prepare_input(det);
    status = KWS_DET_INVOKE(det->input, det->posteriors, det->arena.bytes);
    if (status != 0) {
        return status < 0 ? status : -status;
    }
    det->inferred = 1;
    return kws_detector_update(det, det->hops, det->posteriors, event);
}
