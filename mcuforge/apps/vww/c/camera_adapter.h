/* Camera frame -> int8 model input: crop, bilinear resize (half-pixel centres, Q8 fixed point), gray/RGB
 * conversion and quantization through a 256-entry table. Integer arithmetic only; bit-identical to
 * mcuforge/apps/vww/camera.py. The frame size, pixel format, output size and table come from camera_config.h,
 * generated for one model by mcuforge. Not re-entrant: it keeps its resize coordinates in static memory. */
#ifndef MCUFORGE_CAMERA_ADAPTER_H
#define MCUFORGE_CAMERA_ADAPTER_H

#include <stdint.h>

#include "camera_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCUFORGE_CAMERA_OK 0
#define MCUFORGE_CAMERA_BAD_CROP (-1)

/* A rectangle of the frame, in pixels. */
typedef struct {
    uint16_t x;
    uint16_t y;
    uint16_t width;
    uint16_t height;
} mcuforge_camera_crop;

/* The largest centred square of the frame. */
void mcuforge_camera_center_crop(mcuforge_camera_crop *crop);

/* frame: CAMERA_FRAME_BYTES bytes, row-major (gray8: 1 byte per pixel; rgb888: R, G, B; rgb565: little-endian
 * uint16 with red in bits 15-11). crop: the part of the frame the model sees, or NULL for the centred square.
 * input: CAMERA_INPUT_BYTES int8 values, NHWC [CAMERA_OUT_SIZE][CAMERA_OUT_SIZE][CAMERA_OUT_CHANNELS].
 * Returns MCUFORGE_CAMERA_OK, or MCUFORGE_CAMERA_BAD_CROP (input untouched) when crop is empty or leaves the
 * frame. */
int mcuforge_camera_to_input(const uint8_t *frame, const mcuforge_camera_crop *crop, int8_t *input);

#ifdef __cplusplus
}
#endif

#endif /* MCUFORGE_CAMERA_ADAPTER_H */
