"""The fitting loop: theta* = argmin E(f_theta(z); x0), as a generator of progress records.

:meth:`Fit.steps` yields a small :class:`Progress` record every iteration
(images only every ``preview_every``) and returns a :class:`FitResult`;
:func:`run` drains it. A consumer may stop iterating at any time and call
:meth:`Fit.result` for the latest result (EMA or last output, as configured).
The host is synchronised only every ``check_every`` iterations.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Generator

import numpy as np
import torch

from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.optimizer import adam, parameter_groups
from napari_dip.core.fitting.records import FitDiverged, FitResult, History, Problem, Progress
from napari_dip.core.fitting.stopping import AutoStop, Backtracker
from napari_dip.core.fitting.sure_passes import SurePasses
from napari_dip.core.model.codes import perturb, stream_seeds
from napari_dip.core.model.networks import member_count
from napari_dip.core.physics.losses import divergence, fit_loss, observed_loss
from napari_dip.core.runtime.adaptive_threads import ADAPTIVE, ThreadGovernor, candidate_counts
from napari_dip.core.runtime.devices import resolve_memory_format, resolve_precision
from napari_dip.core.runtime.threads import default_threads, torch_threads

#: Autocast dtype of each concrete precision (None: plain float32); "auto" is resolved per device first.
AUTOCAST_DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}


#: Iterations timed (after as many for the pace to settle) before a fit forecasts how long it will take.
FORECAST_AFTER = 5
#: A fit forecast to take longer than this many seconds says so, once (a warning).
LONG_FIT = 600


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def long_fit_note(pace: float, iterations_left: int, what: str) -> str | None:
    """A warning that a fit will take long: ``iterations_left`` at ``pace`` seconds each (None: not long)."""
    seconds = pace * iterations_left
    if seconds <= LONG_FIT:
        return None
    return (f"This fit will take up to {_duration(seconds)} more ({what} at {pace:.2f} s each); the automatic stop "
            "may end it sooner and Stop keeps the result so far. A GPU or a smaller image is quicker.")


def ema_decay(gamma: float, iteration: int) -> float:
    """The EMA weight of the past at ``iteration`` (1-based): ``min(gamma, (1 + t) / (10 + t))``.

    Early on the average follows the outputs closely instead of dragging the
    first, nearly flat output along for hundreds of iterations; from about
    ``t = 9 / (1 - gamma)`` on it is the paper's constant ``gamma``.
    """
    return min(gamma, (1 + iteration) / (10 + iteration))


def _psnr(image: torch.Tensor, reference: torch.Tensor) -> float:
    mse = float((image.float() - reference).square().mean())
    return math.inf if mse == 0 else -10 * math.log10(mse)


class Fit:
    """One DIP fit on a device. Iterate :meth:`steps`; read :meth:`result` any time."""

    def __init__(self, problem: Problem, config: FitConfig, device: torch.device | str = "cpu"):
        self.config = config
        self.device = torch.device(device)
        self.problem = problem
        self.network = problem.network.to(self.device).train()
        spatial_dims = problem.code.dim() - 2
        if resolve_memory_format(config.memory_format, self.device, spatial_dims) == "channels_last":
            self.network = self.network.to(memory_format=torch.channels_last)
        self.data_term = problem.data_term.to(self.device)
        self.code = problem.code.to(self.device)
        self.target = problem.target.to(self.device)
        self.reference = None if problem.reference is None else problem.reference.to(self.device)
        self.history = History(seed=config.seed)
        self._pending: list[torch.Tensor] = []  # device losses not yet in the history
        self._last: torch.Tensor | None = None
        self._ema: torch.Tensor | None = None
        self._members = member_count(self.network)  # the loss sums over them
        self.held_out = None if problem.held_out is None else problem.held_out.to(self.device)
        self._fitted = None if self.held_out is None else ~self.held_out  # made once, not at every check
        # The share of the observations the data term sees (its mean counts held-out ones as fitted exactly).
        self._fitted_share = 1.0 if self.held_out is None else 1 - float(
            self.held_out.expand_as(self.target).float().mean())
        self._auto = AutoStop(config, self.held_out is not None)
        self.forecast: bool | None = True  # warn when the fit will take long (None: its caller forecasts)
        self._paced_at = 0.0
        self._backtracker: Backtracker | None = None  # made at the first check, once the EMA exists
        try:
            self._noise = torch.Generator(self.device).manual_seed(stream_seeds(config.seed).noise)
        except RuntimeError:  # devices without their own generator
            self._noise = None

    def start_from(self, other: Fit) -> None:
        """Start from the network weights (and BatchNorm statistics) another fit of the same network ended with."""
        if not isinstance(other, Fit):
            raise ValueError("the previous fit was tiled and this one is not")
        self.load_start(other.network.state_dict())

    def load_start(self, state: dict) -> None:
        """Start from the network weights ``state`` (a warm start: the automatic stop may end it early)."""
        self.network.load_state_dict(state)
        self._auto = AutoStop(self.config, self.held_out is not None, warm=True)

    @property
    def auto_stop_iteration(self) -> int | None:
        """The iteration whose output the automatic stop keeps (None without auto-stop or before its warm-up)."""
        return self._auto.iteration

    def _loss(self, output: torch.Tensor, divergences: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """What Adam minimises and what the history records (:func:`~napari_dip.core.physics.losses.fit_loss`)."""
        return fit_loss(self.data_term, output, self.target, self.config, held_out=self.held_out,
                        fitted_share=self._fitted_share, divergences=divergences)

    def _sure_step(self, code: torch.Tensor, passes: SurePasses) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradients of a SURE iteration; returns the output, the loss and what the history records.

        Each member's divergence of the output with respect to the code (the observation) comes from one Gaussian
        probe and a finite difference of step ``sure_sigma / 2``: the Monte-Carlo estimate of DIP-SURE. The loss is
        taken on detached copies of the two outputs, so :class:`~napari_dip.core.fitting.sure_passes.SurePasses` can back-propagate
        through the two passes side by side.
        """
        step = self.config.sure_sigma / 2
        probe = torch.randn(code.shape, generator=self._noise, device=code.device, dtype=code.dtype)
        passes_out = passes.forward(code, code + step * probe)
        output, moved = (out.detach().float().requires_grad_() for out in passes_out)
        loss, recorded = self._loss(output, divergence(output, moved, probe, step))
        grads = torch.autograd.grad(loss, [output, moved])
        passes.backward(passes_out, grads)
        return output.detach(), loss.detach(), recorded.detach()

    def _data_loss(self, image: torch.Tensor) -> float:
        """The data term of ``image`` on every observation (one host sync)."""
        with torch.no_grad():
            return float(self.data_term.loss(self._average(image), self.target))

    def held_out_error(self, image: torch.Tensor) -> float:
        """The data term of ``image`` on the held-out observations alone (one host sync)."""
        with torch.no_grad():
            return float(observed_loss(self.data_term, self._average(image), self.target, self._fitted))

    @staticmethod
    def _average(output: torch.Tensor) -> torch.Tensor:
        """The image of an output: the mean of the members' outputs (batch axis kept)."""
        return output if output.shape[0] == 1 else output.mean(0, keepdim=True)

    def _crop(self, output: torch.Tensor) -> torch.Tensor:
        return self._average(output)[(0, slice(None), *self.problem.crop)]

    def _to_host(self, output: torch.Tensor) -> np.ndarray:
        return self._crop(output).detach().float().cpu().numpy()

    def steps(self) -> Generator[Progress, None, FitResult]:
        """Fit, yielding a :class:`Progress` every iteration; return the :class:`FitResult`.

        The fit runs with ``config.threads`` torch threads (restored when the generator ends or is closed);
        with ``threads="adaptive"`` on the CPU a :class:`~napari_dip.core.runtime.adaptive_threads.ThreadGovernor` picks them as it goes.
        """
        threads, governor = self.config.threads, None
        if threads == ADAPTIVE:  # on a GPU the CPU threads barely matter: the default count
            governor = ThreadGovernor(candidate_counts()) if self.device.type == "cpu" else None
            threads = governor.current if governor else default_threads()
        passes = None
        if self.config.sure_sigma is not None:
            autocast = AUTOCAST_DTYPES[resolve_precision(self.config.precision, self.device)]
            passes = SurePasses(self.network, self.device, autocast, parallel=self.config.optimize == "net")
        with torch_threads(threads):
            self._threads = torch.get_num_threads()
            if passes is not None:
                passes.use_threads(self._threads)
            try:
                return (yield from self._steps(governor, passes))
            finally:
                if passes is not None:
                    passes.close()

    def _count_threads(self, governor: ThreadGovernor | None, passes: SurePasses | None) -> None:
        """Count the iteration that just ran under its thread count; let ``governor`` pick the next count."""
        used = self.history.thread_iterations
        used[self._threads] = used.get(self._threads, 0) + 1
        if governor is not None and governor.tick() != self._threads:
            self._threads = governor.current
            if passes is None:
                torch.set_num_threads(self._threads)
            else:
                passes.use_threads(self._threads)

    def _steps(self, governor: ThreadGovernor | None = None,
               passes: SurePasses | None = None) -> Generator[Progress, None, FitResult]:
        cfg = self.config
        optimizer = adam(parameter_groups(self.network, self.code, cfg), cfg.lr)
        autocast = AUTOCAST_DTYPES[resolve_precision(cfg.precision, self.device)]
        start = time.perf_counter()
        for i in range(1, cfg.iterations + 1):
            if passes is None:
                code = perturb(self.code, cfg.code_noise_std, self._noise)
                with torch.autocast(self.device.type, dtype=autocast or torch.bfloat16, enabled=autocast is not None):
                    output = self.network(code)
                output = output.float()
                loss, recorded = self._loss(output)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
            else:
                code = perturb(self.code, cfg.sure_sigma / 2, self._noise, random_std=True)
                optimizer.zero_grad(set_to_none=True)
                output, loss, recorded = self._sure_step(code, passes)
            optimizer.step()

            self._last = output.detach()
            if self._ema is None:
                self._ema = self._last.clone()
            else:
                self._ema.lerp_(self._last, 1 - ema_decay(cfg.ema, i))
            if self._auto.follows_outputs:
                self._auto.update(self._crop(self._last))
            self._pending.append(recorded.detach())
            self.history.stop_iteration = i
            self._count_threads(governor, passes)

            self._forecast(i, time.perf_counter() - start)
            if i % cfg.check_every and i % cfg.preview_every and i != cfg.iterations:
                yield Progress(i, cfg.iterations, time.perf_counter() - start)
                continue
            record, stop = self._check(i, start)
            yield record
            if stop:
                self.history.stop_reason = "auto_stop"
                return self.result()
        self.history.stop_reason = "completed"
        return self.result()

    def _forecast(self, iteration: int, elapsed: float) -> None:
        """Once the pace is measured (the first iterations left out), warn when the fit will take long."""
        if self.forecast is None:
            return
        if iteration == FORECAST_AFTER + 1:
            self._paced_at = elapsed
        elif iteration == 2 * FORECAST_AFTER + 1:
            pace = (elapsed - self._paced_at) / FORECAST_AFTER
            note = long_fit_note(pace, self.config.iterations - iteration,
                                 f"{self.config.iterations} iterations on {self.device.type}")
            if note:
                warnings.warn(note, stacklevel=3)

    def _flush_losses(self) -> None:
        """Move the losses waiting on the device into the history (one host sync)."""
        if not self._pending:
            return
        losses = (torch.stack(self._pending).float() / self._members).cpu().tolist()  # per member
        last = self.history.stop_iteration
        self.history.iterations.extend(range(last - len(losses) + 1, last + 1))
        self.history.losses.extend(losses)
        self._pending = []

    def _check(self, i: int, start: float) -> tuple[Progress, bool]:
        """The synchronising part of an iteration: losses, PSNR, stabilisers, previews."""
        cfg = self.config
        self._flush_losses()
        loss = self.history.losses[-1]
        psnr = psnr_ema = None
        if self.reference is not None:
            psnr, psnr_ema = _psnr(self._crop(self._last), self.reference), _psnr(self._crop(self._ema), self.reference)
            self.history.psnr.append(psnr)
            self.history.psnr_ema.append(psnr_ema)
            self.history.checked.append(i)
        if cfg.backtrack and self._backtracker is None:
            state = [*self.network.parameters(), *self.network.buffers(), self._ema]
            if self.code.requires_grad:
                state.append(self.code)
            self._backtracker = Backtracker(state, cfg.backtrack_ratio)
        restored = self._backtracker is not None and self._backtracker.check(loss, i)
        if restored:
            self.history.restored.append(i)
        elif not math.isfinite(loss):
            self.history.stop_reason = "diverged"
            raise FitDiverged(
                f"The loss became {loss} at iteration {i} and no earlier state could be restored "
                f"(backtrack={cfg.backtrack}): lower the learning rate (lr={cfg.lr:g}), use precision='float32', "
                "or keep backtrack=True with a smaller check_every."
            )
        # The moving variance follows the raw outputs; the kept image is the one the fit returns.
        kept = self._ema if cfg.use_ema else self._last
        stop = self._auto.check(i, self._crop(kept), lambda: self._data_loss(kept),
                                None if self.held_out is None else lambda: self.held_out_error(kept))
        preview = i % cfg.preview_every == 0 or i == cfg.iterations or stop
        record = Progress(
            i,
            cfg.iterations,
            time.perf_counter() - start,
            loss=loss,
            psnr=psnr,
            psnr_ema=psnr_ema,
            image=self._to_host(self._last) if preview else None,
            ema_image=self._to_host(self._ema) if preview else None,
            restored=restored,
        )
        return record, stop

    def result(self) -> FitResult:
        """The result so far (also after the consumer stopped iterating).

        With the automatic stop, a fit that stopped by it, or ran to its last
        iteration first, returns the image at the stop's minimum; an
        interrupted fit returns its latest image (EMA or last output).
        """
        if self._last is None:
            raise RuntimeError("The fit has not run a single iteration yet.")
        self._flush_losses()
        last, ema = self._to_host(self._last), self._to_host(self._ema)
        best = self._auto.best_image()
        if self.history.stop_reason in ("auto_stop", "completed") and best is not None:
            image = best.cpu().numpy()
        else:
            image = ema if self.config.use_ema else last
        return FitResult(image, last, ema, self.history)


def run(fit: Fit, callback: Callable[[Progress], object] | None = None) -> FitResult:
    """Drain ``fit.steps()``, calling ``callback`` on every record; return the result.

    ``callback`` may return ``False`` to stop early; the latest result is returned.
    """
    steps = fit.steps()
    for record in steps:
        if callback is not None and callback(record) is False:
            steps.close()
            break
    return fit.result()
