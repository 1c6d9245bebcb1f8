/* Host program: camera frames (CAMERA_FRAME_BYTES each, read from argv[1]) -> centred crop -> camera adapter ->
 * @NAME@ model; writes each frame's raw model output to argv[2]. */
#include <stdio.h>

#include "camera_adapter.h"
#include "@NAME@.h"
#include "record_files.h"

/* The adapter was generated for this model: its output is the model's input. */
typedef char camera_matches_model[(CAMERA_INPUT_BYTES == @UPPER@_INPUT_BYTES) ? 1 : -1];

static uint8_t frame[CAMERA_FRAME_BYTES];
static int8_t input[CAMERA_INPUT_BYTES];
static @UPPER@_OUTPUT_TYPE output[@UPPER@_OUTPUT_SIZE];

int main(int argc, char **argv)
{
    FILE *in, *out;
    if (!mcuforge_open_record_files(argc, argv, "FRAMES.bin OUTPUTS.bin", &in, &out)) {
        return 2;
    }
    while (fread(frame, 1, sizeof frame, in) == sizeof frame) {
        if (mcuforge_camera_to_input(frame, NULL, input) != MCUFORGE_CAMERA_OK || @NAME@_invoke(input, output) != 0) {
            fprintf(stderr, "inference failed\n");
            return 1;
        }
        fwrite(output, sizeof output[0], @UPPER@_OUTPUT_SIZE, out);
    }
    return mcuforge_close_record_files(in, out);
}
