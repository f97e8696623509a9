"""The user's arrays and their intensities: images, volumes, what their noise looks like."""
