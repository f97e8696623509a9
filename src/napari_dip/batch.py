"""A batch of image files restored one slice at a time: reading, fitting, writing.

The command line (:mod:`napari_dip.cli`) plans the outputs and calls
:func:`run_serial`, or :func:`napari_dip.distributed.run_batch` on Dask; both
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

from .io import ImageFile, InputError, check_writable, companion_path, companion_slice, read_image, read_mask
from .io import write_image


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
                  options: dict, label: str, snapshots: Snapshots | None) -> tuple[list[np.ndarray], Any]:
    """Restore one 2D image; return its outputs (main first) and the last fit's history."""
    from .cli import TASKS
    from .core.tasks import TASKS as ENGINE
    from .core.tasks import average_runs

    prepare = ENGINE[TASKS[args.task][0]]
    runs = getattr(args, "runs", 1)
    options = dict(options)
    seed = options.pop("seed", 0)
    bars: list[Progress] = []

    def make_run(k: int) -> Any:
        inputs = (image,) if extra is None else (image, extra)
        task = prepare(*inputs, channel_axis=axis, seed=seed + k, **options)
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
        return [output[2], output[0]], history
    return [output], history


def read_extra(args: argparse.Namespace) -> ImageFile | None:
    """The mask (inpaint) or flash image (flash) given on the command line."""
    if args.task == "inpaint":
        return read_mask(args.mask, known=args.known_mask)
    if args.task == "flash":
        return read_image(args.flash)
    return None


def open_input(args: argparse.Namespace, source: Path, outputs: list[Path],
               extra: ImageFile | None) -> tuple[ImageFile, list[Piece]]:
    """Read ``source``, check that its outputs can hold it and cut it into slices, before any fitting."""
    image = read_image(source)
    for path in outputs:
        check_writable(path, image.data.dtype, image.channel_axis is not None, image.slice_ndim > 0)
    pieces = []
    for index in image.slices():
        label = source.name + (f" [{','.join(map(str, index))}]" if index else "")
        tag = "s" + "-".join(map(str, index)) + "_" if index else ""
        snapshots = None if args.save_every is None else Snapshots(args.save_every, outputs[0], tag)
        pieces.append(Piece(index, label, companion_slice(extra, image, index, args.task), snapshots))
    return image, pieces


def write_results(image: ImageFile, outputs: list[Path], results: list[list[np.ndarray]]) -> None:
    """Write the outputs of one input from its slices' results; the main output last, as it marks the input done."""
    for k in reversed(range(len(outputs))):
        data = results[0][k]
        if image.slice_ndim:
            data = np.stack([r[k] for r in results]).reshape(image.slice_shape + data.shape)
        write_image(outputs[k], data, image.channel_axis)


def summary(output: Path, images: int, iterations: int, reason: str, start: float) -> str:
    """The line printed for a finished input."""
    return f"wrote {output} ({images} image(s), {iterations} iterations, {reason}, {time.perf_counter() - start:.1f} s)"


def process(args: argparse.Namespace, source: Path, outputs: list[Path], extra: ImageFile | None, options: dict) -> str:
    """Restore every slice of ``source`` and write ``outputs``; return a summary line."""
    start = time.perf_counter()
    image, pieces = open_input(args, source, outputs, extra)
    results: list[list[np.ndarray]] = []
    history = None
    for piece in pieces:
        try:
            slice_out, history = restore_slice(args, image.data[piece.index], image.channel_axis, piece.paired,
                                               options, piece.label, piece.snapshots)
        except InputError:
            raise
        except ValueError as exc:  # the engine's validation messages
            raise InputError(f"{source}: {exc}") from exc
        results.append(slice_out)
    write_results(image, outputs, results)
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
