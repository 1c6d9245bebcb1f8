/* Host files for bare-metal application mains on QEMU (mcuforge/targets/app_firmware.py), through raw semihosting
 * calls (startup_cortex_m.c's mcuforge_semihost) rather than stdio: the image then holds the application and
 * little else, as a deployed one would. */
#ifndef MCUFORGE_SEMIHOST_IO_H
#define MCUFORGE_SEMIHOST_IO_H

#include <stdint.h>

#define MCUFORGE_SH_READ_BINARY 1u  /* "rb" */
#define MCUFORGE_SH_WRITE_BINARY 5u /* "wb" */

/* A host file handle, or a negative value when the file cannot be opened. */
int32_t mcuforge_sh_open(const char *name, uint32_t mode);
/* 1 when all n bytes moved, 0 otherwise (end of file, error). */
int mcuforge_sh_read(int32_t handle, void *data, uint32_t n);
int mcuforge_sh_write(int32_t handle, const void *data, uint32_t n);
/* 1 when the host closed the file. */
int mcuforge_sh_close(int32_t handle);
/* A NUL-terminated message to the host's console (QEMU's stdout). */
void mcuforge_sh_say(const char *message);

#endif
