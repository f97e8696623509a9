"""Images too large for the device, fitted in overlapping tiles blended without seams.

:func:`plan_tiles` decides from shapes alone (nothing large is allocated)
whether an image fits the device in one piece and otherwise picks the largest
square tile that does. Each tile is fitted on its own (a fresh network, the
same seed) by :class:`TiledFit`, which has the interface of
:class:`~napari_dip.core.fitting.loop.Fit`: it yields the progress of every tile in
turn (numbered across tiles) and blends the tiles' outputs with weights that
ramp linearly across each overlap, normalised to sum to one, so neighbouring
tiles fade into each other instead of meeting at a seam.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace

import numpy as np

from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.loop import FORECAST_AFTER, Fit, FitResult, History, Progress, long_fit_note

Box = tuple[slice, slice]
#: Fraction of the free memory a fit may plan to use.
MEMORY_SHARE = 0.8
#: Smallest tile side, in pixels: smaller tiles have too little context for the prior.
MIN_TILE = 64


@dataclass(frozen=True)
class TilePlan:
    """How an image is fitted: one box covering it, or overlapping square tiles."""

    shape: tuple[int, int]
    size: int | None  # tile side in input pixels; None when the image is fitted whole
    overlap: int
    boxes: tuple[Box, ...]
    memory: int  # estimated bytes of one fit (one tile)

    @property
    def tiled(self) -> bool:
        return self.size is not None

    def settings(self) -> dict:
        """What the run's settings record about tiling."""
        if not self.tiled:
            return {"tile": None}
        return {"tile": self.size, "tile_overlap": self.overlap, "tile_count": len(self.boxes)}

    def describe(self) -> str:
        return (f"{len(self.boxes)} overlapping tiles of {self.size}x{self.size} pixels "
                f"({self.overlap} pixels of overlap, blended)")


def tile_starts(length: int, size: int, overlap: int) -> list[int]:
    """Starts of tiles of ``size`` covering ``length`` with at least ``overlap`` shared pixels."""
    if size >= length:
        return [0]
    step = size - overlap
    starts = list(range(0, length - size, step))
    return starts + [length - size]


def _boxes(shape: tuple[int, int], size: int, overlap: int) -> tuple[Box, ...]:
    rows, cols = (tile_starts(n, size, overlap) for n in shape)
    return tuple((slice(y, min(y + size, shape[0])), slice(x, min(x + size, shape[1]))) for y in rows for x in cols)


def default_overlap(size: int) -> int:
    """Overlap for a tile side: an eighth of it, at least 16 pixels."""
    return max(16, size // 8)


def plan_tiles(
    shape: tuple[int, int],
    tile: str | int | None,
    needed: Callable[[int, int], int],
    free: int | None,
    multiple: int = 1,
) -> TilePlan:
    """Choose between a whole fit and tiles for an (H, W) image, from shapes only.

    ``needed(h, w)`` estimates the bytes of a fit of an h x w input; ``free``
    is the device's free memory (None when unknown). ``tile`` is ``"auto"``
    (tiles only when the whole image does not fit), ``None`` (never tile:
    raise ValueError when it does not fit) or a tile side in pixels.
    """
    height, width = shape
    whole = needed(height, width)
    budget = None if free is None else int(free * MEMORY_SHARE)
    if tile is not None and not isinstance(tile, str):
        if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or tile < 16:
            raise ValueError(f"tile={tile!r}: use 'auto', None or a tile side of at least 16 pixels.")
        size = int(tile)
    elif tile == "auto":
        if budget is None or whole <= budget:
            return TilePlan(shape, None, 0, ((slice(0, height), slice(0, width)),), whole)
        # activations grow with the area: the largest square tile (with its overlap) that fits the budget
        per_pixel = whole / (height * width)
        side = int((budget / per_pixel) ** 0.5)
        size = side - default_overlap(side)
        size -= size % multiple
        if size < MIN_TILE or needed(size, size) > budget:
            gib = 2**30
            raise ValueError(
                f"This fit needs about {whole / gib:.1f} GiB but the device has {free / gib:.1f} GiB free, "
                f"too little even for {MIN_TILE}x{MIN_TILE} tiles: use the 'fast' preset or a device with more memory."
            )
    elif tile is None:
        if budget is not None and whole > budget:
            gib = 2**30
            raise ValueError(
                f"This fit needs about {whole / gib:.1f} GiB but the device has {free / gib:.1f} GiB free: "
                "pass tile='auto' (--tile auto) to fit it in overlapping tiles, use the 'fast' preset, "
                "or crop or bin the image."
            )
        return TilePlan(shape, None, 0, ((slice(0, height), slice(0, width)),), whole)
    else:
        raise ValueError(f"tile={tile!r}: use 'auto', None or a tile side in pixels.")
    if size >= max(height, width):
        return TilePlan(shape, None, 0, ((slice(0, height), slice(0, width)),), whole)
    overlap = min(default_overlap(size), size // 2)
    return TilePlan(shape, size, overlap, _boxes(shape, size, overlap), needed(size, size))


def blend_weights(box: Box, shape: tuple[int, int], overlap: int, factor: int = 1) -> np.ndarray:
    """(h, w) weights of a tile: 1 inside, ramping to near 0 across each edge shared with a neighbour."""
    ramps = []
    for part, length in zip(box, shape):
        size = (part.stop - part.start) * factor
        ramp = np.ones(size, np.float32)
        width = min(overlap * factor, size // 2)
        rise = (np.arange(width, dtype=np.float32) + 0.5) / width
        if part.start > 0:
            ramp[:width] = rise
        if part.stop < length:
            ramp[size - width :] = rise[::-1]
        ramps.append(ramp)
    return np.outer(*ramps)


class TiledFit:
    """Fit the tiles of a :class:`TilePlan` one after another and blend them (the interface of :class:`Fit`).

    ``make_fit(box)`` builds the fit of one tile (input coordinates);
    ``fallback`` (C, H, W) fills what no tile has restored yet, so a stopped
    run keeps the input there. ``factor`` scales boxes to output coordinates.
    ``config`` is every tile's: each runs ``config.iterations``, and the
    history's ``stop_iteration`` counts the iterations of the tile that ran
    last; the progress records count across tiles, up to :attr:`total`. The
    run ends with ``stop_reason`` "auto_stop" when every tile stopped by itself.
    """

    pieces = "tiles"  # what the boxes are, in messages

    def __init__(self, make_fit: Callable[[Box], Fit], plan: TilePlan, config: FitConfig, fallback: np.ndarray,
                 factor: int = 1):
        self.plan, self.factor = plan, factor
        self.config = config
        self.total = config.iterations * len(plan.boxes)
        self.history = History(seed=config.seed)
        self.tiles_done = 0
        self.keep_states = False  # keep each tile's network as it ended, for the next slice of a stack
        self.final_states: list[dict] = []  # (host copies), to warm-start from
        self._start_states: list[dict] = []
        self.forecast: bool | None = True  # warn when the run will take long (None: the caller forecasts)
        self._paced_at = 0.0
        self._sum: np.ndarray | None = None
        self._make_fit, self._fallback = make_fit, fallback
        self._current: Fit | None = None
        self._weight: np.ndarray | None = None

    @property
    def auto_stop_iteration(self) -> int | None:
        """Where a run whose every tile stopped by itself ended, counted across tiles as the progress records
        count (None otherwise): its result is the blend of what each tile's stop kept."""
        if self.history.stop_reason != "auto_stop":
            return None
        return (self.tiles_done - 1) * self.config.iterations + self.history.stop_iteration

    @property
    def data_term(self):
        """The data term of the tile being fitted (None before the first)."""
        return None if self._current is None else self._current.data_term

    def _out(self, box: Box) -> Box:
        return tuple(slice(s.start * self.factor, s.stop * self.factor) for s in box)

    def _accumulate(self, box: Box, image: np.ndarray) -> None:
        """Add a finished tile's image to the one running blend (weights ramping across the overlaps)."""
        if self._weight is None:
            self._weight = np.zeros(self._fallback.shape[1:], np.float32)
            self._sum = np.zeros(self._fallback.shape, np.float32)
        out = self._out(box)
        weight = blend_weights(box, self.plan.shape, self.plan.overlap, self.factor)
        self._weight[out] += weight
        self._sum[(slice(None), *out)] += weight * image

    def _blend(self, running: tuple[Box, np.ndarray] | None = None) -> np.ndarray:
        """The blend of the tiles done (plus ``running`` = (box, image) of the tile being fitted), the input
        elsewhere: one array of the output's size, whatever the number of tiles."""
        blended = self._fallback.copy()
        if self._weight is not None:
            np.divide(self._sum, self._weight, out=blended, where=self._weight > 0)
        if running is not None:
            box, image = running
            out = self._out(box)
            weight = blend_weights(box, self.plan.shape, self.plan.overlap, self.factor)
            done = (0, 0) if self._weight is None else (self._sum[(slice(None), *out)], self._weight[out])
            blended[(slice(None), *out)] = (done[0] + weight * image) / (done[1] + weight)
        return blended

    def _sync(self, fit: Fit, offset: int, seen: tuple[int, int]) -> tuple[int, int]:
        """Copy the tile's new history entries into the combined history (iterations counted across tiles)."""
        tile, combined = fit.history, self.history
        losses, checks = seen
        combined.iterations.extend(i + offset for i in tile.iterations[losses:])
        combined.losses.extend(tile.losses[losses:])
        combined.checked.extend(i + offset for i in tile.checked[checks:])
        combined.psnr.extend(tile.psnr[checks:])
        combined.psnr_ema.extend(tile.psnr_ema[checks:])
        combined.restored.extend(i + offset for i in tile.restored if i + offset not in combined.restored)
        combined.stop_iteration = tile.stop_iteration
        return len(tile.losses), len(tile.checked)

    def start_from(self, other: "TiledFit | Fit") -> None:
        """Start every tile's network from the one the same tile of ``other`` (a finished tiled fit of the same
        plan) ended with."""
        if not isinstance(other, TiledFit) or other.plan != self.plan or len(other.final_states) != len(self.plan.boxes):
            raise ValueError("the previous fit was not tiled the same way")
        self._start_states = other.final_states

    def steps(self) -> Generator[Progress, None, FitResult]:
        """Fit every tile in turn, yielding :class:`Progress` with full-size blended previews."""
        per, total = self.config.iterations, self.total
        reasons = set()
        for k, box in enumerate(self.plan.boxes):
            offset = k * per
            fit = self._current = self._make_fit(box)
            if self._start_states:
                fit.load_start(self._start_states[k])
            seen = (0, 0)
            fit.forecast = None  # the tiled fit forecasts the whole run
            for record in fit.steps():
                seen = self._sync(fit, offset, seen)
                self._forecast(k, record)
                images = {}
                if record.image is not None:  # one blend: of the kind the fit returns
                    preview = self._blend((box, record.ema_image if self.config.use_ema else record.image))
                    images = {"image": preview, "ema_image": preview}
                yield replace(record, iteration=offset + record.iteration, total=total, **images)
            result = fit.result()
            reasons.add(fit.history.stop_reason)
            self._sync(fit, offset, seen)
            self._accumulate(box, result.image)
            if self.keep_states:
                self.final_states.append({key: value.detach().cpu().clone()
                                          for key, value in fit.network.state_dict().items()})
            self._current = None
            self.tiles_done = k + 1
        self.history.stop_reason = "auto_stop" if reasons == {"auto_stop"} else "completed"
        return self.result()

    def result(self) -> FitResult:
        """The blend of the tiles fitted so far (and of the running tile); the input elsewhere."""
        if self._current is None and self.tiles_done == 0:
            raise RuntimeError("The fit has not run a single iteration yet.")
        running = None
        if self._current is not None and self._current.history.stop_iteration > 0:
            running = (self.plan.boxes[self.tiles_done], self._current.result().image)
        image = self._blend(running)
        return FitResult(image, image, image, self.history)

    def _forecast(self, tile: int, record: Progress) -> None:
        """Once the first tile's pace is measured, warn when the whole run will take long."""
        if tile == 0 and record.iteration == FORECAST_AFTER + 1:
            self._paced_at = record.elapsed
        if tile == 0 and record.iteration == 2 * FORECAST_AFTER + 1 and self.forecast is not None:
            pace = (record.elapsed - self._paced_at) / FORECAST_AFTER
            note = long_fit_note(pace, self.total - record.iteration, f"{len(self.plan.boxes)} {self.pieces} x "
                                 f"{self.config.iterations} iterations")
            if note:
                warnings.warn(note, stacklevel=2)
