"""Around the fit: classic methods, diagnostics, feature inversion, synthetic data."""
