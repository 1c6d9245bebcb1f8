#include "space_batch.h"

void mcuforge_space_to_batch(const mcuforge_space_batch_params *p, const void *input, void *output,
                             const void *pad_value) {
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t pixel = (size_t)p->pixel_bytes;
    const int32_t out_batches = p->batches * p->block_h * p->block_w;
    int32_t ob;
    int32_t oy;
    int32_t ox;
    int32_t e;
    for (ob = 0; ob < out_batches; ++ob) {
        const int32_t n = ob % p->batches;
        const int32_t block = ob / p->batches;
        const int32_t by = block / p->block_w;
        const int32_t bx = block % p->block_w;
        for (oy = 0; oy < p->blocked_h; ++oy) {
            const int32_t iy = oy * p->block_h + by - p->edge_top;
            for (ox = 0; ox < p->blocked_w; ++ox) {
                const int32_t ix = ox * p->block_w + bx - p->edge_left;
                if (iy >= 0 && iy < p->space_h && ix >= 0 && ix < p->space_w) {
                    const size_t at = (((size_t)n * (size_t)p->space_h + (size_t)iy) * (size_t)p->space_w +
                                       (size_t)ix) * pixel;
                    memcpy(out, in + at, pixel);
                } else {
                    for (e = 0; e < p->pixel_bytes; e += p->element_size) {
                        memcpy(out + e, pad_value, (size_t)p->element_size);
                    }
                }
                out += pixel;
            }
        }
    }
}

void mcuforge_batch_to_space(const mcuforge_space_batch_params *p, const void *input, void *output) {
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const size_t pixel = (size_t)p->pixel_bytes;
    int32_t n;
    int32_t y;
    int32_t x;
    for (n = 0; n < p->batches; ++n) {
        for (y = 0; y < p->space_h; ++y) {
            const int32_t fy = y + p->edge_top;
            const int32_t by = fy % p->block_h;
            for (x = 0; x < p->space_w; ++x) {
                const int32_t fx = x + p->edge_left;
                const int32_t ib = (by * p->block_w + fx % p->block_w) * p->batches + n;
                const size_t at = (((size_t)ib * (size_t)p->blocked_h + (size_t)(fy / p->block_h)) *
                                   (size_t)p->blocked_w + (size_t)(fx / p->block_w)) * pixel;
                memcpy(out, in + at, pixel);
                out += pixel;
            }
        }
    }
}
