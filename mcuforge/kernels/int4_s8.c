#include "int4_s8.h"

int32_t mcuforge_dot_s4(const int8_t *x, const uint8_t *packed, size_t start, int32_t n, int32_t offset) {
    const uint8_t *w;
    int32_t acc = 0;
    int32_t i = 0;
    if ((start & 1u) && n > 0) { /* a high nibble first: then whole bytes */
        acc += ((int32_t)x[0] + offset) * mcuforge_s4_at(packed, start);
        i = 1;
    }
    w = packed + ((start + (size_t)i) >> 1);
    for (; i + 1 < n; i += 2) {
        const uint32_t byte = *w++;
        acc += ((int32_t)x[i] + offset) * mcuforge_s4_low(byte);
        acc += ((int32_t)x[i + 1] + offset) * mcuforge_s4_high(byte);
    }
    if (i < n) {
        acc += ((int32_t)x[i] + offset) * mcuforge_s4_low(*w);
    }
    return acc;
}
