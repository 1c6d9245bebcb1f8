/* Host harness for the tests: reads float32 clips [N][VIB_CHANNELS][VIB_CLIP_SAMPLES] from argv[1] and writes
 * their float32 features [N][VIB_NUM_FEATURES] to argv[2]. */
#include <stdio.h>

#include "record_files.h"
#include "vibration_features.h"

static float clip[VIB_CHANNELS * VIB_CLIP_SAMPLES];
static float features[VIB_NUM_FEATURES];
static float work[VIB_WORK_FLOATS];

int main(int argc, char **argv)
{
    FILE *in, *out;
    if (!mcuforge_open_record_files(argc, argv, "CLIPS.bin FEATURES.bin", &in, &out)) {
        return 2;
    }
    while (fread(clip, sizeof(float), VIB_CHANNELS * VIB_CLIP_SAMPLES, in) == VIB_CHANNELS * VIB_CLIP_SAMPLES) {
        mcuforge_vibration_features(clip, features, work);
        fwrite(features, sizeof(float), VIB_NUM_FEATURES, out);
    }
    return mcuforge_close_record_files(in, out);
}
