"""Execution engines. `reference` walks the graph in NumPy with TFLite's exact integer semantics."""
