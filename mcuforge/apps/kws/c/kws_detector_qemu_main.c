/* Bare-metal harness for the streaming detector on an emulated Cortex-M (mcuforge/apps/kws/detector_qemu.py).
 * Reads float32 audio from kws_audio.bin one hop at a time through semihosting, pushes it into the detector and
 * writes, per inference, uint32 hop + int8 posteriors to kws_posteriors.bin and, per event, int32 hop, label,
 * score to kws_events.bin. Raw semihosting calls (startup_cortex_m.c), no stdio. */
#include <stdint.h>

#include "kws_detector.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE0 0x04u
#define SYS_WRITE 0x05u
#define SYS_READ 0x06u
#define MODE_READ_BINARY 1u
#define MODE_WRITE_BINARY 5u

uint32_t mcuforge_semihost(uint32_t operation, const void *argument); /* startup_cortex_m.c */

static kws_detector det;
static float hop_samples[MFCC_FRAME_STEP];

static uint32_t text_length(const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

static int32_t open_file(const char *name, uint32_t mode)
{
    const uint32_t block[3] = {(uint32_t)(uintptr_t)name, mode, text_length(name)};
    return (int32_t)mcuforge_semihost(SYS_OPEN, block);
}

/* 1 when all n bytes moved (SYS_READ and SYS_WRITE return the count of bytes not moved). */
static int transfer(uint32_t operation, int32_t handle, const void *data, uint32_t n)
{
    const uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)data, n};
    return mcuforge_semihost(operation, block) == 0u;
}

static int close_file(int32_t handle)
{
    const uint32_t block[1] = {(uint32_t)handle};
    return mcuforge_semihost(SYS_CLOSE, block) == 0u;
}

int main(void)
{
    const int32_t audio = open_file("kws_audio.bin", MODE_READ_BINARY);
    const int32_t posteriors = open_file("kws_posteriors.bin", MODE_WRITE_BINARY);
    const int32_t events = open_file("kws_events.bin", MODE_WRITE_BINARY);
    kws_event event;
    if (audio < 0 || posteriors < 0 || events < 0) {
        (void)mcuforge_semihost(SYS_WRITE0, "kws detector: cannot open its files\n");
        return 2;
    }
    kws_detector_init(&det);
    while (transfer(SYS_READ, audio, hop_samples, sizeof(hop_samples))) {
        int status = kws_detector_push(&det, hop_samples, &event);
        if (status < 0) {
            (void)mcuforge_semihost(SYS_WRITE0, "kws detector: inference failed\n");
            return 1;
        }
        if (det.inferred && (!transfer(SYS_WRITE, posteriors, &det.hops, sizeof(det.hops)) ||
                             !transfer(SYS_WRITE, posteriors, det.posteriors, sizeof(det.posteriors)))) {
            return 1;
        }
        if (status == 1) {
            const int32_t record[3] = {(int32_t)event.hop, (int32_t)event.label, event.score};
            if (!transfer(SYS_WRITE, events, record, sizeof(record))) {
                return 1;
            }
        }
    }
    (void)close_file(audio);
    return close_file(posteriors) && close_file(events) ? 0 : 1;
}
