/* Bare-metal runner for the generated @NAME@ library, filled in by mcuforge/targets/build.py.
 * Reads input records from mcuforge_in.bin through semihosting (a record is all model inputs back to back),
 * runs one inference per record, writes the outputs to mcuforge_out.bin and, to mcuforge_stats.txt, the
 * record count and the deepest stack any inference used (painted before each call, scanned after). */
#include <stdint.h>
#include <stdio.h>

#include "@NAME@.h"

#define MCUFORGE_STACK_PATTERN 0xC5A5C5A5u

void mcuforge_paint_stack(void);        /* startup_cortex_m.c */
uint32_t mcuforge_stack_low_water(void); /* startup_cortex_m.c */

static inline __attribute__((always_inline)) uint32_t mcuforge_current_sp(void) {
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Global, not static: the instruction counter (targets/instruction_count.py) finds them by name. */
@BUFFERS@

/* Decimal without printf, which would pull most of the C library's formatting code into the image. */
static void write_stat(FILE *f, const char *key, uint32_t value) {
    char digits[12];
    int n = (int)sizeof digits - 1;
    digits[n] = '\0';
    do {
        digits[--n] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u && n > 0);
    fputs(key, f);
    fputs(" ", f);
    fputs(&digits[n], f);
    fputs("\n", f);
}

int main(void) {
    FILE *in = fopen("mcuforge_in.bin", "rb");
    FILE *out = fopen("mcuforge_out.bin", "wb");
    FILE *stats;
    uint32_t records = 0;
    uint32_t stack_max = 0;
    if (in == NULL || out == NULL) {
        fputs("mcuforge runner: cannot open mcuforge_in.bin or mcuforge_out.bin\n", stderr);
        return 2;
    }
    for (;;) {
        uint32_t sp;
        uint32_t used;
        int status;
@READ@
        sp = mcuforge_current_sp();
        mcuforge_paint_stack();
        status = @NAME@_invoke(@ARGS@);
        used = sp - mcuforge_stack_low_water();
        if (status != 0) {
            fputs("mcuforge runner: inference failed\n", stderr);
            return 1;
        }
        stack_max = used > stack_max ? used : stack_max;
@WRITE@
        ++records;
    }
    fclose(in);
    if (fclose(out) != 0) {
        return 1;
    }
    stats = fopen("mcuforge_stats.txt", "w");
    if (stats == NULL) {
        return 1;
    }
    write_stat(stats, "records", records);
    write_stat(stats, "stack_max", stack_max);
    return fclose(stats) != 0;
}
