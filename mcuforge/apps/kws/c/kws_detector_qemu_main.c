/* Bare-metal harness for the streaming detector on an emulated Cortex-M (mcuforge/apps/kws/detector_qemu.py).
 * Reads float32 audio from kws_audio.bin one hop at a time through semihosting, pushes it into the detector and
 * writes, per inference, uint32 hop + int8 posteriors to kws_posteriors.bin and, per event, int32 hop, label,
 * score to kws_events.bin. Host files through semihost_io.c, no stdio. */
#include <stdint.h>

#include "kws_detector.h"
#include "semihost_io.h"

static kws_detector det;
static float hop_samples[MFCC_FRAME_STEP];

int main(void)
{
    const int32_t audio = mcuforge_sh_open("kws_audio.bin", MCUFORGE_SH_READ_BINARY);
    const int32_t posteriors = mcuforge_sh_open("kws_posteriors.bin", MCUFORGE_SH_WRITE_BINARY);
    const int32_t events = mcuforge_sh_open("kws_events.bin", MCUFORGE_SH_WRITE_BINARY);
    kws_event event;
    if (audio < 0 || posteriors < 0 || events < 0) {
        mcuforge_sh_say("kws detector: cannot open its files\n");
        return 2;
    }
    kws_detector_init(&det);
    while (mcuforge_sh_read(audio, hop_samples, sizeof(hop_samples))) {
        int status = kws_detector_push(&det, hop_samples, &event);
        if (status < 0) {
            mcuforge_sh_say("kws detector: inference failed\n");
            return 1;
        }
        if (det.inferred && (!mcuforge_sh_write(posteriors, &det.hops, sizeof(det.hops)) ||
                             !mcuforge_sh_write(posteriors, det.posteriors, sizeof(det.posteriors)))) {
            return 1;
        }
        if (status == 1) {
            const int32_t record[3] = {(int32_t)event.hop, (int32_t)event.label, event.score};
            if (!mcuforge_sh_write(events, record, sizeof(record))) {
                return 1;
            }
        }
    }
    (void)mcuforge_sh_close(audio);
    return mcuforge_sh_close(posteriors) && mcuforge_sh_close(events) ? 0 : 1;
}
