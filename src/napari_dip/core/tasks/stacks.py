"""Stacks and time-lapses: the fits of every slice (or frame) along one axis, each warm-started from the last.

Neighbouring slices of a Z-stack and frames of a time-lapse look alike, so
the fit of slice k starts from the network weights the fit of slice k - 1
ended with (same code z, same seed) and runs only ``warm_iterations`` steps. With
``context`` > 0 every slice is fitted together with that many neighbours on
each side (:mod:`napari_dip.core.tasks.windows`).
:func:`slice_runs` is the one loop over a stack's fits: the Python API
(:func:`restore_stack`), the command line's batches and the napari widgets all
iterate it and fit each run it yields.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_dip.core import validation as check
from napari_dip.core.fitting.loop import run as fit_run
from napari_dip.core.fitting.records import History, Progress
from napari_dip.core.fitting.tiles import TiledFit
from napari_dip.core.tasks.build import TaskRun
from napari_dip.core.tasks.preset_choice import context_options, stack_options
from napari_dip.core.tasks.windows import fitted_before, resolve_context, stack_camera, window_run

#: Without ``warm_iterations``, warm-started slices run the first slice's iterations divided by this.
WARM_SHARE = 2
def later_iterations(first: int, warm_iterations: int | None) -> int:
    """Iterations of the warm-started slices after a first of ``first``: ``warm_iterations``, or half as many."""
    return max(1, first // WARM_SHARE) if warm_iterations is None else int(warm_iterations)


def warm_iterations_for(first: TaskRun, warm_iterations: int | None) -> int:
    """Iterations of the slices after the fit ``first``: ``warm_iterations``, or half the first fit's."""
    return later_iterations(first.fit.config.iterations, warm_iterations)


def start_from(run: TaskRun, previous: TaskRun) -> None:
    """Start ``run``'s network (every tile's, for tiled fits) from the weights ``previous`` ended with.

    Call it before iterating ``run``; both runs must use the same network (same preset, channels, dimensionality
    and tiles).
    """
    try:
        run.fit.start_from(previous.fit)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            "Cannot warm-start from the previous slice: its network differs (other preset, channels or tiles). "
            "Restore the slices with the same settings, or pass warm_start=False."
        ) from exc
    run.settings["warm_start"] = True


@dataclass(frozen=True)
class SliceRun:
    """Run ``repeat`` (of the ``runs`` averaged) of slice ``position``, ready to fit; ``fitted``: the run of the
    previous slice, whose window held this slice too, to take the result of without fitting again."""

    position: int
    repeat: int
    run: TaskRun
    fitted: bool = False


def slice_runs(make_run: Callable[[int, int, dict], TaskRun], count: int, options: dict, *, runs: int = 1,
               warm_start: bool = True, warm_iterations: int | None = None,
               context: int = 0) -> Generator[SliceRun, None, None]:
    """The fits of ``count`` slices in order, ``runs`` per slice: ``make_run(position, repeat, options)`` prepares one.

    With ``warm_start`` every fit after the first slice's starts from the network the previous slice's last fit
    ended with and runs ``warm_iterations`` steps (default half the first fit's), ``"auto"`` means the fast
    preset for every slice (one network for all), and every fit holds out pixels for its automatic stop
    (:func:`~napari_dip.core.tasks.preset_choice.stack_options`). With ``context`` (the neighbours each fit sees)
    and photon noise ``"auto"`` means ``"sure"`` (:func:`~napari_dip.core.tasks.preset_choice.context_options`);
    fits of a random code then run cold (:func:`_warms`), and a slice whose window the last fit fitted is
    yielded as that run, ``fitted`` (:func:`~napari_dip.core.tasks.windows.fitted_before`).
    The consumer fits each yielded run (unless ``fitted``) before asking for the next.
    """
    check.positive_whole("runs", runs)
    check.flag("warm_start", warm_start)
    if warm_iterations is not None:
        check.positive_whole("warm_iterations", warm_iterations)
    options = context_options(options, context)
    options = stack_options(options) if warm_start else options
    previous = last = None
    for position in range(count):
        if runs == 1 and fitted_before(last, position, count, context):
            last.keep = last.window.keep(position)
            yield SliceRun(position, 0, last, fitted=True)
            continue
        for repeat in range(runs):
            last = make_run(position, repeat, options)
            if previous is not None and _warms(last, context):
                start_from(last, previous)
            if warm_start and position < count - 1 and isinstance(last.fit, TiledFit):
                last.fit.keep_states = True  # the next slice's tiles start from this one's
            yield SliceRun(position, repeat, last)
        if warm_start and position == 0 and _warms(last, context):
            options["iterations"] = warm_iterations_for(last, warm_iterations)
        previous = last if warm_start and _warms(last, context) else None


def _warms(run: TaskRun, context: int) -> bool:
    """Whether a stack's fits like ``run`` warm-start: without ``context``, or where the network's input is the
    window itself. A random code's network starts on the previous window's slices, one slice off, and ended lower
    than a fresh one (0.9-6.9 dB on a 6-slice photon-limited stack)."""
    return not context or run.code == "observation"


def _stack_axis(axis: Any, ndim: int) -> int:
    """``stack_axis`` as an axis of an array of ``ndim`` dimensions that also holds a slice's image axes."""
    if not check.is_whole(axis) or not -ndim <= axis < ndim:
        raise ValueError(f"stack_axis={axis!r} is not an axis of an array with {ndim} dimensions: use 0..{ndim - 1}.")
    return int(axis) % ndim


def slice_channel_axis(channel_axis: int | None, stack_axis: int, ndim: int) -> int | None:
    """The channel axis of one slice, from the channel axis of the whole stack (None stays None)."""
    if channel_axis is None:
        return None
    if not check.is_whole(channel_axis) or not -ndim <= channel_axis < ndim:
        raise ValueError(f"channel_axis={channel_axis!r} is not an axis of an array with {ndim} dimensions.")
    channel_axis = int(channel_axis) % ndim
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
    context: int | str = 0,
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
    With ``context`` = k each slice is fitted together with k neighbours on
    each side (:func:`~napari_dip.core.tasks.windows.window_image`; a denoising only, since the other tasks'
    masks and guides are a slice's own), and the PSNR against ``reference``
    is the window's.
    """
    image = np.asarray(image)
    if image.ndim < 3:
        raise ValueError(f"stack_axis={stack_axis!r} restores the slices of a stack, but the image has shape "
                         f"{image.shape}: leave stack_axis out for one 2D image.")
    stack_axis = _stack_axis(stack_axis, image.ndim)
    count = image.shape[stack_axis]
    axis = slice_channel_axis(channel_axis, stack_axis, image.ndim)
    take = [_slicer(a, stack_axis, image.ndim, count, "mask / guide image") for a in others]
    take_reference = _slicer(reference, stack_axis, image.ndim, count, "reference")
    context = resolve_context(context)
    if context and others:
        raise ValueError("context fits each slice with its neighbours, which only a denoising can: leave context out.")
    # photon noise: one camera estimate for the stack
    kwargs = stack_camera(lambda j: np.take(image, j, axis=stack_axis), count, axis, kwargs)

    def make_run(k: int, repeat: int, options: dict) -> TaskRun:
        if context:
            return window_run(prepare, lambda j: np.take(image, j, axis=stack_axis), k, count, context, axis,
                              {**options, "seed": seed + repeat}, take_reference)
        inputs = [np.take(image, k, axis=stack_axis), *(t(k) for t in take)]
        return prepare(*inputs, channel_axis=axis, seed=seed + repeat, reference=take_reference(k), **options)

    outputs: list[Any] = []
    histories: list[History] = []
    images: list[np.ndarray] = []
    for item in slice_runs(make_run, count, kwargs, runs=runs, warm_start=warm_start,
                           warm_iterations=warm_iterations, context=context):
        result = item.run.fit.result() if item.fitted else fit_run(item.run.fit, callback)
        images.append(result.image)
        stopped = result.history.stop_reason == "interrupted"
        if item.repeat == runs - 1 or stopped:
            outputs.append(item.run.finish(np.mean(images, axis=0)))
            histories.append(result.history)
            images = []
        if stopped:
            break
    return _stack(outputs, stack_axis), histories


def _stack(outputs: list[Any], stack_axis: int) -> Any:
    """Stack the slices' outputs along ``stack_axis`` (element-wise for tuples of outputs)."""
    if isinstance(outputs[0], tuple):
        return tuple(np.stack(parts, axis=stack_axis) for parts in zip(*outputs))
    return np.stack(outputs, axis=stack_axis)
