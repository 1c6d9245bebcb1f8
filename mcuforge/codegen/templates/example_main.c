/* Example host program for the generated @NAME@ library: reads raw inputs from a file, runs one inference per
 * input record, writes the raw outputs. Usage: @NAME@_example INPUT.bin OUTPUT.bin
 * A record is all model inputs back to back; the file may hold any number of records.
 * A library compiled with --weights-blob reads @NAME@_weights.bin from the working directory. */
#include <stdio.h>
#include <stdlib.h>

#include "@NAME@.h"
#include "mcuforge_common.h"

@BUFFERS@

int main(int argc, char **argv) {
    FILE *in;
    FILE *out;
    long records = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT.bin OUTPUT.bin\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    if (!in) {
        fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[1]);
        return 2;
    }
    out = fopen(argv[2], "wb");
    if (!out) {
        fprintf(stderr, "%s: cannot create %s\n", argv[0], argv[2]);
        fclose(in);
        return 2;
    }
@INIT@
    for (;;) {
@READ@
        if (@NAME@_invoke(@ARGS@) != 0) {
            fprintf(stderr, "%s: inference %ld failed\n", argv[0], records);
            return 1;
        }
@WRITE@
        ++records;
    }
    fclose(in);
    if (fclose(out) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", argv[0], argv[2]);
        return 1;
    }
    return 0;
}
