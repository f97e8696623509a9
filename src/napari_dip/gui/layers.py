"""From napari layers to the arrays and geometry a run needs.

A layer's last two axes (three for RGB, channels last) are the 2D image that
one fit restores; any axes before them (Z, T, ...) are *leading* axes that
select a slice. Helpers here read the current slice's index from the viewer,
check that companion layers (mask, flash image, reference) fit the image, and
compute where the outputs lie in world coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_dip.core.validation import InputError

#: Metadata key of the layers a run shows while it works (preview, history): never offered as an input.
WORKING = "napari_dip_working"


def is_input(layer: Any) -> bool:
    """Whether a layer may be a widget's input: any but the preview and history layers of a run."""
    return not layer.metadata.get(WORKING)


@dataclass(frozen=True)
class SliceSource:
    """An array sliced the same way as the image: ``leading`` leading axes, or 0 to use it whole."""

    data: Any
    leading: int = 0
    as_mask: bool = False  # labels > 0 -> True (missing pixel)

    def take(self, index: tuple[int, ...]) -> np.ndarray:
        """The 2D (or 2D + channels) array for the slice at ``index`` of the image's leading axes."""
        array = np.asarray(self.data[index[: self.leading]] if self.leading else self.data)
        return array > 0 if self.as_mask else array


def spatial_ndim(layer: Any) -> int:
    """Axes of one 2D image of ``layer``: (Y, X), or (Y, X, C) for RGB."""
    return 3 if getattr(layer, "rgb", False) else 2


def leading_shape(layer: Any) -> tuple[int, ...]:
    """Shape of the axes before the 2D image (empty for a plain 2D layer)."""
    shape = tuple(layer.data.shape)
    return shape[: len(shape) - spatial_ndim(layer)]


def image_shape(layer: Any) -> tuple[int, ...]:
    """Shape of one 2D image of ``layer`` (with channels last for RGB)."""
    shape = tuple(layer.data.shape)
    return shape[len(shape) - spatial_ndim(layer) :]


def channel_axis(layer: Any) -> int | None:
    """The engine's ``channel_axis`` for a slice of ``layer``."""
    return 2 if getattr(layer, "rgb", False) else None


def contrast_limits(layer: Any) -> tuple[float, float] | None:
    """The layer's contrast limits, reused by outputs of the same value range (none for RGB)."""
    return None if layer.rgb else tuple(float(v) for v in layer.contrast_limits)


def check_image(layer: Any, what: str = "image") -> None:
    """Refuse layers the widgets cannot process, with a message that says what to do."""
    if layer is None:
        raise InputError(
            f"Choose an {what} layer first: open one (File > Open Files) or a sample "
            "(File > Open Sample > Deep Image Prior)."
        )
    if getattr(layer, "multiscale", False):
        raise InputError(
            f"The {what} '{layer.name}' is multiscale: DIP restores one resolution level; "
            "add the level you want as a plain image layer (e.g. viewer.add_image(layer.data[0]))."
        )
    if len(image_shape(layer)) < 2 or min(image_shape(layer)[:2]) < 4:
        raise InputError(f"The {what} '{layer.name}' is too small (shape {layer.data.shape}): use at least 4x4 pixels.")


def current_index(layer: Any, viewer: Any) -> tuple[int, ...]:
    """Index in ``layer``'s leading axes of the slice the viewer shows now."""
    leading = leading_shape(layer)
    if not leading:
        return ()
    position = layer.world_to_data(viewer.dims.point)[: len(leading)]
    return tuple(int(np.clip(np.rint(p), 0, n - 1)) for p, n in zip(position, leading, strict=True))


def companion(
    layer: Any, image: Any, expected: tuple[int, ...], what: str, fix: str, *, as_mask: bool = False
) -> SliceSource:
    """Slice ``layer`` like ``image``: its shape must be ``expected`` or the image's leading axes + ``expected``.

    ``what`` names the layer's role in the message and ``fix`` says how to get it right.
    """
    shape = tuple(layer.data.shape)
    leading = leading_shape(image)
    if shape == expected:
        return SliceSource(layer.data, 0, as_mask)
    if leading and shape == leading + expected:
        return SliceSource(layer.data, len(leading), as_mask)
    wanted = f"{expected}" if not leading else f"{expected} or {leading + expected}"
    raise InputError(
        f"The {what} '{layer.name}' has shape {shape} but the image '{image.name}' needs {wanted}: {fix}"
    )


def output_geometry(
    layer: Any, factor: int = 1, index: tuple[int, ...] | None = None
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Scale and translate of an output of ``layer`` (its leading axes kept).

    With ``factor`` > 1 (super-resolution) the pixels are ``factor`` times
    smaller and shifted so the output overlays the input: input pixel ``i``
    covers output pixels ``factor*i ... factor*i + factor - 1``. With
    ``index`` (one slice of a stack), the leading axes are moved to that slice.
    """
    scale = np.array(layer.scale, dtype=float)  # copies: the layer's own arrays must not change
    translate = np.array(layer.translate, dtype=float)
    n_leading = len(leading_shape(layer))
    if factor > 1:
        translate[n_leading:] -= scale[n_leading:] * (factor - 1) / (2 * factor)
        scale[n_leading:] /= factor
    if index is not None:  # the first len(index) leading axes (all of them for one 2D slice)
        translate[: len(index)] += np.asarray(index, dtype=float) * scale[: len(index)]
    return tuple(scale.tolist()), tuple(translate.tolist())


def spatial_geometry(
    scale: tuple[float, ...], translate: tuple[float, ...], ndim: int = 2
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The last ``ndim`` axes of a geometry (for a 2D or 3D preview shown on every slice)."""
    return tuple(scale[-ndim:]), tuple(translate[-ndim:])
