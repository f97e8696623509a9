"""The Deep Image Prior engine: pure torch and numpy, no napari or Qt."""
