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


#: Known pixels this close to a hole are never held out (their error would be the hole's). At 2 or more, no
#: 4-neighbour (harmonic) or 2-pixel (biharmonic) stencil of a hole reaches a held-out pixel, so filling holes and
#: held-out pixels together fills the holes as filling them alone would.
HOLDOUT_GAP = 2
#: The held-out copy of a mask is shifted by this many pixels per pixel of the holes' half-thickness (at least 8).
SHIFT_PER_THICKNESS = 4
#: Shifted copies holding fewer pixels than this share of the holes (or of the share asked for, when smaller) are
#: too few to measure a fill by: the holes are scattered pixels or cover almost the whole image.
MIN_COPIED = 0.5


def _shifted(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``mask`` moved by (dy, dx) pixels, what leaves the array dropped (no wrap-around)."""
    out = np.zeros_like(mask)
    height, width = mask.shape
    if abs(dy) >= height or abs(dx) >= width:
        return out
    out[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        mask[max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)]
    return out


def stroke_holdout(missing: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    """Known pixels shaped like the holes, to hold out of an inpainting's fit: copies of ``missing`` (H, W)
    shifted onto known pixels (up, right, down, left), as many copies as fit in ``share`` of the known pixels
    (a seeded random part of the first copy when even that one does not). Empty when the copies would hold fewer
    than :data:`MIN_COPIED` of the holes' pixels (or of the share): the caller then holds out known pixels at
    random, which scattered holes resemble anyway.

    Their error measures how well the fit fills strokes like the user's, with no ground truth: the automatic
    stop follows it, and it sets the share of an average with a classic fill
    (:mod:`napari_dip.core.extras.fill_blend`).
    """
    from scipy.ndimage import binary_dilation, distance_transform_edt

    missing = np.asarray(missing, bool)
    shift = max(8, int(np.ceil(SHIFT_PER_THICKNESS * distance_transform_edt(missing).max())))
    allowed = ~binary_dilation(missing, iterations=HOLDOUT_GAP)
    limit = int(share * (~missing).sum())
    held = np.zeros_like(missing)
    for dy, dx in ((-shift, 0), (0, shift), (shift, 0), (0, -shift)):
        copy = _shifted(missing, dy, dx) & allowed & ~held
        if held.sum() + copy.sum() <= limit:
            held |= copy
        elif not held.any():  # a part of the first copy
            chosen = np.random.default_rng(seed).choice(np.flatnonzero(copy), limit, replace=False)
            held.flat[chosen] = True
    return held if held.sum() >= MIN_COPIED * min(limit, missing.sum()) else np.zeros_like(missing)
