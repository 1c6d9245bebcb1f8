/* Bare-metal program for QEMU: camera frames (CAMERA_FRAME_BYTES each) from mcuforge_in.bin -> centred crop ->
 * camera adapter -> @NAME@ model; each frame's raw model output to mcuforge_out.bin. Files go through raw
 * semihosting calls (startup_cortex_m.c's mcuforge_semihost), as mcuforge/targets/runner_main.c does. */
#include <stdint.h>

#include "camera_adapter.h"
#include "@NAME@.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE0 0x04u
#define SYS_WRITE 0x05u
#define SYS_READ 0x06u
#define MODE_READ_BINARY 1u
#define MODE_WRITE_BINARY 5u

uint32_t mcuforge_semihost(uint32_t operation, const void *argument); /* startup_cortex_m.c */

typedef char camera_matches_model[(CAMERA_INPUT_BYTES == @UPPER@_INPUT_BYTES) ? 1 : -1];

static uint8_t frame[CAMERA_FRAME_BYTES];
static int8_t input[CAMERA_INPUT_BYTES];
static @UPPER@_OUTPUT_TYPE output[@UPPER@_OUTPUT_SIZE];

static int32_t open_file(const char *name, uint32_t length, uint32_t mode)
{
    const uint32_t block[3] = {(uint32_t)(uintptr_t)name, mode, length};
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
    const int32_t in = open_file("mcuforge_in.bin", 15u, MODE_READ_BINARY);
    const int32_t out = open_file("mcuforge_out.bin", 16u, MODE_WRITE_BINARY);
    if (in < 0 || out < 0) {
        (void)mcuforge_semihost(SYS_WRITE0, "camera runner: cannot open mcuforge_in.bin or mcuforge_out.bin\n");
        return 2;
    }
    while (transfer(SYS_READ, in, frame, CAMERA_FRAME_BYTES)) {
        if (mcuforge_camera_to_input(frame, 0, input) != MCUFORGE_CAMERA_OK || @NAME@_invoke(input, output) != 0) {
            (void)mcuforge_semihost(SYS_WRITE0, "camera runner: inference failed\n");
            return 1;
        }
        if (!transfer(SYS_WRITE, out, output, sizeof output)) {
            return 1;
        }
    }
    (void)close_file(in);
    return close_file(out) ? 0 : 1;
}
