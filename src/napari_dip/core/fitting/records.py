"""What a fit takes and gives: the :class:`Problem` to fit, a :class:`Progress` record per iteration, the
:class:`History` of the run and the :class:`FitResult` (the loop itself is :mod:`napari_dip.core.fitting.loop`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn


class FitDiverged(ValueError):
    """The loss became NaN or infinite and no earlier state could be restored."""


@dataclass
class Problem:
    """What to fit: generator network, code z, data term and observation.

    ``data_term`` is any module with ``loss(output, target) -> scalar``
    (see :mod:`napari_dip.core.physics.operators`). ``crop`` selects the part of the output that is
    reported (padding removed); ``reference``, when given, is compared with
    that crop to give a PSNR. ``held_out``, a boolean mask broadcastable to
    the target, marks observations the data term leaves out: their error
    tells how far the image is from the truth, for the automatic stop
    (pixels of the observation: low-resolution ones for super-resolution).
    """

    network: nn.Module
    code: torch.Tensor
    data_term: nn.Module
    target: torch.Tensor
    crop: tuple[slice, ...] = (slice(None), slice(None))
    reference: torch.Tensor | None = None
    held_out: torch.Tensor | None = None


@dataclass(frozen=True)
class Progress:
    """One iteration's report. Images are (C, H, W) float32 arrays in [0, 1]."""

    iteration: int
    total: int
    elapsed: float
    loss: float | None = None
    psnr: float | None = None
    psnr_ema: float | None = None
    image: np.ndarray | None = None
    ema_image: np.ndarray | None = None
    restored: bool = False


@dataclass
class History:
    """Loss (and PSNR, with a reference) per iteration, and how the fit ended."""

    iterations: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)  # at the checked iterations
    psnr_ema: list[float] = field(default_factory=list)
    checked: list[int] = field(default_factory=list)  # iterations of the PSNR values
    stop_iteration: int = 0
    stop_reason: str = "interrupted"  # "completed", "auto_stop", "interrupted" or "diverged"
    restored: list[int] = field(default_factory=list)  # iterations that backtracked
    seed: int | None = None  # the fit's seed (drawn afresh when the caller passed None)
    thread_iterations: dict[int, int] = field(default_factory=dict)  # iterations run with each CPU thread count


@dataclass
class FitResult:
    """The outcome: ``image`` is the chosen output (auto-stop, EMA or last)."""

    image: np.ndarray
    last: np.ndarray
    ema: np.ndarray
    history: History
