"""How observations are made: forward operators and noise models."""
