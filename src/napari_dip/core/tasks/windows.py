"""Slices of a stack fitted together with their neighbours (``context``): the windows, their camera and their runs.

Neighbouring slices of a Z-stack or time-lapse show the same structures under
independent noise. With ``context`` = k every slice is fitted together with k
slices on each side (:func:`context_window`), the window's slices as the
channels of one image (:func:`window_image`), and keeps its own channels
(:meth:`Window.keep`): the network sees the structure the slices share and
cannot draw the noise of one slice from the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_dip.core import validation as check
from napari_dip.core.inputs.noise_level import estimate_noise
from napari_dip.core.tasks.build import TaskRun

#: The neighbours on each side that ``context="auto"`` fits with every slice of a denoised stack: of 1, 2 and 3, 3
#: returned the most on the three stacks of 64 x 64 fluorescence slices of ``benchmarks/classic_quality.py``
#: (slices part; 0.6-3.8 dB more than 1).
AUTO_CONTEXT = 3


def resolve_context(context: Any) -> int:
    """``context`` as a number of neighbours on each side: ``"auto"`` is :data:`AUTO_CONTEXT`."""
    if context == "auto":
        return AUTO_CONTEXT
    if not check.is_whole(context) or context < 0:
        raise ValueError(f"context={context!r}: give the number of neighbouring slices on each side fitted with "
                         "each slice (0 for none), or 'auto'.")
    return int(context)


def context_window(position: int, count: int, context: int) -> range:
    """The slices fitted with slice ``position`` of ``count``: ``context`` on each side, the window shifted inward
    at the stack's ends (every slice when the stack has fewer than ``2 * context + 1``)."""
    width = min(2 * context + 1, count)
    start = min(max(position - context, 0), count - width)
    return range(start, start + width)


@dataclass(frozen=True)
class Window:
    """The stack's slices ``positions`` fitted together as the channels of one ``image`` (channel axis
    ``channel_axis``; ``width`` channels per slice, None for slices without a channel axis)."""

    image: np.ndarray
    channel_axis: int
    positions: range
    width: int | None = None

    def keep(self, position: int) -> Callable[[np.ndarray], np.ndarray]:
        """A function taking slice ``position`` (of the stack), in its own layout, out of an output laid out as
        :attr:`image`."""
        index = position - self.positions.start
        if self.width is None:
            return lambda out: np.take(out, index, axis=self.channel_axis)
        own = np.arange(index * self.width, (index + 1) * self.width)
        return lambda out: np.take(out, own, axis=self.channel_axis)


def window_image(slices: list[np.ndarray], positions: range, channel_axis: int | None) -> Window:
    """``slices`` (the stack's ``positions``, of one layout with channel axis ``channel_axis`` or none) as one
    image whose channels are every slice's channels in turn."""
    if channel_axis is None:
        return Window(np.stack(slices), 0, positions)
    return Window(np.concatenate(slices, axis=channel_axis), channel_axis, positions, slices[0].shape[channel_axis])


def window_run(prepare: Callable[..., TaskRun], take: Callable[[int], np.ndarray], position: int, count: int,
               context: int, channel_axis: int | None, options: dict,
               take_reference: Callable[[int], np.ndarray | None] | None = None) -> TaskRun:
    """The fit of slice ``position`` of ``count`` (``take(j)`` gives slice j) with ``context`` neighbours on each
    side, prepared by ``prepare`` with ``options`` (the camera of photon noise from :func:`stack_camera`); its
    outputs and previews are the slice's own."""
    positions = context_window(position, count, context)
    slices = [take(j) for j in positions]
    window = window_image(slices, positions, channel_axis)
    references = [take_reference(j) for j in positions] if take_reference is not None else [None]
    reference = None if references[0] is None else window_image(references, positions, channel_axis).image
    run = prepare(window.image, **{**_per_window(options, len(slices)), "channel_axis": window.channel_axis,
                                   "reference": reference})
    run.window, run.keep = window, window.keep(position)
    run.settings.update(context=context, window=[positions.start, positions.stop])
    return run


def fitted_before(run: TaskRun | None, position: int, count: int, context: int) -> bool:
    """Whether ``run``, the last fit, already fitted slice ``position``'s window (at a stack's ends neighbouring
    slices share one): its result then gives the slice, and a fit warm-started on the same slices would only
    overfit them (1.7 dB lower on a 6-slice stack)."""
    return (context > 0 and run is not None and run.window is not None
            and run.window.positions == context_window(position, count, context))


#: The most slices, evenly spaced, that :func:`stack_camera` estimates the camera from.
CAMERA_SLICES = 16


def camera_sample(count: int) -> list[int]:
    """The positions of the (at most :data:`CAMERA_SLICES`) slices of a stack of ``count`` the camera is estimated
    from, evenly spaced."""
    return sorted({int(round(k)) for k in np.linspace(0, count - 1, min(count, CAMERA_SLICES))})


def stack_camera(take: Callable[[int], np.ndarray], count: int, channel_axis: int | None, options: dict) -> dict:
    """``options`` for the 2D slices of a stack of ``count`` (``take(j)`` gives slice j) under photon noise: the
    camera's gain, read noise and offset (per channel of a slice) estimated once from :func:`camera_sample` of the
    slices, which share the camera; no slice is read otherwise. Estimates from single 64 x 64 slices scattered
    (gains 0.01-0.8 for a camera of gain 1) or found no gain at all, which stopped the stack's run at that slice,
    and so did some windows of 7 slices of a 10-photon stack."""
    given = all(options.get(k) is not None for k in ("gain", "read_noise"))
    if options.get("noise") != "poisson" or given or options.get("spatial_dims", 2) != 2:  # volumes: their own
        return options
    planes = [np.moveaxis(np.asarray(take(j), np.float64), channel_axis, 0) if channel_axis is not None
              else np.asarray(take(j), np.float64)[None] for j in camera_sample(count)]
    model = estimate_noise(np.concatenate(planes, axis=1), options.get("gain"), options.get("read_noise"),
                           options.get("offset"))
    return {**options, "gain": model.gain.tolist(), "read_noise": model.read_noise.tolist(),
            "offset": model.offset.tolist()}


def _per_window(options: dict, copies: int) -> dict:
    """The camera values of one slice's channels (:func:`stack_camera`, or given) repeated for the ``copies``
    slices of a window."""
    return {**options, **{key: np.tile(np.atleast_1d(np.asarray(options[key], np.float64)), copies).tolist()
                          for key in ("gain", "read_noise", "offset") if options.get(key) is not None}}
