"""Masks for inpainting in two clicks: an empty Labels layer over the image, or one from an intensity range."""

from __future__ import annotations

from typing import Any

import numpy as np

from napari_dip.core.validation import InputError
from napari_dip.gui.layers import check_image, image_shape, leading_shape


def default_range(layer: Any) -> tuple[float, float]:
    """The range of valid intensities proposed for ``layer``: all but the extreme values of integer data
    (dead and saturated pixels), the data's own range for floats."""
    dtype = np.asarray(layer.data[(0,) * len(leading_shape(layer))]).dtype
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(info.min + 1), float(info.max - 1)
    low, high = (float(v) for v in layer.contrast_limits_range)
    return low, high


def brush_size(layer: Any) -> int:
    """A paint brush about 1/40 of the image's shorter side (at least 1 pixel)."""
    return max(1, round(min(image_shape(layer)[:2]) / 40))


def _add_mask(viewer: Any, image: Any, data: np.ndarray) -> Any:
    """A Labels layer over ``image`` (same scale and translate), selected, with the paint brush ready."""
    labels = viewer.add_labels(data, name=f"{image.name} [mask]", scale=np.array(image.scale),
                               translate=np.array(image.translate), opacity=0.7)
    viewer.layers.selection.active = labels
    labels.brush_size = brush_size(image)
    labels.selected_label = 1
    labels.mode = "paint"
    return labels


def mask_shape(image: Any) -> tuple[int, ...]:
    """Leading axes and the image's height and width (no channels)."""
    return leading_shape(image) + image_shape(image)[:2]


def new_mask(viewer: Any, image: Any) -> Any:
    """Add an empty mask of the image's shape, scale and translate, ready to paint."""
    check_image(image)
    return _add_mask(viewer, image, np.zeros(mask_shape(image), dtype=np.uint8))


def mask_from_intensities(viewer: Any, image: Any, low: float, high: float) -> Any:
    """Add a mask marking the pixels outside [low, high] (any channel) as missing; refuse when none are."""
    check_image(image)
    if not low <= high:
        raise InputError(f"The valid range {low:g} .. {high:g} is empty: make 'from' at most 'to'.")
    data = np.asarray(image.data)
    outside = (data < low) | (data > high)
    if getattr(image, "rgb", False):
        outside = outside.any(axis=-1)
    if not outside.any():
        raise InputError(f"No pixel of '{image.name}' is outside {low:g} .. {high:g}: narrow the valid range.")
    if outside.all():
        raise InputError(f"Every pixel of '{image.name}' is outside {low:g} .. {high:g}: widen the valid range.")
    return _add_mask(viewer, image, outside.astype(np.uint8))
