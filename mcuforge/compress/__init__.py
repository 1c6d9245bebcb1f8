"""Model compression on the PyTorch side: pruning, quantization-aware training, distillation.

Submodules import PyTorch themselves; importing this package does not."""
