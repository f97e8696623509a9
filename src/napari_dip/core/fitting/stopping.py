"""Stabilisers of the fit: backtracking on loss spikes and automatic early stopping.

Both work on device tensors and look at host values only when the fit loop
synchronises (every ``check_every`` iterations).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

#: Iterations before the automatic early stop may record a minimum.
MIN_WARMUP = 100
#: ... for a fit warm-started from another's network, where the picture is there from the start and the best
#: held-out error comes within some tens of iterations (then the network copies the new noise).
WARM_WARMUP = 10


class Backtracker:
    """Restore the last good state when the loss jumps.

    The paper falls back to the previous checkpoint when the PSNR against the
    observation drops by 5 dB, i.e. when the loss grows by more than
    ``10 ** 0.5``. ``tensors`` (parameters, BatchNorm statistics, the EMA of
    the outputs, ...) are snapshotted on their own device, never copied to the
    host.
    """

    def __init__(self, tensors: list[torch.Tensor], ratio: float = 10**0.5):
        self.ratio = ratio
        self.tensors = [t for t in tensors if t.is_floating_point()]
        self.snapshot: list[torch.Tensor] | None = None
        self.snapshot_loss = math.inf
        self.snapshot_iteration = 0

    def check(self, loss: float, iteration: int) -> bool:
        """Snapshot when ``loss`` is fine, restore and return True when it jumped."""
        spiked = not math.isfinite(loss) or loss > self.ratio * self.snapshot_loss
        if spiked and self.snapshot is not None:
            with torch.no_grad():
                for tensor, saved in zip(self.tensors, self.snapshot):
                    tensor.copy_(saved)
            return True
        if not spiked:
            with torch.no_grad():
                if self.snapshot is None:
                    self.snapshot = [t.detach().clone() for t in self.tensors]
                else:
                    for saved, tensor in zip(self.snapshot, self.tensors):
                        saved.copy_(tensor)
            self.snapshot_loss = loss
            self.snapshot_iteration = iteration
        return False


class MinimumStopper:
    """Automatic early stopping at the minimum of a ground-truth-free score.

    :meth:`check` is given the score of the current image every check; once it
    has not reached a new minimum for ``patience`` iterations the fit stops
    and the image at the minimum is returned. No minimum counts before
    ``warmup`` iterations. With ``min_gain`` > 0 a score that keeps falling
    slowly stops too: only a minimum that is ``min_gain`` (a share) below
    the last one that counted restarts the patience; the image kept is still
    the lowest score's.
    """

    #: Whether :meth:`update` must see every output (the fit skips the call otherwise).
    follows_outputs = False

    def __init__(self, patience: int = 500, warmup: int = MIN_WARMUP, min_gain: float = 0.0):
        self.patience = patience
        self.warmup = warmup
        self.min_gain = min_gain
        self.best_score = math.inf
        self.best_iteration = 0
        self.best_image: torch.Tensor | None = None
        self._counted_score = math.inf  # the last minimum that restarted the patience
        self._counted_iteration = 0

    def update(self, output: torch.Tensor) -> None:
        """Follow one output between checks (nothing to follow here)."""

    def score(self) -> float | None:
        """The stopper's own score, for stoppers that compute one (None: the caller gives it)."""
        return None

    def check(self, score: float | None, output: torch.Tensor, iteration: int) -> bool:
        """Record a new minimum of ``score`` (with ``output``); return True when the patience has run out."""
        if score is None or iteration < self.warmup:
            return False
        if score < self.best_score:
            self.best_score = score
            self.best_iteration = iteration
            self.best_image = output.detach().float().clone()
        if score < self._counted_score * (1 - self.min_gain):
            self._counted_score = score
            self._counted_iteration = iteration
            return False
        return iteration - self._counted_iteration >= self.patience


class VarianceStopper(MinimumStopper):
    """Automatic early stopping from the variance of the outputs (no ground truth).

    An exponential moving variance of the outputs (the buffer-free variant of
    ES-WMV, Wang et al.) is tracked every iteration; once it has not reached a
    new minimum for ``patience`` iterations the fit stops and the output at
    the minimum is returned (the EMA image when the fit returns the EMA).
    ``alpha`` sets the effective window (~1/alpha).
    """

    follows_outputs = True

    def __init__(self, patience: int = 500, alpha: float = 0.01):
        # No minimum counts before the moving statistics have settled (and the image took shape).
        super().__init__(patience, max(round(1 / alpha), MIN_WARMUP))
        self.alpha = alpha
        self.mean: torch.Tensor | None = None
        self.variance: torch.Tensor | None = None

    @torch.no_grad()
    def update(self, output: torch.Tensor) -> None:
        """Fold one output into the moving mean and variance (device only)."""
        output = output.float()
        if self.mean is None:
            self.mean = output.clone()
            self.variance = torch.zeros((), device=output.device)
            return
        deviation = (output - self.mean).square().mean()
        self.variance.mul_(1 - self.alpha).add_(self.alpha * (1 - self.alpha) * deviation)
        self.mean.lerp_(output, self.alpha)

    def score(self) -> float | None:
        """The moving variance (one host sync), once there is one."""
        return None if self.variance is None else float(self.variance)


class AutoStop:
    """The automatic stop of one fit, from its settings: the minimum of the outputs' moving variance, or of the
    held-out observations' error (``held_out``; from :data:`WARM_WARMUP` on for a ``warm``-started fit), and
    optionally the noise-level stop (``config.stop_loss``)."""

    def __init__(self, config: Any, held_out: bool, warm: bool = False):
        self.stopper: MinimumStopper | None = None
        if config.auto_stop:  # a warm-started fit's held-out error may take its minimum early
            self.stopper = (MinimumStopper(config.patience, WARM_WARMUP if warm else MIN_WARMUP, config.min_gain)
                            if held_out
                            else VarianceStopper(config.patience, config.variance_alpha))
        self.stop_loss = config.stop_loss
        self.explained_at: int | None = None  # where the returned image's loss fell to stop_loss

    @property
    def follows_outputs(self) -> bool:
        """Whether :meth:`update` must see every output."""
        return self.stopper is not None and self.stopper.follows_outputs

    def update(self, output: torch.Tensor) -> None:
        self.stopper.update(output)

    def check(self, iteration: int, kept: torch.Tensor, loss: Callable[[], float],
              held_out_error: Callable[[], float] | None) -> bool:
        """Whether to stop now; ``kept`` is the cropped image the fit would return, ``loss()`` its data term and
        ``held_out_error()`` its error on the held-out observations (each one host sync, called only if needed)."""
        if self.stopper is None:
            return False
        if self.stop_loss is not None and iteration >= MIN_WARMUP and loss() <= self.stop_loss:
            self.explained_at = iteration
            return True
        score = self.stopper.score() if held_out_error is None else held_out_error()
        return self.stopper.check(score, kept, iteration)

    @property
    def iteration(self) -> int | None:
        """The iteration whose output the stop keeps (None without auto-stop or before its warm-up)."""
        if self.explained_at is not None:
            return self.explained_at
        if self.stopper is None or self.stopper.best_image is None:
            return None
        return self.stopper.best_iteration

    def best_image(self) -> torch.Tensor | None:
        """The image at the stop's minimum (None: the fit returns its latest image)."""
        if self.explained_at is not None or self.stopper is None:
            return None
        return self.stopper.best_image
