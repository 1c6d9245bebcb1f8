#include "fft_f32.h"

void mcuforge_fft_f32(float *z, unsigned n, const float *cos_table, const float *sin_table,
                      const uint16_t *bitrev)
{
    unsigned i, size, start, k;
    for (i = 0; i < n; ++i) {
        unsigned j = bitrev[i];
        if (j > i) {
            float re = z[2 * i], im = z[2 * i + 1];
            z[2 * i] = z[2 * j];
            z[2 * i + 1] = z[2 * j + 1];
            z[2 * j] = re;
            z[2 * j + 1] = im;
        }
    }
    for (size = 2; size <= n; size *= 2) {
        unsigned half = size / 2, stride = n / size;
        for (start = 0; start < n; start += size) {
            for (k = 0; k < half; ++k) {
                float wr = cos_table[k * stride], wi = -sin_table[k * stride];
                float *a = z + 2 * (start + k), *b = z + 2 * (start + k + half);
                float tr = wr * b[0] - wi * b[1], ti = wr * b[1] + wi * b[0];
                b[0] = a[0] - tr;
                b[1] = a[1] - ti;
                a[0] += tr;
                a[1] += ti;
            }
        }
    }
}
