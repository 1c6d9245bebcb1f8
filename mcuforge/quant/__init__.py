"""Integer arithmetic of the TFLite int8 spec, calibration and quantization."""
