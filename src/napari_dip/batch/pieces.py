"""An input file cut into pieces: the slices (or volumes) one fit restores, and the outputs written from them.

The command line plans the outputs; :func:`open_input` reads an input and
cuts it into :class:`Piece` s before any fitting, and :func:`write_results`
writes the outputs from the pieces' results, atomically, with the settings
that made them. :mod:`.serial` restores the pieces in this process,
:mod:`.cluster` on Dask.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_dip.batch.files import (
    ImageFile,
    check_writable,
    companion_path,
    companion_slice,
    read_image,
    read_mask,
    write_image,
)


@dataclass(frozen=True)
class SnapshotPaths:
    """Where the ``--save-every`` snapshots of one piece go: ``NAME_[sI_][runK_]itNNNNN`` next to the output."""

    every: int
    output: Path
    tag: str = ""

    def path(self, iteration: int, run: int | None = None) -> Path:
        """The snapshot of ``iteration`` (of run ``run`` when several runs are averaged)."""
        return companion_path(self.output, f"{self.tag}{'' if run is None else f'run{run}_'}it{iteration:05d}")


@dataclass
class Piece:
    """One 2D slice (or volume) of an input file: the unit of work (one Dask task when distributed)."""

    index: tuple[int, ...]
    label: str
    paired: np.ndarray | None
    snapshots: SnapshotPaths | None


@dataclass(frozen=True)
class Layout:
    """How an input is cut into pieces: ``outer`` indexes them, ``axis`` is a piece's channel axis."""

    outer: tuple[int, ...]
    axis: int | None
    options: dict


def layout(args: argparse.Namespace, image: ImageFile) -> Layout:
    """2D slices, or with ``--stack 3d`` volumes (the last slice axis is Z)."""
    if args.stack != "3d" or not image.slice_ndim:
        return Layout(image.slice_shape, image.channel_axis, {})
    axis = None if image.channel_axis is None else image.channel_axis + 1
    return Layout(image.slice_shape[:-1], axis, {"spatial_dims": 3})


def read_extra(args: argparse.Namespace) -> ImageFile | None:
    """The mask (inpaint) or flash image (flash) given on the command line."""
    if args.task == "inpaint":
        return read_mask(args.mask, known=args.known_mask)
    if args.task == "flash":
        return read_image(args.flash)
    return None


def open_input(args: argparse.Namespace, source: Path, outputs: list[Path], extra: ImageFile | None,
               output_dtype: str = "input") -> tuple[ImageFile, list[Piece]]:
    """Read ``source``, check that its outputs can hold the results (of ``output_dtype``: "input" or a dtype) and
    cut it into pieces, before any fitting."""
    image = read_image(source)
    dtype = image.data.dtype if output_dtype == "input" else np.dtype(output_dtype)
    for path in outputs:
        check_writable(path, dtype, image.channel_axis is not None, image.slice_ndim > 0)
    pieces = []
    for index in np.ndindex(*layout(args, image).outer):
        label = source.name + (f" [{','.join(map(str, index))}]" if index else "")
        tag = "s" + "-".join(map(str, index)) + "_" if index else ""
        snapshots = None if args.save_every is None else SnapshotPaths(args.save_every, outputs[0], tag)
        pieces.append(Piece(index, label, companion_slice(extra, image, index, args.task), snapshots))
    return image, pieces


def write_results(args: argparse.Namespace, image: ImageFile, outputs: list[Path],
                  results: list[list[np.ndarray]], settings: dict) -> None:
    """Write the outputs of one input from its pieces' results, each with ``settings`` and its source; the main
    output last, as it marks the input done."""
    outer = layout(args, image).outer
    for k in reversed(range(len(outputs))):
        data = results[0][k]
        if outer:
            data = np.stack([r[k] for r in results]).reshape(outer + data.shape)
        write_image(outputs[k], data, image.channel_axis, settings={**settings, "source": str(image.path)},
                    planar=image.planar)
