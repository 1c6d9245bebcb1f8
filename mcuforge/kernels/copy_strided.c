#include "copy_strided.h"

/* One run along the last dimension. Positions are kept as integer offsets: with a negative stride, stepping a
 * pointer past the last element would form an address before the buffer, which C leaves undefined. */
static void copy_run(uint8_t *out, int32_t out_step, const uint8_t *in, int32_t in_step, int32_t n, int32_t size) {
    int32_t i;
    int32_t src = 0;
    int32_t dst = 0;
    if (in_step == size && out_step == size) {
        memcpy(out, in, (size_t)n * (size_t)size);
        return;
    }
    /* Fixed-size memcpy compiles to one load and store, and unlike a cast it respects strict aliasing. */
    switch (size) {
    case 1:
        for (i = 0; i < n; ++i, src += in_step, dst += out_step) {
            out[dst] = in[src];
        }
        break;
    case 2:
        for (i = 0; i < n; ++i, src += in_step, dst += out_step) {
            memcpy(out + dst, in + src, 2);
        }
        break;
    case 4:
        for (i = 0; i < n; ++i, src += in_step, dst += out_step) {
            memcpy(out + dst, in + src, 4);
        }
        break;
    default:
        for (i = 0; i < n; ++i, src += in_step, dst += out_step) {
            memcpy(out + dst, in + src, (size_t)size);
        }
        break;
    }
}

void mcuforge_copy_strided(const mcuforge_copy_params *p, const void *input, void *output) {
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    const int32_t last = p->rank - 1;
    int32_t index[MCUFORGE_COPY_MAX_DIMS] = {0};
    int32_t in_pos = p->in_offset;
    int32_t out_pos = p->out_offset;
    int32_t d;
    for (;;) {
        copy_run(out + out_pos, p->out_strides[last], in + in_pos, p->in_strides[last], p->dims[last],
                 p->element_size);
        /* Odometer over the outer dimensions: advance the innermost one, carrying into the next when it wraps. */
        for (d = last - 1; d >= 0; --d) {
            in_pos += p->in_strides[d];
            out_pos += p->out_strides[d];
            if (++index[d] < p->dims[d]) {
                break;
            }
            in_pos -= p->dims[d] * p->in_strides[d];
            out_pos -= p->dims[d] * p->out_strides[d];
            index[d] = 0;
        }
        if (d < 0) {
            return;
        }
    }
}

void mcuforge_fill(void *output, const void *value, int32_t element_size, int32_t count) {
    uint8_t *out = (uint8_t *)output;
    const size_t total = (size_t)count * (size_t)element_size;
    size_t done;
    if (total == 0) {
        return;
    }
    if (element_size == 1) {
        memset(out, *(const uint8_t *)value, total);
        return;
    }
    /* Write one element, then keep doubling the filled prefix: O(log n) memcpy calls of any element size. */
    memcpy(out, value, (size_t)element_size);
    for (done = (size_t)element_size; done < total;) {
        const size_t n = done < total - done ? done : total - done;
        memcpy(out + done, out, n);
        done += n;
    }
}
