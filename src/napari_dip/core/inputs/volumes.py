"""Volumes for the 3D networks: a (Z, Y, X) array (channels anywhere) to (C, Z, Y, X) in [0, 1], and back.

:func:`read_input` and :func:`to_array` serve images and volumes alike.
A volume is handed to :mod:`napari_dip.core.inputs.images` as the 2D image of its slices laid one
above the other, (Z*Y, X[, C]), so it gets exactly the value mapping, dtype
handling and validation of a 2D image; only the layout differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from napari_dip.core import validation as check
from napari_dip.core.inputs.images import MIN_SIDE, ImageInfo, prepare_image, restore_image, scale_like

#: The tasks (keys of :data:`napari_dip.core.tasks.prepare.TASKS`) that can fit a whole volume with one 3D network.
VOLUME_TASKS = ("denoise", "jpeg", "inpaint")


@dataclass(frozen=True)
class VolumeInfo:
    """How a volume became a (C, Z, Y, X) array: its layout, and the 2D mapping of its values."""

    flat: ImageInfo  # the mapping of the (Z*Y, X[, C]) image of the slices
    shape: tuple[int, ...]
    channel_axis: int | None

    @property
    def dtype(self) -> np.dtype:
        return self.flat.dtype

    @property
    def low(self) -> np.ndarray:
        return self.flat.low

    @property
    def high(self) -> np.ndarray:
        return self.flat.high

    @property
    def channels(self) -> int:
        return self.flat.channels


def _volume_axis(shape: tuple[int, ...], channel_axis: int | None, name: str) -> int | None:
    """The channel axis of a volume of ``shape`` (None for grey), checked."""
    if len(shape) == 3:
        if channel_axis is not None:
            raise ValueError(
                f"channel_axis={channel_axis} but the {name} of shape {shape} is a grey (Z, Y, X) volume: "
                "leave channel_axis=None, or give a 4D array with channels."
            )
        return None
    if len(shape) != 4:
        raise ValueError(
            f"spatial_dims=3 needs a (Z, Y, X) volume (or 4D with channels), got the {name} of shape {shape}: "
            "pick one volume, or pass stack_axis= for a series of volumes."
        )
    if channel_axis is None or not -4 <= channel_axis < 4:
        raise ValueError(
            f"Cannot tell which axis of the 4D {name} of shape {shape} holds the channels: pass channel_axis=0..3 "
            "(or stack_axis= for a time series of volumes)."
        )
    return channel_axis % 4


def _slices_stacked(zyx: np.ndarray) -> np.ndarray:
    """(Z, Y, X[, C]) -> (Z*Y, X[, C]): the slices one above the other (a view when possible)."""
    return zyx.reshape(zyx.shape[0] * zyx.shape[1], *zyx.shape[2:])


def prepare_volume(image: np.ndarray, channel_axis: int | None = None, name: str = "image") -> tuple[np.ndarray, VolumeInfo]:
    """Validate a volume and return it as float32 (C, Z, Y, X) in [0, 1] with its :class:`VolumeInfo`."""
    image = np.asarray(image)
    axis = _volume_axis(image.shape, channel_axis, name)
    zyx = image if axis is None else np.moveaxis(image, axis, -1)
    depth, height, width = zyx.shape[:3]
    if depth < 2 or min(height, width) < MIN_SIDE:
        raise ValueError(
            f"The {name} is {depth}x{height}x{width} voxels (Z, Y, X): a volume needs at least 2 slices of "
            f"{MIN_SIDE}x{MIN_SIDE} pixels; restore a single slice with spatial_dims=2."
        )
    chw, flat = prepare_image(_slices_stacked(zyx), None if axis is None else 2, name)
    info = VolumeInfo(flat, image.shape, axis)
    return chw.reshape(chw.shape[0], depth, height, width), info


def restore_volume(czyx: np.ndarray, info: VolumeInfo) -> np.ndarray:
    """Map a (C, Z, Y, X) array in [0, 1] back to the dtype, range and layout of ``info``."""
    channels, depth, height, width = czyx.shape
    flat = restore_image(czyx.reshape(channels, depth * height, width), info.flat)
    zyx = flat.reshape(depth, height, width, *flat.shape[2:])
    return zyx if info.channel_axis is None else np.moveaxis(zyx, -1, info.channel_axis)


def scale_volume(image: np.ndarray, info: VolumeInfo, name: str = "reference") -> np.ndarray:
    """Scale another volume (a reference) with the value range of ``info``; (C, Z, Y, X) float32."""
    image = np.asarray(image)
    if image.ndim != len(info.shape):
        raise ValueError(f"The {name} has shape {image.shape} but the volume has {info.shape}: pass a volume like it.")
    zyx = image if info.channel_axis is None else np.moveaxis(image, info.channel_axis, -1)
    chw = scale_like(_slices_stacked(zyx), info.flat, name)
    return chw.reshape(chw.shape[0], *zyx.shape[:3])


def check_spatial_dims(task: str, spatial_dims: object) -> int:
    """``spatial_dims`` for ``task``: 2 (an image), or 3 (a volume) for the :data:`VOLUME_TASKS`."""
    if spatial_dims not in (2, 3) or isinstance(spatial_dims, bool):
        raise ValueError(f"spatial_dims={spatial_dims!r}: use 2 (an image) or 3 (a (Z, Y, X) volume).")
    if spatial_dims == 3 and task not in VOLUME_TASKS:
        raise ValueError(f"spatial_dims=3: the {task} task restores 2D images only (3D fits: "
                         f"{', '.join(VOLUME_TASKS)}); restore a volume slice by slice with stack_axis=0.")
    return int(spatial_dims)


def read_input(
    image: np.ndarray, channel_axis: int | None, spatial_dims: int = 2, name: str = "image"
) -> tuple[np.ndarray, ImageInfo | VolumeInfo]:
    """An image (``spatial_dims=2``) or a volume (3) as float32 channels-first in [0, 1], with its info."""
    if spatial_dims == 3:
        return prepare_volume(image, channel_axis, name)
    return prepare_image(image, channel_axis, name)


#: What a result's dtype can be: the input's, or float32 (an integer image's estimate before it is rounded).
OUTPUT_DTYPES = ("input", "float32")


def with_output_dtype(info: ImageInfo | VolumeInfo, output_dtype: str) -> ImageInfo | VolumeInfo:
    """``info`` whose results come back as ``output_dtype`` (in the input's units and layout all the same)."""
    check.choice("output_dtype", output_dtype, OUTPUT_DTYPES)
    if output_dtype == "input":
        return info
    if isinstance(info, VolumeInfo):
        return replace(info, flat=with_output_dtype(info.flat, output_dtype))
    return replace(info, dtype=np.dtype(output_dtype))


def to_array(chw: np.ndarray, info: ImageInfo | VolumeInfo) -> np.ndarray:
    """Map a channels-first result in [0, 1] back to the input's dtype, range and layout."""
    return restore_volume(chw, info) if isinstance(info, VolumeInfo) else restore_image(chw, info)
