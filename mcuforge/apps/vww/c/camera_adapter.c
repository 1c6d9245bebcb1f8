#include <stddef.h>

#include "camera_adapter.h"

#define COORD_BITS 8u
#define COORD_ONE (1u << COORD_BITS)
#define ROUND_HALF (1u << (2u * COORD_BITS - 1u))

#if CAMERA_PIXEL_FORMAT == CAMERA_FORMAT_GRAY8
#define SOURCE_CHANNELS 1
#else
#define SOURCE_CHANNELS 3
#endif

/* Where output index i samples one axis of the crop: source indices lo and hi, and hi's Q8 weight. */
typedef struct {
    uint16_t lo;
    uint16_t hi;
    uint16_t weight;
} sample_position;

static sample_position columns[CAMERA_OUT_SIZE];
static sample_position rows[CAMERA_OUT_SIZE];

/* s = (i + 0.5) * crop / out - 0.5 clamped at 0, in Q8: ((2i + 1) crop - out) * 256 / (2 out), rounded.
 * crop <= 4096 and out <= 512 keep every product below 2^32. */
static void sample_positions(uint32_t crop, sample_position *positions)
{
    uint32_t i;
    for (i = 0; i < CAMERA_OUT_SIZE; ++i) {
        uint32_t centre = (2u * i + 1u) * crop;
        uint32_t numerator = centre > (uint32_t)CAMERA_OUT_SIZE ? (centre - (uint32_t)CAMERA_OUT_SIZE) << COORD_BITS : 0u;
        uint32_t s = (numerator + (uint32_t)CAMERA_OUT_SIZE) / (2u * (uint32_t)CAMERA_OUT_SIZE);
        uint32_t lo = s >> COORD_BITS;
        positions[i].lo = (uint16_t)lo;
        positions[i].hi = (uint16_t)(lo + 1u < crop ? lo + 1u : crop - 1u);
        positions[i].weight = (uint16_t)(s & (COORD_ONE - 1u));
    }
}

/* The 8-bit channels of pixel (x, y). rgb565 widens each channel by bit replication. */
static void read_pixel(const uint8_t *frame, uint32_t x, uint32_t y, uint32_t *channels)
{
    uint32_t k = y * (uint32_t)CAMERA_FRAME_WIDTH + x;
#if CAMERA_PIXEL_FORMAT == CAMERA_FORMAT_GRAY8
    channels[0] = frame[k];
#elif CAMERA_PIXEL_FORMAT == CAMERA_FORMAT_RGB888
    channels[0] = frame[3u * k];
    channels[1] = frame[3u * k + 1u];
    channels[2] = frame[3u * k + 2u];
#else
    uint32_t p = (uint32_t)frame[2u * k] | ((uint32_t)frame[2u * k + 1u] << 8);
    uint32_t r = (p >> 11) & 31u, g = (p >> 5) & 63u, b = p & 31u;
    channels[0] = (r << 3) | (r >> 2);
    channels[1] = (g << 2) | (g >> 4);
    channels[2] = (b << 3) | (b >> 2);
#endif
}

void mcuforge_camera_center_crop(mcuforge_camera_crop *crop)
{
    uint16_t side = CAMERA_FRAME_WIDTH < CAMERA_FRAME_HEIGHT ? CAMERA_FRAME_WIDTH : CAMERA_FRAME_HEIGHT;
    crop->x = (uint16_t)((CAMERA_FRAME_WIDTH - side) / 2);
    crop->y = (uint16_t)((CAMERA_FRAME_HEIGHT - side) / 2);
    crop->width = side;
    crop->height = side;
}

static void write_pixel(const uint32_t *value, int8_t *out)
{
#if CAMERA_OUT_CHANNELS == SOURCE_CHANNELS
    uint32_t c;
    for (c = 0; c < SOURCE_CHANNELS; ++c) {
        out[c] = camera_input_lut[value[c]];
    }
#elif CAMERA_OUT_CHANNELS == 3
    out[0] = out[1] = out[2] = camera_input_lut[value[0]];
#else
    out[0] = camera_input_lut[(77u * value[0] + 150u * value[1] + 29u * value[2] + 128u) >> 8];
#endif
}

int mcuforge_camera_to_input(const uint8_t *frame, const mcuforge_camera_crop *crop, int8_t *input)
{
    mcuforge_camera_crop centred;
    uint32_t ox, oy, c;
    if (crop == NULL) {
        mcuforge_camera_center_crop(&centred);
        crop = &centred;
    }
    if (crop->width == 0u || crop->height == 0u || (uint32_t)crop->x + crop->width > CAMERA_FRAME_WIDTH ||
        (uint32_t)crop->y + crop->height > CAMERA_FRAME_HEIGHT) {
        return MCUFORGE_CAMERA_BAD_CROP;
    }
    sample_positions(crop->width, columns);
    sample_positions(crop->height, rows);
    for (oy = 0; oy < CAMERA_OUT_SIZE; ++oy) {
        uint32_t y0 = crop->y + (uint32_t)rows[oy].lo, y1 = crop->y + (uint32_t)rows[oy].hi;
        uint32_t wy = rows[oy].weight;
        for (ox = 0; ox < CAMERA_OUT_SIZE; ++ox) {
            uint32_t x0 = crop->x + (uint32_t)columns[ox].lo, x1 = crop->x + (uint32_t)columns[ox].hi;
            uint32_t wx = columns[ox].weight;
            uint32_t p00[SOURCE_CHANNELS], p01[SOURCE_CHANNELS], p10[SOURCE_CHANNELS], p11[SOURCE_CHANNELS];
            uint32_t value[SOURCE_CHANNELS];
            read_pixel(frame, x0, y0, p00);
            read_pixel(frame, x1, y0, p01);
            read_pixel(frame, x0, y1, p10);
            read_pixel(frame, x1, y1, p11);
            for (c = 0; c < SOURCE_CHANNELS; ++c) {
                /* <= 255 * 256 * 256 + 2^15: fits in 32 bits */
                uint32_t top = p00[c] * (COORD_ONE - wx) + p01[c] * wx;
                uint32_t bottom = p10[c] * (COORD_ONE - wx) + p11[c] * wx;
                value[c] = (top * (COORD_ONE - wy) + bottom * wy + ROUND_HALF) >> (2u * COORD_BITS);
            }
            write_pixel(value, input + (oy * (uint32_t)CAMERA_OUT_SIZE + ox) * (uint32_t)CAMERA_OUT_CHANNELS);
        }
    }
    return MCUFORGE_CAMERA_OK;
}
