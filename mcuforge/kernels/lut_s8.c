#include "lut_s8.h"

void mcuforge_lut_s8(const mcuforge_lut_s8_params *p, const int8_t *input, int8_t *output) {
    const int8_t *table = p->table;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = table[(uint8_t)input[i]];
    }
}
