"""A batch of image files restored in this process, one piece after the other, with a progress bar per fit."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from napari_dip.batch.files import ImageFile, write_image
from napari_dip.batch.pieces import Piece, layout, open_input, write_results
from napari_dip.core.extras.classic_blend import share_note
from napari_dip.core.validation import InputError


class ProgressBar:
    """A progress bar (with time left) for one fit, which also writes its ``--save-every`` snapshots."""

    def __init__(self, task: Any, label: str, quiet: bool, snapshot: Any = None):
        from tqdm.auto import tqdm

        self.task, self.snapshot = task, snapshot
        self.bar = tqdm(total=None, desc=label, unit="it", disable=quiet, leave=False, dynamic_ncols=True)

    def __call__(self, record: Any) -> None:
        if self.bar.total != record.total:
            self.bar.total = record.total
        self.bar.update(record.iteration - self.bar.n)
        if record.loss is not None:
            self.bar.set_postfix(loss=f"{record.loss:.2e}", refresh=False)
        if self.snapshot is not None and record.image is not None and record.iteration % self.snapshot[0] == 0:
            chw = record.ema_image if self.task.use_ema else record.image
            image = self.task.finish(chw)
            write_image(self.snapshot[1](record.iteration), image[2] if isinstance(image, tuple) else image,
                        self.task.info.channel_axis)

    def close(self) -> None:
        self.bar.close()


def restore_pieces(args: argparse.Namespace, images: list[np.ndarray], pieces: list[Piece], axis: int | None,
                   options: dict) -> tuple[list[list[np.ndarray]], Any, dict]:
    """Restore ``pieces`` in order (``images`` are their arrays); return their outputs (main first), the last
    fit's history and the settings of the first fit.

    With ``--stack warm`` every fit after the first starts from the previous one's weights and runs
    ``--warm-iterations`` steps (default: half the first fit's).
    """
    from napari_dip.core.fitting.loop import run as fit_run
    from napari_dip.core.tasks.prepare import TASKS
    from napari_dip.core.tasks.stacks import slice_runs
    from napari_dip.core.tasks.windows import stack_camera, window_run

    runs = getattr(args, "runs", 1)
    options = dict(options)
    seed = options.pop("seed", 0)
    context = options.pop("context", 0)
    context = context if len(pieces) > 1 else 0  # the pieces are one file's slices, in order
    depth = pieces[-1].index[-1] + 1 if context else 0  # slices along the last slice axis
    # photon noise: one camera estimate for the stack
    options = stack_camera(images.__getitem__, len(images), axis, options)

    def make_run(k: int, repeat: int, kwargs: dict) -> Any:
        if context:
            position = pieces[k].index[-1]
            first = k - position  # the first piece with the same outer index
            return window_run(TASKS[args.task], lambda j: images[first + j], position, depth, context, axis,
                              {**kwargs, "seed": seed + repeat})
        inputs = (images[k],) if pieces[k].paired is None else (images[k], pieces[k].paired)
        return TASKS[args.task](*inputs, channel_axis=axis, seed=seed + repeat, **kwargs)

    results, finished, settings, history = [], [], {}, None
    warm = args.stack == "warm" and len(pieces) > 1
    for item in slice_runs(make_run, len(pieces), options, runs=runs, warm_start=warm,
                           warm_iterations=args.warm_iterations, context=context):
        if item.fitted:  # the last fit's window held this slice too
            result = item.run.fit.result()
        else:
            bar = ProgressBar(item.run, _label(pieces[item.position], item.repeat, runs), args.quiet,
                              _snapshots(pieces[item.position], item.repeat, runs))
            try:
                result = fit_run(item.run.fit, bar)
            finally:
                bar.close()
        settings, history = settings or dict(item.run.settings), result.history
        finished.append(result.image)
        if item.repeat == runs - 1:
            output = item.run.finish(np.mean(finished, axis=0))
            settings = {**item.run.settings, **settings}  # with what the finish recorded (the classic share)
            results.append([output[2], output[0]] if isinstance(output, tuple) else [output])  # enhance: enhanced, coarse
            finished = []
    return results, history, settings


def _label(piece: Piece, repeat: int, runs: int) -> str:
    return piece.label if runs == 1 else f"{piece.label} run {repeat + 1}/{runs}"


def _snapshots(piece: Piece, repeat: int, runs: int) -> tuple[int, Any] | None:
    if piece.snapshots is None:
        return None
    return piece.snapshots.every, lambda iteration: piece.snapshots.path(iteration, repeat + 1 if runs > 1 else None)


def summary(output: Path, images: int, settings: dict, history: Any, start: float) -> str:
    """The line printed for a finished input: images, iterations (per tile or region), how it stopped, time."""
    tiles = f" per tile, {settings['tile_count']} tiles" if settings.get("tile_count") else ""
    if settings.get("region_count", 1) > 1:
        tiles = f" per region, {settings['region_count']} regions around the mask"
    if "classic_share" in settings:
        tiles += f", {share_note(settings)}"
    return (f"wrote {output} ({images} image(s), {history.stop_iteration} iterations{tiles}, {history.stop_reason}, "
            f"{time.perf_counter() - start:.1f} s)")


def recorded(settings: dict, history: Any) -> dict:
    """The settings an output file records: the fit's, and where its last fit stopped."""
    return {**settings, "stopped_at": history.stop_iteration, "stop_reason": history.stop_reason}


def process(args: argparse.Namespace, source: Path, outputs: list[Path], extra: ImageFile | None, options: dict) -> str:
    """Restore every piece of ``source`` and write ``outputs``; return a summary line."""
    start = time.perf_counter()
    image, pieces = open_input(args, source, outputs, extra, options.get("output_dtype", "input"))
    shape = layout(args, image)
    try:
        results, history, settings = restore_pieces(args, [image.data[piece.index] for piece in pieces], pieces,
                                                    shape.axis, {**options, **shape.options})
    except InputError:
        raise
    except ValueError as exc:  # the engine's validation messages
        raise InputError(f"{source}: {exc}") from exc
    write_results(args, image, outputs, results, recorded(settings, history))
    return summary(outputs[0], len(results), settings, history, start)


def run_serial(args: argparse.Namespace, jobs: list[tuple[Path, list[Path]]], extra: ImageFile | None,
               options: dict, single: bool) -> int:
    """Restore the inputs one after the other in this process; return the number that failed."""
    failed = 0
    for source, outputs in jobs:
        try:
            line = process(args, source, outputs, extra, dict(options))
        except InputError as exc:
            if single:
                raise
            failed += 1
            print(f"napari-dip: error: {exc}", file=sys.stderr)
            continue
        if not args.quiet:
            print(f"napari-dip: {line}")
    return failed
