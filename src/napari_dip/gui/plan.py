"""From a widget's form to a run: the request for the worker and the session that collects its output layers.

The widget reads its controls into a :class:`Form` (plain values and layers);
:func:`plan_run` and :func:`compare_request` turn it into what the worker and
the output layers need. No Qt here, so the planning is tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from napari_dip.core.validation import InputError
from napari_dip.gui.compare import CompareRequest
from napari_dip.gui.form import SLICE_MODES
from napari_dip.gui.layers import (
    SliceSource,
    channel_axis,
    check_image,
    contrast_limits,
    current_index,
    leading_shape,
    output_geometry,
)
from napari_dip.gui.runner import RunRequest
from napari_dip.gui.session import LayerPlan, OutputSpec, RunSession
from napari_dip.gui.snapshots import snapshot_every


@dataclass
class Form:
    """What a task widget's form holds when Run (or Compare) is pressed."""

    task: str
    image: Any  # the napari Image layer
    companions: list[SliceSource]  # the mask, the flash image: sliced like the image
    reference: SliceSource | None
    kwargs: dict[str, Any]  # the fit's and the task's keywords
    outputs: tuple[OutputSpec, ...]
    metadata: dict[str, Any] = field(default_factory=dict)  # names of the companion layers, ...
    mode: str = SLICE_MODES[0]
    factor: int = 1
    preview_interval: float = 0.25


def _slices(form: Form, viewer: Any) -> tuple[tuple, tuple, tuple | None, bool, bool]:
    """The indices of the slices to fit, the output stack's leading shape, the current index (None: every slice),
    and whether the run restores every slice / the volume."""
    from napari_dip.core.inputs.volumes import VOLUME_TASKS

    leading = leading_shape(form.image)
    mode = form.mode if leading else SLICE_MODES[0]
    all_slices, volume = mode == SLICE_MODES[1], mode == SLICE_MODES[2]
    if volume and form.task not in VOLUME_TASKS:
        raise InputError(f"This task restores 2D images only: choose the stack mode '{SLICE_MODES[1]}'.")
    outer = leading[:-1] if volume else leading  # the axes that pick what one fit restores
    if all_slices:
        return tuple(np.ndindex(*leading)), leading, None, True, False
    at = current_index(form.image, viewer)[: len(outer)]
    return (at,), (1,) * len(outer), at, False, volume


def plan_run(form: Form, viewer: Any) -> tuple[RunRequest, RunSession]:
    """The worker's request and the session of the output layers (InputError for unusable layers)."""
    image = form.image
    check_image(image)
    indices, stack, at, all_slices, volume = _slices(form, viewer)
    sources = [SliceSource(image.data, len(leading_shape(image))), *form.companions]
    reference = form.reference
    if at is not None:  # snapshot the slice now: later edits of the layers do not change this run
        sources = [SliceSource(np.array(s.take(at))) for s in sources]
        reference = None if reference is None else SliceSource(np.array(reference.take(at)))
    kwargs = {**form.kwargs, "channel_axis": channel_axis(image)}
    context = kwargs.pop("context", 0) if all_slices and not volume else 0
    kwargs.pop("context", None)
    if volume:  # the voxel size from the layer's scale
        first = len(stack)
        kwargs.update(spatial_dims=3, spacing=tuple(float(v) for v in image.scale[first: first + 3]),
                      channel_axis=3 if image.rgb else None)
    every = snapshot_every(kwargs["iterations"], kwargs["preview_every"])
    request = RunRequest(form.task, tuple(sources), indices, kwargs, reference, form.preview_interval,
                         warm_start=all_slices, history_every=every, context=int(context))
    scale, translate = output_geometry(image, form.factor, at)
    metadata = {**form.metadata, **({"stack_mode": form.mode} if leading_shape(image) else {})}
    plan = LayerPlan(image.name, form.outputs, scale, translate, stack, all_slices, bool(image.rgb),
                     contrast_limits(image), metadata)
    return request, RunSession(plan, len(indices))


def compare_request(form: Form, viewer: Any, methods: tuple[str, ...],
                    dip: np.ndarray | None) -> tuple[CompareRequest, LayerPlan]:
    """The classic methods' request on the current slice, with the last DIP result ``dip`` scored beside them, and
    the geometry of their layers (InputError for unusable layers)."""
    image = form.image
    check_image(image)
    at, leading = current_index(image, viewer), leading_shape(image)
    arrays = [source.take(at) for source in (SliceSource(image.data, len(leading)), *form.companions)]
    reference = None if form.reference is None else form.reference.take(at)
    others = {"DIP": dip.reshape(reference.shape)} if dip is not None and dip.size == np.size(reference) else {}
    request = CompareRequest(methods, arrays[0], tuple(arrays[1:]), channel_axis(image), form.factor, reference,
                             others)
    scale, translate = output_geometry(image, form.factor, at)
    return request, LayerPlan(image.name, (), scale, translate, (1,) * len(leading), False, bool(image.rgb),
                              contrast_limits(image), form.metadata)
