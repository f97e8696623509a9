"""Stacks and time-lapses: restore every slice (or frame) along one axis, warm-starting each fit.

Neighbouring slices of a Z-stack and frames of a time-lapse look alike, so
the fit of slice k starts from the network weights the fit of slice k - 1
ended with (same code z, same seed) and runs only ``warm_iterations`` steps.
:func:`restore_stack` does this for any ``prepare_*`` function of
:mod:`napari_dip.core.tasks.prepare`; :func:`start_from` is the one step the napari widgets and the
command line reuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from napari_dip.core.tasks.build import TaskRun
from napari_dip.core.tasks.auto_preset import stack_preset
from napari_dip.core.fitting.records import History, Progress
from napari_dip.core.tasks.presets import DEFAULT_PRESET
from napari_dip.core.tasks.prepare import average_runs

#: Without ``warm_iterations``, warm-started slices run the first slice's iterations divided by this.
WARM_SHARE = 2


def check_warm_iterations(warm_iterations: int | None) -> None:
    """Refuse a ``warm_iterations`` that is not a whole number of 1 or more (None means the default)."""
    if warm_iterations is None:
        return
    if isinstance(warm_iterations, bool) or not isinstance(warm_iterations, (int, np.integer)) or warm_iterations < 1:
        raise ValueError(f"warm_iterations={warm_iterations!r}: give a whole number of iterations of 1 or more.")


def warm_iterations_for(first: TaskRun, warm_iterations: int | None) -> int:
    """Iterations of the slices after the first: ``warm_iterations``, or half the first fit's."""
    return max(1, first.fit.config.iterations // WARM_SHARE) if warm_iterations is None else int(warm_iterations)


def start_from(run: TaskRun, previous: TaskRun) -> None:
    """Start ``run``'s network from the weights (and BatchNorm statistics) ``previous`` ended with.

    Call it before iterating ``run``; both runs must use the same network (same
    preset, channels and dimensionality).
    """
    try:
        run.fit.network.load_state_dict(previous.fit.network.state_dict())
    except RuntimeError as exc:
        raise ValueError(
            "Cannot warm-start from the previous slice: its network differs (other preset or channels). "
            "Restore the slices with the same settings, or pass warm_start=False."
        ) from exc
    run.settings["warm_start"] = True


def _normal_axis(axis: int, ndim: int, what: str) -> int:
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"{what}={axis!r} is not an axis of an array with {ndim} dimensions: use 0..{ndim - 1}.")
    return int(axis) % ndim


def slice_channel_axis(channel_axis: int | None, stack_axis: int, ndim: int) -> int | None:
    """The channel axis of one slice, from the channel axis of the whole stack (None stays None)."""
    if channel_axis is None:
        return None
    channel_axis = _normal_axis(channel_axis, ndim, "channel_axis")
    if channel_axis == stack_axis:
        raise ValueError(f"channel_axis={channel_axis} is also the stack_axis: the slices run along another axis.")
    return channel_axis - (channel_axis > stack_axis)


def _slicer(array: Any, stack_axis: int, ndim: int, count: int, name: str) -> Callable[[int], Any]:
    """A function giving slice k of ``array`` along ``stack_axis``, or the whole array when it has no such axis."""
    if array is None:
        return lambda k: None
    array = np.asarray(array)
    if array.ndim == ndim - 1:  # one 2D mask / flash image / reference for every slice
        return lambda k: array
    if array.ndim != ndim or array.shape[stack_axis] != count:
        raise ValueError(
            f"The {name} has shape {array.shape}: give one for every slice ({count} along axis {stack_axis}) "
            "or a single one of a slice's shape."
        )
    return lambda k: np.take(array, k, axis=stack_axis)


def restore_stack(
    prepare: Callable[..., TaskRun],
    image: np.ndarray,
    *others: np.ndarray,
    stack_axis: int = 0,
    channel_axis: int | None = None,
    warm_start: bool = True,
    warm_iterations: int | None = None,
    runs: int = 1,
    seed: int = 0,
    reference: np.ndarray | None = None,
    callback: Callable[[Progress], object] | None = None,
    **kwargs: Any,
) -> tuple[Any, list[History]]:
    """Restore every slice of ``image`` along ``stack_axis`` with ``prepare`` (a ``prepare_*`` function).

    ``others`` (a mask, a flash image) and ``reference`` either have the
    stack axis too or are one array of a slice's shape, used for every slice.
    ``channel_axis`` counts in the whole stack. With ``warm_start`` each fit
    after the first starts from the previous one's weights and runs
    ``warm_iterations`` steps (default half the first fit's). ``runs``
    fits are averaged per slice. Returns the outputs stacked along
    ``stack_axis`` (a tuple of stacks for tasks with several outputs) and the
    history of every slice. When ``callback`` returns False the run stops and
    the slices restored so far (the current one as it was) are returned.
    """
    check_warm_iterations(warm_iterations)
    image = np.asarray(image)
    stack_axis = _normal_axis(stack_axis, image.ndim, "stack_axis")
    count = image.shape[stack_axis]
    axis = slice_channel_axis(channel_axis, stack_axis, image.ndim)
    take = [_slicer(a, stack_axis, image.ndim, count, "mask / guide image") for a in others]
    take_reference = _slicer(reference, stack_axis, image.ndim, count, "reference")
    outputs: list[Any] = []
    histories: list[History] = []
    previous: TaskRun | None = None
    options = dict(kwargs)
    if warm_start:  # every slice starts from the previous one's network: one preset for all
        options["preset"] = stack_preset(options.get("preset", DEFAULT_PRESET))
    for k in range(count):
        made: list[TaskRun] = []

        def make_run(r: int, k: int = k) -> TaskRun:
            inputs = [np.take(image, k, axis=stack_axis), *(t(k) for t in take)]
            run = prepare(*inputs, channel_axis=axis, seed=seed + r, reference=take_reference(k), **options)
            if warm_start and previous is not None:
                start_from(run, previous)
            made.append(run)
            return run

        output, history = average_runs(runs, make_run, callback)
        outputs.append(output)
        histories.append(history)
        if history.stop_reason == "interrupted":
            break
        if k == 0 and warm_start:
            options["iterations"] = warm_iterations_for(made[-1], warm_iterations)
        previous = made[-1]
    return _stack(outputs, stack_axis), histories


def _stack(outputs: list[Any], stack_axis: int) -> Any:
    """Stack the slices' outputs along ``stack_axis`` (element-wise for tuples of outputs)."""
    if isinstance(outputs[0], tuple):
        return tuple(np.stack(parts, axis=stack_axis) for parts in zip(*outputs))
    return np.stack(outputs, axis=stack_axis)
