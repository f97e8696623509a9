"""Snapshots of a fit's output, kept every N iterations with a bounded count (no Qt here).

The worker sends the task's outputs at every ``snapshot_every`` iterations;
:class:`Snapshots` stores them in iteration order and, should more than
``limit`` arrive, drops those in the most crowded places, so memory stays
bounded whatever the number of iterations and the rest stay evenly spread.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

HISTORY_LIMIT = 60  # snapshots kept at most


def snapshot_every(total: int, preview_every: int, limit: int = HISTORY_LIMIT) -> int:
    """Iterations between two snapshots: a multiple of ``preview_every`` (the fit sends images only then),
    large enough that ``total`` iterations give at most ``limit`` snapshots."""
    needed = math.ceil(total / limit)
    return preview_every * max(1, math.ceil(needed / preview_every))


class Snapshots:
    """The outputs of one fit at some iterations, in iteration order, at most ``limit`` of them."""

    def __init__(self, limit: int = HISTORY_LIMIT):
        if limit < 2:
            raise ValueError(f"limit={limit}: keep at least 2 snapshots.")
        self.limit = limit
        self.iterations: list[int] = []
        self.frames: list[tuple[np.ndarray, ...]] = []
        self.pinned: set[int] = set()  # iterations never dropped (the auto-stop's choice)

    def __len__(self) -> int:
        return len(self.iterations)

    @property
    def nbytes(self) -> int:
        """Memory held by the snapshots."""
        return sum(array.nbytes for frame in self.frames for array in frame)

    def add(self, iteration: int, outputs: tuple[np.ndarray, ...], *, pin: bool = False) -> None:
        """Store ``outputs`` at ``iteration`` (replacing one already there); thin out when over the limit.

        A pinned snapshot is never dropped by the thinning.
        """
        if pin:
            self.pinned.add(iteration)
        at = bisect.bisect_left(self.iterations, iteration)
        if at < len(self.iterations) and self.iterations[at] == iteration:
            self.frames[at] = outputs
            return
        self.iterations.insert(at, iteration)
        self.frames.insert(at, outputs)
        if len(self.iterations) > self.limit:  # drop the inner snapshot whose neighbours are closest
            its = self.iterations
            spans = [its[k + 1] - its[k - 1] if its[k] not in self.pinned else np.inf for k in range(1, len(its) - 1)]
            drop = 1 + int(np.argmin(spans))
            del self.iterations[drop], self.frames[drop]

    def nearest(self, iteration: int) -> int:
        """Position of the snapshot closest to ``iteration`` (the earlier one on a tie)."""
        if not self.iterations:
            raise IndexError("There are no snapshots yet.")
        return int(np.argmin([abs(i - iteration) for i in self.iterations]))

    def stack(self, output: int = -1) -> np.ndarray:
        """Output number ``output`` of every snapshot, stacked along a new first axis (the iteration)."""
        return np.stack([frame[output] for frame in self.frames])


class IterationView:
    """The snapshots as an array whose first axis is the iteration: index ``i`` shows the latest snapshot taken at
    or before iteration ``i`` (the first one before it), so a viewer's slider counts iterations. ``length`` (at
    least the last snapshot's iteration + 1) sets the axis's length from the start, so it does not grow.

    Only the frames are held; indexing gathers them, so nothing of the size iterations x image is ever made.
    """

    def __init__(self, frames: np.ndarray, iterations: list[int], length: int | None = None):
        self.frames = frames
        length = max(length or 0, iterations[-1] + 1)  # e.g. the fit's iterations: one range for the whole fit
        positions = np.searchsorted(iterations, np.arange(length), side="right") - 1
        self.lookup = np.maximum(positions, 0)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.lookup), *self.frames.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.frames.dtype

    @property
    def ndim(self) -> int:
        return self.frames.ndim

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return len(self.lookup)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if key and key[0] is Ellipsis:
            key = (slice(None), *key[1:]) if len(key) > 1 else (slice(None),)
        first, rest = (key[0], key[1:]) if key else (slice(None), ())
        return self.frames[(self.lookup[first], *rest)]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self[:]
        return array if dtype is None else array.astype(dtype)
