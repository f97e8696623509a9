"""The work done in the fitting thread: a generator of typed messages.

:func:`run_request` prepares one fit per slice with the engine's
``TASKS[task]`` function, iterates its progress generator and yields
:mod:`~napari_dip.gui.messages` records. It yields at every iteration (often
``None``), so ``worker.quit()`` stops it within one iteration; the GUI then
keeps the result with ``TaskRun.result()``. This module has no Qt import and
can be driven by a plain ``for`` loop.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from napari_dip.gui.layers import SliceSource
from napari_dip.gui.messages import Failure, FitUpdate, RunFailed, SliceFinished, SliceStarted, WorkerMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRequest:
    """Everything the worker needs; built in the GUI thread from the widget's values.

    ``sources`` are the positional inputs of ``TASKS[task]`` (image first),
    sliced at each of ``indices``; ``reference`` (optional) is passed as the
    ``reference`` keyword.
    """

    task: str
    sources: tuple[SliceSource, ...]
    indices: tuple[tuple[int, ...], ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    reference: SliceSource | None = None
    preview_interval: float = 0.25  # seconds between two previews sent to the GUI
    update_interval: float = 0.1  # seconds between two progress updates
    warm_start: bool = False  # start each slice's fit from the previous one's weights
    warm_iterations: int | None = None  # iterations of the warm-started slices (default: half)
    history_every: int = 0  # iterations between two snapshots of the outputs (0: none)
    context: int = 0  # neighbouring slices on each side fitted with each slice (along the last leading axis)

    def later_iterations(self) -> int:
        """The iterations of each slice after the first: the warm-started slices run fewer."""
        from napari_dip.core.tasks.stacks import later_iterations

        total = int(self.kwargs.get("iterations", 1))
        return later_iterations(total, self.warm_iterations) if self.warm_start else total


def _failure(exc: Exception, device: str, position: int) -> RunFailed:
    """Turn an exception from the engine into a message for the user."""
    text = str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return RunFailed(
            f"Out of memory on {device}: choose the 'fast' preset, crop or bin the image, or pick another device.",
            Failure.MEMORY,
            position,
        )
    if isinstance(exc, ValueError):
        return RunFailed(text, Failure.INPUT, position)
    logger.exception("napari-dip: the fit failed")
    return RunFailed(
        f"The fit stopped with an unexpected {type(exc).__name__}: {text}. "
        "Try device 'cpu' or the 'fast' preset; if it persists, report it with the settings.",
        Failure.INTERNAL,
        position,
    )


def _outputs(result: Any) -> tuple[Any, ...]:
    return result if isinstance(result, tuple) else (result,)


def _fit_slice(request: RunRequest, run: Any, position: int,
               raw: list | None = None) -> Generator[WorkerMessage, None, None]:
    """Iterate one slice's fit, yielding throttled updates (and ``None`` in between).

    Snapshots of the task's outputs (every ``history_every`` iterations and
    at the last one) are never throttled away; ``raw`` (a list) also collects
    the fit's images at those iterations, for the other slices of its window.
    """
    history = run.history
    use_ema = run.use_ema
    count = len(request.indices)
    sent = sent_psnr = 0
    last_update = last_preview = -math.inf
    for progress in run.steps():
        now = time.perf_counter()
        final = progress.iteration == progress.total
        image = progress.ema_image if use_ema else progress.image
        preview = None
        if image is not None and (final or now - last_preview >= request.preview_interval):
            preview = run.to_image(image)
            last_preview = now
        snapshot = None
        every = request.history_every
        if image is not None and every and (progress.iteration % every == 0 or final):
            snapshot = _outputs(run.finish(image))
            if raw is not None:  # a copy: the fit goes on updating its moving average in place
                raw.append((progress.iteration, progress.total, progress.elapsed, image.copy()))
        if preview is None and snapshot is None and not final and now - last_update < request.update_interval:
            yield None
            continue
        last_update = now
        iterations, losses = history.iterations[sent:], history.losses[sent:]
        sent += len(losses)
        checked, psnr = history.checked[sent_psnr:], (history.psnr_ema if use_ema else history.psnr)[sent_psnr:]
        sent_psnr += len(checked)
        yield FitUpdate(
            position, count, progress.iteration, progress.total, progress.elapsed,
            list(iterations), list(losses), list(checked), list(psnr), preview, snapshot,
        )


def _replay(request: RunRequest, run: Any, position: int, raw: list) -> Generator[WorkerMessage, None, None]:
    """The updates of a slice whose window the last fit fitted (``raw`` holds that fit's images at its snapshots):
    its losses and PSNR, and its snapshots as this slice's outputs."""
    history, count = run.history, len(request.indices)
    psnr = history.psnr_ema if run.use_ema else history.psnr
    for k, (iteration, total, elapsed, image) in enumerate(raw):
        curves = (list(history.iterations), list(history.losses), list(history.checked), list(psnr)) if k == 0 \
            else ([], [], [], [])
        yield FitUpdate(position, count, iteration, total, elapsed, *curves, None, _outputs(run.finish(image)))


def _auto_stop_choice(run: Any) -> int:
    """The iteration whose output the fit returned: the automatic stop's minimum, else the last one."""
    chosen = getattr(run.fit, "auto_stop_iteration", None)  # a tiled fit's counts across its tiles
    return int(chosen or run.history.stop_iteration)


def _slices(request: RunRequest) -> Generator[Any, None, None]:
    """The prepared fit of every slice of ``request``, warm-started as it asks (:func:`~napari_dip.core.tasks.stacks.slice_runs`)."""
    from napari_dip.core.tasks.prepare import TASKS  # looked up at run time, so tests can swap a task
    from napari_dip.core.tasks.stacks import slice_runs
    from napari_dip.core.tasks.windows import stack_camera

    prepare = TASKS[request.task]

    def make_run(position: int, _repeat: int, kwargs: dict) -> Any:
        index = request.indices[position]
        if request.context:
            return _window_run(request, prepare, index, kwargs)
        reference = {} if request.reference is None else {"reference": request.reference.take(index)}
        return prepare(*(source.take(index) for source in request.sources), **kwargs, **reference)

    image, count = request.sources[0], len(request.indices)  # photon noise: one camera estimate for the stack
    kwargs = stack_camera(lambda j: image.take(request.indices[j]), count, request.kwargs.get("channel_axis"),
                          request.kwargs)
    yield from slice_runs(make_run, len(request.indices), kwargs, warm_start=request.warm_start,
                          warm_iterations=request.warm_iterations, context=request.context)


def _window_run(request: RunRequest, prepare: Any, index: tuple[int, ...], kwargs: dict) -> Any:
    """The fit of the slice at ``index`` with its ``request.context`` neighbours along the last leading axis."""
    from napari_dip.core.tasks.windows import window_run

    image = request.sources[0]
    reference = request.reference

    def at(j: int) -> tuple[int, ...]:
        return (*index[:-1], j)

    return window_run(prepare, lambda j: image.take(at(j)), index[-1], image.data.shape[image.leading - 1],
                      request.context, kwargs.get("channel_axis"), kwargs,
                      None if reference is None else lambda j: reference.take(at(j)))


def run_request(request: RunRequest) -> Generator[WorkerMessage, None, None]:
    """Fit every slice of ``request`` in turn; yield messages for the GUI.

    Never raises: failures are yielded as :class:`RunFailed` and end the run.
    """
    device = str(request.kwargs.get("device", "auto"))
    count, position = len(request.indices), 0
    slices = _slices(request)
    raw: list | None = None  # the last fit's images at its snapshots, when its window holds other slices
    while True:
        try:  # preparing a slice's fit: bad input ends the run with its message
            item = next(slices, None)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI as data
            yield _failure(exc, device, position)
            return
        if item is None:
            return
        position, run, index = item.position, item.run, tuple(request.indices[item.position])
        try:
            yield SliceStarted(position, count, index, run)
            if item.fitted:  # the last fit's window held this slice too
                yield from _replay(request, run, position, raw or [])
            else:
                raw = [] if request.context else None
                yield from _fit_slice(request, run, position, raw)
            history = run.history
            ended = history.stop_reason in ("auto_stop", "completed")  # the stop's choice is returned
            chosen = _auto_stop_choice(run) if ended else history.stop_iteration
            yield SliceFinished(position, index, _outputs(run.result()), history.stop_iteration, history.stop_reason,
                                chosen)
        except Exception as exc:  # noqa: BLE001
            yield _failure(exc, device, position)
            return
