"""Applications around the models: signal front ends and data (kws: the keyword-spotting audio front end)."""
