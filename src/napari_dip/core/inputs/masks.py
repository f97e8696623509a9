"""Inpainting masks: what the user painted, as the map of the pixels a fit knows."""

from __future__ import annotations

import numpy as np

from napari_dip.core.inputs.images import ImageInfo
from napari_dip.core.inputs.volumes import VolumeInfo


def known_pixels(mask: np.ndarray, info: ImageInfo | VolumeInfo) -> np.ndarray:
    """Turn a user mask (True / non-zero = missing) into a boolean (H, W) (or (Z, Y, X)) known-pixel map."""
    mask = np.asarray(mask)
    spatial = tuple(s for a, s in enumerate(info.shape) if a != info.channel_axis)
    if mask.shape == info.shape and info.channel_axis is not None:
        mask = np.any(mask, axis=info.channel_axis)
    if mask.shape != spatial:
        raise ValueError(
            f"The mask has shape {mask.shape} but the image's pixels are {spatial}: "
            "draw the mask on a layer of the image's size."
        )
    missing = mask != 0
    if missing.all():
        raise ValueError("The mask covers every pixel: leave some pixels known (unmasked) to restore from.")
    if not missing.any():
        raise ValueError("The mask is empty: mark the pixels to fill (True / label > 0) first.")
    return ~missing
