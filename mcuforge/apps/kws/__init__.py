"""Keyword spotting: the MLPerf Tiny KWS audio front end (MFCC) in NumPy and as generated C99.

`mfcc(audio, preset)` gives the features the MLPerf Tiny KWS model was trained on; `emit_mfcc_c` writes the same
pipeline as a static-memory C library (batch and streaming); `quantize_features` maps them to the model's int8
input."""

from mcuforge.apps.kws.mfcc import (PRESETS, MfccConfig, dct_matrix, get_preset, hann_window, log_mel_spectrogram,
                                    mel_weight_matrix, mfcc, peak_normalize, quantize_features)

__all__ = ["PRESETS", "MfccConfig", "dct_matrix", "get_preset", "hann_window", "log_mel_spectrogram",
           "mel_weight_matrix", "mfcc", "peak_normalize", "quantize_features"]
