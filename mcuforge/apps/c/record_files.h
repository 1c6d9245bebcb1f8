/* The host harnesses' two files (mcuforge/apps/host_harness.py): records read from argv[1], results written to
 * argv[2]. Each harness's main keeps its own record loop. */
#ifndef MCUFORGE_RECORD_FILES_H
#define MCUFORGE_RECORD_FILES_H

#include <stdio.h>

/* Opens argv[1] for reading and argv[2] for writing; 1 when both are open, else 0 after a message on stderr
 * ("usage: PROGRAM ARGS_USAGE" when argc is not 3). */
int mcuforge_open_record_files(int argc, char **argv, const char *args_usage, FILE **in, FILE **out);
/* Closes both; main's exit status: 0 when the output file was written out, else 1. */
int mcuforge_close_record_files(FILE *in, FILE *out);

#endif
