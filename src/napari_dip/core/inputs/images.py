"""Conversion between user arrays and the network's [0, 1] channel-first tensors.

Every image enters through :func:`prepare_image`, which validates it, moves the
channel axis first, scales values to [0, 1] and remembers how to undo all of
that in an :class:`ImageInfo`. :func:`restore_image` maps a result back to the
input's layout, dtype and value range.

The mapping is lossless: uint8 uses its dtype range, floats already in [0, 1]
are kept as they are (unless they span less than 1/256), and every other
image maps the full data range of each channel (its minimum and maximum) to
[0, 1]. Nothing is clipped, so a bright
spot rarer than any percentile keeps its height; a round trip without fitting
gives the input back exactly for bool and integer data up to 24 bits of range
(and to float32 precision of the range for other floats). bool images are
0 / 1 data and come back as bool (threshold 0.5). Robust percentiles belong to
display contrast, never to the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from napari_dip.core.validation import is_whole

#: Smallest accepted side length, in pixels.
MIN_SIDE = 4
#: A last axis of 3 or 4 is taken as colour without ``channel_axis`` only when both sides reach this.
MIN_COLOUR_SIDE = 16
#: Floats in [0, 1] keep that scale only when their values span at least this much (8 bits); a narrower span maps
#: each channel's minimum and maximum to 0 and 1, so the fit sees the image's contrast.
MIN_UNIT_SPAN = 1 / 256


@dataclass(frozen=True)
class ImageInfo:
    """How an array was turned into a (C, H, W) float image in [0, 1]."""

    dtype: np.dtype
    shape: tuple[int, ...]
    channel_axis: int | None
    low: np.ndarray  # per-channel value mapped to 0
    high: np.ndarray  # per-channel value mapped to 1

    @property
    def channels(self) -> int:
        return len(self.low)


def resolve_channel_axis(image: np.ndarray, channel_axis: int | None) -> int | None:
    """Return the channel axis of ``image`` as a non-negative int, or None for grey.

    When ``channel_axis`` is not given, a 3D array is taken as RGB(A) only when
    that leaves no doubt: its last axis has 3 or 4 entries and both other
    sides have at least :data:`MIN_COLOUR_SIDE` pixels. Anything else, such as
    (8, 32, 4), asks for ``channel_axis``.
    """
    if channel_axis is not None and not is_whole(channel_axis):
        raise ValueError(f"channel_axis={channel_axis!r}: pass a whole number (the axis index) or None.")
    if image.ndim == 2:
        if channel_axis is not None:
            raise ValueError(
                f"channel_axis={channel_axis} does not exist in a 2D image of shape "
                f"{image.shape}: leave channel_axis=None for a grey image."
            )
        return None
    if image.ndim != 3:
        raise ValueError(
            f"Expected a 2D image (H, W) or a 3D image with channels, got shape "
            f"{image.shape}: restore stacks and time series one 2D slice at a time."
        )
    if channel_axis is None:
        if image.shape[-1] in (3, 4) and min(image.shape[:2]) >= MIN_COLOUR_SIDE:
            return 2
        if image.shape[-1] in (3, 4):
            raise ValueError(
                f"Is the last axis of the image of shape {image.shape} colour or a side of "
                f"{image.shape[-1]} pixels? Pass channel_axis=-1 for RGB(A) channels, or channel_axis=0 or 1 "
                f"(images are taken as colour without it only when both sides are {MIN_COLOUR_SIDE} pixels or more)."
            )
        raise ValueError(
            f"Cannot tell which axis of the 3D image of shape {image.shape} holds the "
            "channels: pass channel_axis=0, 1 or 2 (or restore it slice by slice)."
        )
    if not -3 <= channel_axis < 3:
        raise ValueError(
            f"channel_axis={channel_axis} does not exist in an image of shape "
            f"{image.shape}: use an axis between -3 and 2."
        )
    return channel_axis % 3


def validate_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Check that ``image`` is a non-empty finite numeric array; return it as ndarray."""
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"The {name} is empty (shape {image.shape}): pass an image with pixels.")
    if not (np.issubdtype(image.dtype, np.number) or image.dtype == bool) or np.iscomplexobj(image):
        raise ValueError(
            f"The {name} has dtype {image.dtype}: pass a real-valued numeric array."
        )
    if np.issubdtype(image.dtype, np.floating) and not np.all(np.isfinite(image)):
        raise ValueError(
            f"The {name} contains NaN or Inf values: replace them (e.g. with "
            "np.nan_to_num) or mark them as missing pixels and use inpaint()."
        )
    return image


def value_range(chw: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel values mapped to 0 and 1: the dtype's range for uint8 and bool, [0, 1] for floats in [0, 1]
    that span at least :data:`MIN_UNIT_SPAN`, else each channel's minimum and maximum (a flat channel gets a span of
    1). Values whose span overflows a float64 are refused."""
    channels = chw.shape[0]
    if dtype == np.uint8:
        return np.zeros(channels), np.full(channels, 255.0)
    if dtype == bool:
        return np.zeros(channels), np.ones(channels)
    low, high = chw.min(axis=(1, 2)).astype(np.float64), chw.max(axis=(1, 2)).astype(np.float64)
    if not np.all(np.isfinite(high - low)):
        raise ValueError(f"The image's values span more than a float64 can hold (from {low.min():.3g} to "
                         f"{high.max():.3g}): scale them down (e.g. divide by their largest magnitude) first.")
    unit = np.issubdtype(dtype, np.floating) and low.min() >= 0 and high.max() <= 1
    if unit and np.max(high - low) >= MIN_UNIT_SPAN:
        return np.zeros(channels), np.ones(channels)
    return low, np.where(high > low, high, low + 1.0)


def prepare_image(
    image: np.ndarray, channel_axis: int | None = None, name: str = "image"
) -> tuple[np.ndarray, ImageInfo]:
    """Validate ``image`` and return it as float32 (C, H, W) in [0, 1] with its info."""
    image = validate_image(image, name)
    axis = resolve_channel_axis(image, channel_axis)
    chw = image[np.newaxis] if axis is None else np.moveaxis(image, axis, 0)
    if min(chw.shape[1:]) < MIN_SIDE:
        raise ValueError(
            f"The {name} is {chw.shape[1]}x{chw.shape[2]} pixels: each side needs at "
            f"least {MIN_SIDE} pixels."
        )
    low, high = value_range(chw, image.dtype)
    info = ImageInfo(image.dtype, image.shape, axis, low, high)
    scaled = _scale(chw, low, high - low)
    return np.clip(scaled, 0.0, 1.0, out=scaled), info


def _scale(chw: np.ndarray, low: np.ndarray, span: np.ndarray, rows: int = 1024) -> np.ndarray:
    """(chw - low) / span per channel as float32, computed in float64 a block of rows at a time (little memory)."""
    out = np.empty(chw.shape, np.float32)
    for c in range(chw.shape[0]):
        for top in range(0, chw.shape[1], rows):
            block = chw[c, top : top + rows].astype(np.float64)
            out[c, top : top + rows] = (block - low[c]) / span[c]
    return out


def scale_like(image: np.ndarray, info: ImageInfo, name: str = "reference") -> np.ndarray:
    """Scale another image (a reference, a guide) with the value range of ``info``."""
    image = validate_image(image, name)
    chw = image[np.newaxis] if info.channel_axis is None else np.moveaxis(image, info.channel_axis, 0)
    if chw.shape[0] != info.channels:
        raise ValueError(
            f"The {name} has {chw.shape[0]} channels but the image has {info.channels}: "
            "pass an image with the same channels."
        )
    return _scale(chw, info.low, info.high - info.low)


def restore_image(chw: np.ndarray, info: ImageInfo) -> np.ndarray:
    """Map a (C, H, W) array in [0, 1] back to the dtype, range and layout of ``info``."""
    values = np.clip(chw.astype(np.float64), 0.0, 1.0)
    if info.dtype == bool:
        out = values >= 0.5
        return out[0] if info.channel_axis is None else np.moveaxis(out, 0, info.channel_axis)
    values = values * (info.high - info.low)[:, None, None] + info.low[:, None, None]
    if np.issubdtype(info.dtype, np.integer):
        limits = np.iinfo(info.dtype)
        values = np.clip(np.rint(values), limits.min, limits.max)
    out = values[0] if info.channel_axis is None else np.moveaxis(values, 0, info.channel_axis)
    return out.astype(info.dtype)


def pad_amounts(size: int, multiple: int, minimum: int = 0) -> tuple[int, int]:
    """Split the padding that takes ``size`` up to a multiple of ``multiple`` (and >= ``minimum``)."""
    target = max(-(-size // multiple) * multiple, -(-minimum // multiple) * multiple)
    total = target - size
    return total // 2, total - total // 2


def pad_to_multiple(
    chw: np.ndarray, multiple: int | tuple[int, ...], minimum: int | tuple[int, ...] = 0
) -> tuple[np.ndarray, tuple[slice, ...]]:
    """Reflection-pad a (C, H, W) or (C, Z, H, W) array so every spatial side divides by ``multiple`` and reaches ``minimum``.

    ``multiple`` and ``minimum`` are one value for every side or one per side.
    Returns the padded array and the slices that crop it back.
    """
    sides = chw.shape[1:]
    multiples = (multiple,) * len(sides) if isinstance(multiple, int) else tuple(multiple)
    minimums = (minimum,) * len(sides) if isinstance(minimum, int) else tuple(minimum)
    amounts = [pad_amounts(s, m, n) for s, m, n in zip(sides, multiples, minimums, strict=True)]
    padded = np.pad(chw, ((0, 0), *amounts), mode="symmetric")
    crop = tuple(slice(before, before + side) for (before, _), side in zip(amounts, sides))
    return padded, crop
