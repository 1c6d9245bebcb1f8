/* Host harness for the tests: reads float32 clips [N][MFCC_CLIP_SAMPLES] from argv[1]; writes the batch features
 * of each clip to argv[2] and the streaming features (the clip pushed hop by hop) to argv[3]. */
#include <stdio.h>

#include "mfcc_frontend.h"

static float clip[MFCC_CLIP_SAMPLES];
static float features[MFCC_NUM_FRAMES * MFCC_NUM_FEATURES];
static float work[MFCC_WORK_FLOATS];
static mcuforge_mfcc_stream stream;

int main(int argc, char **argv)
{
    FILE *in, *batch, *streamed;
    unsigned h;
    if (argc != 4) {
        fprintf(stderr, "usage: %s AUDIO.bin BATCH.bin STREAM.bin\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    batch = fopen(argv[2], "wb");
    streamed = fopen(argv[3], "wb");
    if (in == NULL || batch == NULL || streamed == NULL) {
        fprintf(stderr, "cannot open files\n");
        return 2;
    }
    while (fread(clip, sizeof(float), MFCC_CLIP_SAMPLES, in) == MFCC_CLIP_SAMPLES) {
        mcuforge_mfcc_compute(clip, features, work);
        fwrite(features, sizeof(float), MFCC_NUM_FRAMES * MFCC_NUM_FEATURES, batch);
        mcuforge_mfcc_stream_init(&stream);
        for (h = 0; h + MFCC_FRAME_STEP <= MFCC_CLIP_SAMPLES; h += MFCC_FRAME_STEP) {
            mcuforge_mfcc_stream_push(&stream, clip + h, NULL);
        }
        mcuforge_mfcc_stream_window(&stream, features);
        fwrite(features, sizeof(float), MFCC_NUM_FRAMES * MFCC_NUM_FEATURES, streamed);
    }
    fclose(in);
    fclose(batch);
    fclose(streamed);
    return 0;
}
