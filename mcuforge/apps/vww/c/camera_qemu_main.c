/* Bare-metal program for QEMU: camera frames (CAMERA_FRAME_BYTES each) from mcuforge_in.bin -> centred crop ->
 * camera adapter -> @NAME@ model; each frame's raw model output to mcuforge_out.bin. Host files through
 * semihost_io.c (raw semihosting calls), no stdio. */
#include <stdint.h>

#include "camera_adapter.h"
#include "@NAME@.h"
#include "semihost_io.h"

typedef char camera_matches_model[(CAMERA_INPUT_BYTES == @UPPER@_INPUT_BYTES) ? 1 : -1];

static uint8_t frame[CAMERA_FRAME_BYTES];
static int8_t input[CAMERA_INPUT_BYTES];
static @UPPER@_OUTPUT_TYPE output[@UPPER@_OUTPUT_SIZE];

int main(void)
{
    const int32_t in = mcuforge_sh_open("mcuforge_in.bin", MCUFORGE_SH_READ_BINARY);
    const int32_t out = mcuforge_sh_open("mcuforge_out.bin", MCUFORGE_SH_WRITE_BINARY);
    if (in < 0 || out < 0) {
        mcuforge_sh_say("camera runner: cannot open mcuforge_in.bin or mcuforge_out.bin\n");
        return 2;
    }
    while (mcuforge_sh_read(in, frame, CAMERA_FRAME_BYTES)) {
        if (mcuforge_camera_to_input(frame, 0, input) != MCUFORGE_CAMERA_OK || @NAME@_invoke(input, output) != 0) {
            mcuforge_sh_say("camera runner: inference failed\n");
            return 1;
        }
        if (!mcuforge_sh_write(out, output, sizeof output)) {
            return 1;
        }
    }
    (void)mcuforge_sh_close(in);
    return mcuforge_sh_close(out) ? 0 : 1;
}
