/* Semihosting file calls (Arm "Semihosting for AArch32 and AArch64": SYS_OPEN, SYS_CLOSE, SYS_WRITE0, SYS_WRITE,
 * SYS_READ) on top of startup_cortex_m.c's mcuforge_semihost. */
#include "semihost_io.h"

#define SYS_OPEN 0x01u
#define SYS_CLOSE 0x02u
#define SYS_WRITE0 0x04u
#define SYS_WRITE 0x05u
#define SYS_READ 0x06u

uint32_t mcuforge_semihost(uint32_t operation, const void *argument); /* startup_cortex_m.c */

static uint32_t text_length(const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

int32_t mcuforge_sh_open(const char *name, uint32_t mode)
{
    const uint32_t block[3] = {(uint32_t)(uintptr_t)name, mode, text_length(name)};
    return (int32_t)mcuforge_semihost(SYS_OPEN, block);
}

/* SYS_READ and SYS_WRITE return the count of bytes not moved. */
static int transfer(uint32_t operation, int32_t handle, const void *data, uint32_t n)
{
    const uint32_t block[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)data, n};
    return mcuforge_semihost(operation, block) == 0u;
}

int mcuforge_sh_read(int32_t handle, void *data, uint32_t n)
{
    return transfer(SYS_READ, handle, data, n);
}

int mcuforge_sh_write(int32_t handle, const void *data, uint32_t n)
{
    return transfer(SYS_WRITE, handle, data, n);
}

int mcuforge_sh_close(int32_t handle)
{
    const uint32_t block[1] = {(uint32_t)handle};
    return mcuforge_semihost(SYS_CLOSE, block) == 0u;
}

void mcuforge_sh_say(const char *message)
{
    (void)mcuforge_semihost(SYS_WRITE0, message);
}
