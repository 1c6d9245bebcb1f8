/* Host harness for the tests: reads float32 clips [N][MFCC_CLIP_SAMPLES] from argv[1]; writes to argv[2], per
 * clip, its batch features and then its streaming features (the clip pushed hop by hop). */
#include <stdio.h>

#include "mfcc_frontend.h"
#include "record_files.h"

static float clip[MFCC_CLIP_SAMPLES];
static float features[MFCC_NUM_FRAMES * MFCC_NUM_FEATURES];
static float work[MFCC_WORK_FLOATS];
static mcuforge_mfcc_stream stream;

int main(int argc, char **argv)
{
    FILE *in, *out;
    unsigned h;
    if (!mcuforge_open_record_files(argc, argv, "AUDIO.bin FEATURES.bin", &in, &out)) {
        return 2;
    }
    while (fread(clip, sizeof(float), MFCC_CLIP_SAMPLES, in) == MFCC_CLIP_SAMPLES) {
        mcuforge_mfcc_compute(clip, features, work);
        fwrite(features, sizeof(float), MFCC_NUM_FRAMES * MFCC_NUM_FEATURES, out);
        mcuforge_mfcc_stream_init(&stream);
        for (h = 0; h + MFCC_FRAME_STEP <= MFCC_CLIP_SAMPLES; h += MFCC_FRAME_STEP) {
            mcuforge_mfcc_stream_push(&stream, clip + h, NULL);
        }
        mcuforge_mfcc_stream_window(&stream, features);
        fwrite(features, sizeof(float), MFCC_NUM_FRAMES * MFCC_NUM_FEATURES, out);
    }
    return mcuforge_close_record_files(in, out);
}
