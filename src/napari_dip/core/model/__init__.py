"""The generator: networks and their input codes."""
