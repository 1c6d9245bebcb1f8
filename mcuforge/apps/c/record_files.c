#include "record_files.h"

int mcuforge_open_record_files(int argc, char **argv, const char *args_usage, FILE **in, FILE **out)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s %s\n", argv[0], args_usage);
        return 0;
    }
    *in = fopen(argv[1], "rb");
    *out = fopen(argv[2], "wb");
    if (*in == NULL || *out == NULL) {
        fprintf(stderr, "cannot open files\n");
        return 0;
    }
    return 1;
}

int mcuforge_close_record_files(FILE *in, FILE *out)
{
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
