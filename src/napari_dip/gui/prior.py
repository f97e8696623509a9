"""The prior explorer's work, done in a worker thread: samples from untrained networks and noise-impedance curves.

Each job yields or returns the typed records below (failures come back as a
:class:`~napari_dip.gui.messages.RunFailed`); the widget in
:mod:`napari_dip._qt.prior_explorer` shows them. No Qt here.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from napari_dip.gui.messages import Failure, RunFailed


@dataclass(frozen=True)
class SamplesReady:
    samples: np.ndarray  # (n, H, W) or (n, H, W, C)
    settings: dict[str, Any]


@dataclass(frozen=True)
class SampleDrawn:
    """One more sample is ready (``done`` of ``count``)."""

    done: int
    count: int


@dataclass(frozen=True)
class CurvesReady:
    curves: dict[str, np.ndarray]
    stopped: bool


class ImpedanceMonitor:
    """Shared between the fitting thread (which writes) and the GUI timer (which reads)."""

    def __init__(self, iterations: int, names: tuple[str, ...]):
        self.iterations, self.names = iterations, names
        self.curve = 0
        self.iteration = 0
        self.stop = False
        self.points: list[tuple[str, int, float]] = []  # appended by the worker, drained by the GUI

    def __call__(self, progress: Any) -> bool:
        if progress.iteration < self.iteration:
            self.curve = min(self.curve + 1, len(self.names) - 1)
        self.iteration = progress.iteration
        if progress.loss is not None:
            self.points.append((self.names[self.curve], progress.iteration, progress.loss))
        return not self.stop

    def quit(self) -> None:
        """Stop every remaining curve at its next iteration."""
        self.stop = True

    def drain(self) -> list[tuple[str, int, float]]:
        count = len(self.points)
        taken, self.points[:count] = self.points[:count], []
        return taken


def _kind(exc: Exception) -> Failure:
    return Failure.INPUT if isinstance(exc, ValueError) else Failure.INTERNAL


def draw_samples(
    shape: tuple[int, ...], architecture: str, n: int, seed: int, preset: str
) -> Generator[SampleDrawn, None, SamplesReady | RunFailed]:
    """Runs in the worker thread, one sample (seed ``seed + k``) at a time; failures come back as a RunFailed."""
    from napari_dip.core.extras.diagnostics import prior_samples

    drawn = []
    try:
        for k in range(n):
            drawn.append(prior_samples(shape, architecture, 1, seed + k, preset)[0])
            yield SampleDrawn(k + 1, n)
    except Exception as exc:  # noqa: BLE001 - failures go back as data
        return RunFailed(f"Could not draw samples: {exc}", _kind(exc))
    samples = np.stack(drawn)
    settings = {"shape": list(shape), "architecture": architecture, "n": n, "seed": seed, "preset": preset}
    return SamplesReady(samples, settings)


def fit_curves(image: np.ndarray, axis: int | None, iterations: int, preset: str, device: str,
                monitor: ImpedanceMonitor) -> CurvesReady | RunFailed:
    """Runs in the worker thread; ``monitor`` carries progress out and Stop in."""
    from napari_dip.core.extras.diagnostics import noise_impedance

    try:
        curves = noise_impedance(image, iterations, channel_axis=axis, preset=preset, device=device, callback=monitor)
    except Exception as exc:  # noqa: BLE001
        return RunFailed(f"Could not fit the curves: {exc}", _kind(exc))
    return CurvesReady(curves, monitor.stop)
