"""A batch of image files restored one slice at a time: reading, fitting, writing.

The command line (:mod:`napari_dip.cli`) plans the outputs and calls
:func:`run_serial`, or :func:`napari_dip.batch.cluster.run_batch` on Dask; both
cut each input into :class:`Piece` s with :func:`open_input`, restore them with
:func:`restore_slice` and write the results with :func:`write_results`.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from napari_dip.batch.files import ImageFile, InputError, check_writable, companion_path, companion_slice, read_image, read_mask
from napari_dip.batch.files import write_image


class Progress:
    """Progress bar (with time left) and snapshot writer for one fit."""

    def __init__(self, task: Any, label: str, quiet: bool, snapshot: Any = None):
        from tqdm.auto import tqdm

        self.task, self.snapshot = task, snapshot
        total = task.fit.config.iterations
        self.bar = tqdm(total=total, desc=label, unit="it", disable=quiet, leave=False, dynamic_ncols=True)

    def __call__(self, record: Any) -> None:
        self.bar.update(record.iteration - self.bar.n)
        if record.loss is not None:
            self.bar.set_postfix(loss=f"{record.loss:.2e}", refresh=False)
        if self.snapshot is not None and record.image is not None and record.iteration % self.snapshot[0] == 0:
            chw = record.ema_image if self.task.use_ema else record.image
            image = self.task.finish(chw)
            write_image(self.snapshot[1](record.iteration), image[2] if isinstance(image, tuple) else image,
                        self.task.info.channel_axis)


@dataclass(frozen=True)
class Snapshots:
    """Where the ``--save-every`` snapshots of one slice go: ``NAME_[sI_][runK_]itNNNNN`` next to the output."""

    every: int
    output: Path
    tag: str = ""

    def path(self, iteration: int, run: int | None = None) -> Path:
        """The snapshot of ``iteration`` (of run ``run`` when several runs are averaged)."""
        return companion_path(self.output, f"{self.tag}{'' if run is None else f'run{run}_'}it{iteration:05d}")


@dataclass
class Piece:
    """One 2D slice of an input file: the unit of work (one Dask task when distributed)."""

    index: tuple[int, ...]
    label: str
    paired: np.ndarray | None
    snapshots: Snapshots | None


def restore_slice(args: argparse.Namespace, image: np.ndarray, axis: int | None, extra: np.ndarray | None,
                  options: dict, label: str, snapshots: Snapshots | None,
                  previous: Any = None) -> tuple[list[np.ndarray], Any, Any]:
    """Restore one 2D image (or volume); return its outputs (main first), the last fit's history and its TaskRun.

    With ``previous`` (a TaskRun), every fit starts from the weights it ended with.
    """
    from napari_dip.cli import TASKS
    from napari_dip.core.tasks.stacks import start_from
    from napari_dip.core.tasks.prepare import TASKS as ENGINE
    from napari_dip.core.tasks.prepare import average_runs

    prepare = ENGINE[TASKS[args.task][0]]
    runs = getattr(args, "runs", 1)
    options = dict(options)
    seed = options.pop("seed", 0)
    bars: list[Progress] = []

    def make_run(k: int) -> Any:
        inputs = (image,) if extra is None else (image, extra)
        task = prepare(*inputs, channel_axis=axis, seed=seed + k, **options)
        if previous is not None:
            start_from(task, previous)
        if bars:
            bars[-1].bar.close()
        snapshot = None if snapshots is None else (
            snapshots.every, functools.partial(snapshots.path, run=k + 1 if runs > 1 else None))
        bars.append(Progress(task, label if runs == 1 else f"{label} run {k + 1}/{runs}", args.quiet, snapshot))
        return task

    try:
        output, history = average_runs(runs, make_run, lambda record: bars[-1](record))
    finally:
        for progress in bars:
            progress.bar.close()
    if isinstance(output, tuple):  # enhance: (coarse, fine, enhanced) -> enhanced, coarse
        return [output[2], output[0]], history, bars[-1].task
    return [output], history, bars[-1].task


def restore_pieces(args: argparse.Namespace, images: list[np.ndarray], pieces: list[Piece], axis: int | None,
                   options: dict) -> tuple[list[list[np.ndarray]], Any]:
    """Restore ``pieces`` in order (``images`` are their arrays); return their outputs and the last history.

    With ``--stack warm`` every fit after the first starts from the previous one's weights and runs
    ``--warm-iterations`` steps (default: half the first fit's).
    """
    from napari_dip.core.tasks.auto_preset import stack_preset
    from napari_dip.core.tasks.presets import DEFAULT_PRESET
    from napari_dip.core.tasks.stacks import warm_iterations_for

    warm = getattr(args, "stack", "slices") == "warm"
    if warm and len(pieces) > 1:  # every slice starts from the previous one's network: one preset for all
        options = {**options, "preset": stack_preset(options.get("preset", DEFAULT_PRESET))}
    results, history, previous = [], None, None
    for image, piece in zip(images, pieces, strict=True):
        outputs, history, run = restore_slice(args, image, axis, piece.paired, options, piece.label, piece.snapshots,
                                              previous)
        if warm and previous is None:
            options = {**options, "iterations": warm_iterations_for(run, getattr(args, "warm_iterations", None))}
        previous = run if warm else None
        results.append(outputs)
    return results, history


def read_extra(args: argparse.Namespace) -> ImageFile | None:
    """The mask (inpaint) or flash image (flash) given on the command line."""
    if args.task == "inpaint":
        return read_mask(args.mask, known=args.known_mask)
    if args.task == "flash":
        return read_image(args.flash)
    return None


@dataclass(frozen=True)
class Layout:
    """How an input is cut into pieces: ``outer`` indexes them, ``axis`` is a piece's channel axis."""

    outer: tuple[int, ...]
    axis: int | None
    options: dict


def layout(args: argparse.Namespace, image: ImageFile) -> Layout:
    """2D slices, or with ``--stack 3d`` volumes (the last slice axis is Z)."""
    if getattr(args, "stack", "slices") != "3d" or not image.slice_ndim:
        return Layout(image.slice_shape, image.channel_axis, {})
    axis = None if image.channel_axis is None else image.channel_axis + 1
    return Layout(image.slice_shape[:-1], axis, {"spatial_dims": 3})


def open_input(args: argparse.Namespace, source: Path, outputs: list[Path],
               extra: ImageFile | None) -> tuple[ImageFile, list[Piece]]:
    """Read ``source``, check that its outputs can hold it and cut it into pieces, before any fitting."""
    image = read_image(source)
    for path in outputs:
        check_writable(path, image.data.dtype, image.channel_axis is not None, image.slice_ndim > 0)
    pieces = []
    for index in np.ndindex(*layout(args, image).outer):
        label = source.name + (f" [{','.join(map(str, index))}]" if index else "")
        tag = "s" + "-".join(map(str, index)) + "_" if index else ""
        snapshots = None if args.save_every is None else Snapshots(args.save_every, outputs[0], tag)
        pieces.append(Piece(index, label, companion_slice(extra, image, index, args.task), snapshots))
    return image, pieces


def write_results(args: argparse.Namespace, image: ImageFile, outputs: list[Path],
                  results: list[list[np.ndarray]]) -> None:
    """Write the outputs of one input from its pieces' results; the main output last, as it marks the input done."""
    outer = layout(args, image).outer
    for k in reversed(range(len(outputs))):
        data = results[0][k]
        if outer:
            data = np.stack([r[k] for r in results]).reshape(outer + data.shape)
        write_image(outputs[k], data, image.channel_axis)


def summary(output: Path, images: int, iterations: int, reason: str, start: float) -> str:
    """The line printed for a finished input."""
    return f"wrote {output} ({images} image(s), {iterations} iterations, {reason}, {time.perf_counter() - start:.1f} s)"


def process(args: argparse.Namespace, source: Path, outputs: list[Path], extra: ImageFile | None, options: dict) -> str:
    """Restore every slice of ``source`` and write ``outputs``; return a summary line."""
    start = time.perf_counter()
    image, pieces = open_input(args, source, outputs, extra)
    shape = layout(args, image)
    try:
        results, history = restore_pieces(args, [image.data[piece.index] for piece in pieces], pieces, shape.axis,
                                          {**options, **shape.options})
    except InputError:
        raise
    except ValueError as exc:  # the engine's validation messages
        raise InputError(f"{source}: {exc}") from exc
    write_results(args, image, outputs, results)
    return summary(outputs[0], len(results), history.stop_iteration, history.stop_reason, start)


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
