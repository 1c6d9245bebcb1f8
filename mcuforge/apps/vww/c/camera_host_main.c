/* Host harness for the tests: reads records from argv[1], each a crop (x, y, width, height as little-endian
 * uint16; width 0 = centred square) and a frame of CAMERA_FRAME_BYTES; writes to argv[2], per record, a status
 * byte (0 ok, 1 crop rejected) and, when ok, the CAMERA_INPUT_BYTES int8 model input. */
#include <stdio.h>

#include "camera_adapter.h"
#include "record_files.h"

static uint8_t frame[CAMERA_FRAME_BYTES];
static int8_t input[CAMERA_INPUT_BYTES];

int main(int argc, char **argv)
{
    FILE *in, *out;
    uint8_t header[8];
    if (!mcuforge_open_record_files(argc, argv, "FRAMES.bin INPUTS.bin", &in, &out)) {
        return 2;
    }
    while (fread(header, 1, sizeof header, in) == sizeof header &&
           fread(frame, 1, sizeof frame, in) == sizeof frame) {
        mcuforge_camera_crop crop;
        unsigned char status;
        crop.x = (uint16_t)(header[0] | (header[1] << 8));
        crop.y = (uint16_t)(header[2] | (header[3] << 8));
        crop.width = (uint16_t)(header[4] | (header[5] << 8));
        crop.height = (uint16_t)(header[6] | (header[7] << 8));
        status = mcuforge_camera_to_input(frame, crop.width == 0u ? NULL : &crop, input) == MCUFORGE_CAMERA_OK ? 0 : 1;
        fputc(status, out);
        if (status == 0) {
            fwrite(input, 1, sizeof input, out);
        }
    }
    return mcuforge_close_record_files(in, out);
}
