"""Code generation: memory planning, C emission, project files, host builds."""
