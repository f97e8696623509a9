"""The fit: its settings, the loop, its records, stopping rules and tiles."""
