"""Inpainting that costs what the mask covers: boxes around the mask, fitted one by one, pasted back seamlessly.

:func:`plan_regions` groups the pixels to fill into boxes with known context
around them, from the mask alone: each connected part of the mask, grown by a
margin that follows the thickness of its holes, gives a box; boxes that
overlap, or whose union costs no more than the two apart, are merged. When the
boxes would cover most of the image, one box covers it all.

:class:`RegionFit` fits the boxes one after another (the interface of
:class:`~napari_dip.core.fitting.loop.Fit`, through
:class:`~napari_dip.core.fitting.tiles.TiledFit`) and pastes each box's output
into the input on the pixels to fill only (:func:`seamless_paste`): the fill
is shifted by the harmonic interpolation of the fit's misfit on the known
pixels around each hole, so it meets them without a step. Every known pixel
comes back exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.loop import Fit
from napari_dip.core.fitting.tiles import TiledFit

Box = tuple[slice, ...]
#: What an inpainting fits: ``"mask"`` the surroundings of the mask, only the painted pixels change; ``"whole"``
#: the whole image, whose every pixel is the network's output (the paper's way).
REGIONS = {"mask": "fit around the mask, change only the painted pixels",
           "whole": "fit the whole image, every pixel from the network (the paper)"}
#: Smallest and largest known context kept around a hole, in pixels.
MIN_CONTEXT, MAX_CONTEXT = 16, 96
#: Context per pixel of a hole's half-thickness (its largest distance to a known pixel).
CONTEXT_PER_THICKNESS = 4
#: One box covers the whole image when the boxes would cover more than this share of it.
WHOLE_SHARE = 0.6
#: Smallest side of a box, in pixels: less leaves the network too little to learn from.
MIN_SIDE = 64


def hole_context(missing: np.ndarray) -> int:
    """The context margin for ``missing`` (H, W): 4 x the largest half-thickness of a hole, within 16..96."""
    from scipy.ndimage import distance_transform_edt

    half = float(distance_transform_edt(missing).max()) if missing.any() else 0.0
    return int(np.clip(round(CONTEXT_PER_THICKNESS * half), MIN_CONTEXT, MAX_CONTEXT))


def _area(box: Box) -> int:
    return int(np.prod([part.stop - part.start for part in box]))


def _union(a: Box, b: Box) -> Box:
    return tuple(slice(min(p.start, q.start), max(p.stop, q.stop)) for p, q in zip(a, b))


def _overlap(a: Box, b: Box) -> bool:
    return all(p.start < q.stop and q.start < p.stop for p, q in zip(a, b))


def _fit_box(box: Box, shape: tuple[int, ...], min_side: int, multiple: int) -> Box:
    """``box`` grown to at least ``min_side`` and a multiple of ``multiple`` per side, inside the image."""
    out = []
    for part, length in zip(box, shape):
        want = max(part.stop - part.start, min(min_side, length))
        want = min(length, -(-want // multiple) * multiple)
        start = max(0, min(part.start - (want - (part.stop - part.start)) // 2, length - want))
        out.append(slice(start, start + want))
    return tuple(out)


def _merge(boxes: list[Box], shape: tuple[int, ...], min_side: int, multiple: int) -> list[Box]:
    """Merge boxes that overlap, or whose union is no larger than the two apart, until none are left to merge."""
    boxes = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                union = _union(boxes[i], boxes[j])
                if _overlap(boxes[i], boxes[j]) or _area(union) <= _area(boxes[i]) + _area(boxes[j]):
                    boxes[i] = _fit_box(union, shape, min_side, multiple)
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


@dataclass(frozen=True)
class RegionPlan:
    """The boxes (Y and X slices) an inpainting fits, each holding whole parts of the mask with their context."""

    shape: tuple[int, int]
    boxes: tuple[Box, ...]
    context: int

    @property
    def share(self) -> float:
        """Share of the image's pixels the fits see."""
        return sum(_area(box) for box in self.boxes) / (self.shape[0] * self.shape[1])

    def settings(self) -> dict:
        """What the run's settings record about the boxes."""
        return {"region_count": len(self.boxes)}


def plan_regions(missing: np.ndarray, multiple: int = 32, *, context: int | None = None,
                 min_side: int = MIN_SIDE, whole_share: float = WHOLE_SHARE) -> RegionPlan:
    """Group the pixels to fill (``missing``, (H, W) bool) into boxes with ``context`` pixels of known context.

    ``context=None`` takes :func:`hole_context`; box sides are multiples of ``multiple`` (what the network
    needs). If the boxes cover more than ``whole_share`` of the image, one box covers it all.
    """
    from scipy.ndimage import find_objects, label, maximum_filter

    missing = np.asarray(missing, bool)
    shape = missing.shape
    context = hole_context(missing) if context is None else int(context)
    whole = RegionPlan(shape, (tuple(slice(0, side) for side in shape),), context)
    if not missing.any():
        return whole
    grown = maximum_filter(missing, size=2 * context + 1)
    boxes = [_fit_box(box, shape, min_side, multiple) for box in find_objects(label(grown)[0]) if box is not None]
    plan = RegionPlan(shape, tuple(_merge(boxes, shape, min_side, multiple)), context)
    return whole if plan.share > whole_share else plan


class HarmonicFill:
    """Harmonic interpolation (Laplace's equation, nearest neighbours) into the ``region`` pixels from the pixels
    around them; the array's borders are mirrored. ``region`` is a 2D or 3D bool array; the sparse system is
    factorised once."""

    def __init__(self, region: np.ndarray):
        from scipy.sparse import coo_matrix
        from scipy.sparse.linalg import splu

        self.region = region = np.asarray(region, bool)
        self.inside = np.nonzero(region)
        count = len(self.inside[0])
        index = -np.ones(region.shape, np.int64)
        index[self.inside] = np.arange(count)
        rows, cols, diagonal = [], [], np.zeros(count)
        self._known: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []  # (equation, neighbour) of known pixels
        for axis in range(region.ndim):
            for step in (-1, 1):
                neighbour = list(self.inside)
                neighbour[axis] = neighbour[axis] + step
                within = (neighbour[axis] >= 0) & (neighbour[axis] < region.shape[axis])
                diagonal += within
                equation = np.nonzero(within)[0]
                neighbour = tuple(n[within] for n in neighbour)
                unknown = region[neighbour]
                rows.append(equation[unknown])
                cols.append(index[tuple(n[unknown] for n in neighbour)])
                self._known.append((equation[~unknown], tuple(n[~unknown] for n in neighbour)))
        self._lu = None
        if count:
            rows.append(np.arange(count))
            cols.append(np.arange(count))
            data = np.concatenate([-np.ones(sum(len(r) for r in rows[:-1])), diagonal])
            matrix = coo_matrix((data, (np.concatenate(rows), np.concatenate(cols))), shape=(count, count))
            self._lu = splu(matrix.tocsc())

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """``values`` (C, *region.shape) with the region's pixels replaced by the interpolation of the others."""
        out = values.copy()
        if self._lu is None:
            return out
        rhs = np.zeros((len(self.inside[0]), values.shape[0]))
        for equation, neighbour in self._known:
            np.add.at(rhs, equation, values[(slice(None), *neighbour)].T)
        out[(slice(None), *self.inside)] = self._lu.solve(rhs).T.astype(values.dtype)
        return out


def seamless_paste(original: np.ndarray, output: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``original`` (C, ...) with its ``missing`` pixels taken from ``output``, shifted to meet their surroundings.

    The fill is ``output`` plus the harmonic interpolation of ``original - output`` from the known pixels around
    each hole (seamless cloning): it meets them without a step, and what a fit stopped early has not yet fitted
    of the image's low frequencies is corrected. Known pixels are never changed.
    """
    missing = np.asarray(missing, bool)
    if not missing.any():
        return original.copy()
    misfit = np.where(missing[None], 0.0, original - output).astype(np.float32)
    filled = np.clip(output + HarmonicFill(missing)(misfit), 0.0, 1.0)
    return np.where(missing[None], filled, original).astype(original.dtype)


class RegionFit(TiledFit):
    """Fit the boxes of a :class:`RegionPlan` one after another and paste each into the input.

    ``make_fit(box)`` builds the fit of one box; ``original`` (C, [Z,] H, W) is the input, which a stopped run
    keeps where no box has been fitted yet; ``missing`` ([Z,] H, W) marks the pixels to fill. Previews show the
    running box's output on its pixels to fill; a finished box is pasted with :func:`seamless_paste`.
    """

    pieces = "regions around the mask"

    def __init__(self, make_fit: Callable[[Box], Fit], plan: RegionPlan, config: FitConfig, original: np.ndarray,
                 missing: np.ndarray):
        super().__init__(make_fit, plan, config, original)
        self._missing = np.asarray(missing, bool)
        self._pasted = original.copy()
        self._average: Any = None  # pastes a box averaged with a classic fill (None: seamless_paste)
        self._held: np.ndarray | None = None

    def average_with(self, average: Any, held: np.ndarray) -> None:
        """Paste every box with ``average.paste(original, output, missing, held)`` (a
        :class:`~napari_dip.core.extras.fill_blend.FillBlend`), which judges on the box's ``held`` pixels (the
        known pixels its fit held out)."""
        self._average, self._held = average, np.asarray(held, bool)

    def _index(self, box: Box, ndim: int) -> tuple[slice, ...]:
        return (slice(None),) * (ndim - len(box)) + tuple(box)

    def _accumulate(self, box: Box, image: np.ndarray) -> None:
        """Paste a finished box's output into the result."""
        region = self._index(box, self._pasted.ndim)
        missing = self._missing[self._index(box, self._missing.ndim)]
        if self._average is None:
            self._pasted[region] = seamless_paste(self._fallback[region], image, missing)
        else:
            held = self._held[self._index(box, self._held.ndim)]
            self._pasted[region] = self._average.paste(self._fallback[region], image, missing, held)

    def _blend(self, running: tuple[Box, np.ndarray] | None = None) -> np.ndarray:
        """The result so far, with ``running`` = (box, image) of the box being fitted on its pixels to fill."""
        out = self._pasted.copy()
        if running is not None:
            box, image = running
            region = self._index(box, out.ndim)
            out[region] = np.where(self._missing[self._index(box, self._missing.ndim)][None], image, out[region])
        return out

    def start_from(self, other: TiledFit | Fit) -> None:
        """Start every box's network from one that ``other`` (a finished region fit) ended with: the same box's
        where the plans match, else its last box's."""
        if not isinstance(other, RegionFit) or not other.final_states:
            raise ValueError("the previous fit did not fit regions around a mask")
        last = len(other.final_states) - 1
        self._start_states = [other.final_states[min(k, last)] for k in range(len(self.plan.boxes))]
