#include "conv_window.h"

void mcuforge_conv_taps(int32_t origin, int32_t kernel, int32_t dilation, int32_t size, int32_t *first,
                        int32_t *end) {
    const int32_t lo = origin < 0 ? (dilation - 1 - origin) / dilation : 0;
    const int32_t room = size - 1 - origin; /* the last tap k must satisfy k * dilation <= room */
    int32_t hi = room < 0 ? 0 : room / dilation + 1;
    hi = hi < kernel ? hi : kernel;
    *first = lo;
    *end = hi > lo ? hi : lo;
}
