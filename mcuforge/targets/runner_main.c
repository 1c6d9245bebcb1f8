/* Bare-metal runner for the generated @NAME@ library, filled in by mcuforge/targets/build.py.
 * Reads input records from mcuforge_in.bin through semihosting (a record is all model inputs back to back),
 * runs one inference per record and writes the outputs to mcuforge_out.bin, then a trailer of two uint32 words:
 * the record count and the deepest stack any inference used (painted before each call, scanned after).
 * The library is compiled without its static arena: the runner's one RAM buffer is the arena, and each input
 * and output record sits inside it (targets/io_placement.py): where the plan put it when the library holds its
 * I/O in the arena, else where the plan leaves room for the record's lifetime, records that find no room going
 * to a tail after the arena. No second copy of a record is kept.
 * Files go through raw semihosting calls (SYS_OPEN/READ/WRITE/CLOSE), not stdio, and failures are exit statuses
 * (targets/build.py RUNNER_STATUSES, explained by targets/qemu.py), not messages: the image then holds the model
 * and little else, as a deployed one would. */
#include <stdint.h>

#include "@NAME@.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE 0x05u
#define SYS_READ 0x06u
#define MODE_READ_BINARY 1u  /* "rb" */
#define MODE_WRITE_BINARY 5u /* "wb" */

/* main's exit statuses (QEMU exits with them): targets/build.py's RUNNER_STATUSES, which say what each means. */
#define STATUS_OK 0
@STATUSES@

uint32_t mcuforge_semihost(uint32_t operation, const void *argument); /* startup_cortex_m.c */
void mcuforge_paint_stack(void);                                      /* startup_cortex_m.c */
uint32_t mcuforge_stack_low_water(void);                              /* startup_cortex_m.c */

static inline __attribute__((always_inline)) uint32_t mcuforge_current_sp(void) {
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Global, not static: the instruction counter (targets/instruction_count.py) finds it by name. */
uint8_t __attribute__((aligned(16))) mcuforge_ram[@RAM_SIZE@];

@BUFFERS@

/* A host file handle, or -1. `name` is a string literal: its length comes from sizeof (GCC turns a length loop
 * into a call to newlib's strlen, 220 bytes of flash). */
#define OPEN_FILE(name, mode) open_file(name, sizeof(name) - 1u, mode)

static int32_t open_file(const char *name, uint32_t length, uint32_t mode) {
    const uint32_t block[3] = {(uint32_t)(uintptr_t)name, mode, length};
    return (int32_t)mcuforge_semihost(SYS_OPEN, block);
}

/* 1 when all n bytes moved (SYS_READ and SYS_WRITE return the count of bytes not moved). */
static int transfer(uint32_t operation, int32_t handle, const void *data, uint32_t n) {
    const uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)data, n};
    return mcuforge_semihost(operation, block) == 0u;
}

static int close_file(int32_t handle) {
    const uint32_t block[1] = {(uint32_t)handle};
    return mcuforge_semihost(SYS_CLOSE, block) == 0u;
}

int main(void) {
    const int32_t in = OPEN_FILE("mcuforge_in.bin", MODE_READ_BINARY);
    const int32_t out = OPEN_FILE("mcuforge_out.bin", MODE_WRITE_BINARY);
    uint32_t trailer[@TRAILER_WORDS@] = {0u, 0u}; /* records, deepest stack */
    if (in < 0 || out < 0) {
        return STATUS_CANNOT_OPEN;
    }
    for (;;) {
        uint32_t sp;
        uint32_t used;
        int status;
@READ@
        sp = mcuforge_current_sp();
        mcuforge_paint_stack();
        status = @NAME@_invoke_with_arena(@ARGS@);
        used = sp - mcuforge_stack_low_water();
        if (status != 0) {
            return STATUS_INFERENCE_FAILED;
        }
        trailer[1] = used > trailer[1] ? used : trailer[1];
@WRITE@
        ++trailer[0];
    }
    (void)close_file(in);
    if (!transfer(SYS_WRITE, out, trailer, sizeof(trailer))) {
        return STATUS_WRITE_FAILED;
    }
    return close_file(out) ? STATUS_OK : STATUS_WRITE_FAILED;
}
