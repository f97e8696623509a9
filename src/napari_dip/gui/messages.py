"""Typed messages from the fitting thread to the GUI thread.

The worker generator (:func:`napari_dip.gui.runner.run_request`) yields one of
these records (or ``None`` when there is nothing new to report); the widget
dispatches on the type. Exceptions never cross the thread boundary as
exceptions: they arrive as a :class:`RunFailed` with a message for the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np


class Failure(str, Enum):
    """Why a run failed: bad input (the user can fix it) or an unexpected error."""

    INPUT = "input"
    MEMORY = "memory"
    INTERNAL = "internal"


@dataclass(frozen=True)
class SliceStarted:
    """A slice's fit is prepared; ``run`` is its :class:`~napari_dip.core.tasks.build.TaskRun`."""

    position: int  # 0-based position among the slices of this run
    count: int
    index: tuple[int, ...]  # index of the slice in the layer's leading axes
    run: Any  # TaskRun; typed loosely so this module does not import torch


@dataclass(frozen=True)
class FitUpdate:
    """Progress of the current slice since the previous update."""

    position: int
    count: int
    iteration: int
    total: int
    elapsed: float
    iterations: list[int] = field(default_factory=list)  # iterations of ``losses``
    losses: list[float] = field(default_factory=list)
    psnr_iterations: list[int] = field(default_factory=list)  # iterations of ``psnr``
    psnr: list[float] = field(default_factory=list)  # PSNR of the returned output (EMA or last), with a reference
    preview: np.ndarray | None = None  # the output so far, in the input's dtype and layout
    snapshot: tuple[np.ndarray, ...] | None = None  # the task's outputs at ``iteration``, for the history


@dataclass(frozen=True)
class SliceFinished:
    """A slice's fit ended; ``outputs`` is the task's result (one array per output layer)."""

    position: int
    index: tuple[int, ...]
    outputs: tuple[np.ndarray, ...]
    stopped_at: int
    stop_reason: str
    chosen_at: int = 0  # iteration of the returned output (the auto-stop's choice; else ``stopped_at``)


@dataclass(frozen=True)
class RunFailed:
    """The run could not go on; ``message`` says what went wrong and what to do."""

    message: str
    kind: Failure = Failure.INPUT
    position: int = 0


WorkerMessage = SliceStarted | FitUpdate | SliceFinished | RunFailed | None
