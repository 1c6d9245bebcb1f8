/* Host harness for the tests and the benchmark.
 *   kws_detector_host audio IN EVENTS [TRACE]
 *       IN: float32 samples ("-": stdin), pushed hop by hop (a trailing partial hop is ignored).
 *       EVENTS: one line "hop label score" per event; the last line is "hops H inferences N".
 *       TRACE: per inference, uint32 hop, int8 input[KWS_DET_WINDOW_VALUES], int8 posteriors[classes].
 *   kws_detector_host posteriors IN EVENTS
 *       IN: records of uint32 hop + int8 posteriors[classes], fed to kws_detector_update alone. */
#include <stdio.h>
#include <string.h>

#include "kws_detector.h"

static kws_detector det;
static float hop_samples[MFCC_FRAME_STEP];

static int run_audio(FILE *in, FILE *events, FILE *trace)
{
    unsigned long inferences = 0;
    kws_event event;
    while (fread(hop_samples, sizeof(float), MFCC_FRAME_STEP, in) == MFCC_FRAME_STEP) {
        int status = kws_detector_push(&det, hop_samples, &event);
        if (status < 0) {
            fprintf(stderr, "model failed with %d at hop %lu\n", status, (unsigned long)det.hops);
            return 1;
        }
        if (det.inferred) {
            ++inferences;
            if (trace != NULL && (fwrite(&det.hops, sizeof(det.hops), 1, trace) != 1 ||
                                  fwrite(det.input, 1, sizeof(det.input), trace) != sizeof(det.input) ||
                                  fwrite(det.posteriors, 1, sizeof(det.posteriors), trace) != sizeof(det.posteriors))) {
                fprintf(stderr, "cannot write the trace\n");
                return 1;
            }
        }
        if (status == 1) {
            fprintf(events, "%lu %d %ld\n", (unsigned long)event.hop, event.label, (long)event.score);
        }
    }
    fprintf(events, "hops %lu inferences %lu\n", (unsigned long)det.hops, inferences);
    return 0;
}

static int run_posteriors(FILE *in, FILE *events)
{
    uint32_t hop;
    int8_t posteriors[KWS_DET_NUM_CLASSES];
    kws_event event;
    while (fread(&hop, sizeof(hop), 1, in) == 1) {
        if (fread(posteriors, 1, sizeof(posteriors), in) != sizeof(posteriors)) {
            fprintf(stderr, "truncated posterior record\n");
            return 1;
        }
        if (kws_detector_update(&det, hop, posteriors, &event) == 1) {
            fprintf(events, "%lu %d %ld\n", (unsigned long)event.hop, event.label, (long)event.score);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    FILE *in, *events, *trace = NULL;
    int audio, status;
    if (argc < 4 || argc > 5 || (strcmp(argv[1], "audio") != 0 && strcmp(argv[1], "posteriors") != 0)) {
        fprintf(stderr, "usage: %s audio IN EVENTS [TRACE] | posteriors IN EVENTS\n", argv[0]);
        return 2;
    }
    audio = strcmp(argv[1], "audio") == 0;
    in = strcmp(argv[2], "-") == 0 ? stdin : fopen(argv[2], "rb");
    events = fopen(argv[3], "w");
    if (argc == 5 && audio) {
        trace = fopen(argv[4], "wb");
    }
    if (in == NULL || events == NULL || (argc == 5 && trace == NULL)) {
        fprintf(stderr, "cannot open files\n");
        return 2;
    }
    kws_detector_init(&det);
    status = audio ? run_audio(in, events, trace) : run_posteriors(in, events);
    if (in != stdin) {
        fclose(in);
    }
    if (trace != NULL) {
        fclose(trace);
    }
    return fclose(events) != 0 ? 1 : status;
}
