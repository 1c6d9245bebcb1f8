"""Reading results for people: per-layer tables, estimates, reports."""
