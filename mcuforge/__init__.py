"""mcuforge: neural networks to verified, static-memory C for microcontrollers."""

__version__ = "0.1.0"
