"""How to fit: :class:`FitConfig`, every setting of one fit, checked when it is made."""

from __future__ import annotations

from dataclasses import dataclass

from napari_dip.core import validation as check
from napari_dip.core.runtime.adaptive_threads import ADAPTIVE
from napari_dip.core.runtime.devices import MEMORY_FORMATS, PRECISIONS
from napari_dip.core.runtime.threads import resolve_threads, usable_cores

OPTIMIZE = ("net", "code", "both")


def _threads(threads: object) -> int | str:
    """A fit's CPU threads, resolved once: a count from 1 to the cores this process may use, or "adaptive"; None
    means ``OMP_NUM_THREADS`` where it is set, else "adaptive"."""
    if threads is not None and threads != ADAPTIVE:
        if isinstance(threads, str) or not check.is_whole(threads):
            raise ValueError(f"threads={threads!r}: pass a whole number of at least 1, 'adaptive' or None.")
        cores = usable_cores()
        check.whole_number("threads", threads, 1, max(cores, 1),
                           why=f"this machine runs {cores} thread(s) at once: pass")
    return resolve_threads(threads)


@dataclass(frozen=True)
class FitConfig:
    """How to fit: iterations, Adam's learning rate, EMA, stabilisers, regulariser, precision, cadence.

    ``tv_weight`` > 0 adds ``tv_weight`` times the total variation of the output
    (:func:`~napari_dip.core.physics.operators.total_variation`) to the loss (DIP-TV). ``precision``
    "auto" autocasts to bfloat16 where the device computes it natively, else
    runs float32 (:func:`~napari_dip.core.runtime.devices.resolve_precision`). ``memory_format``
    "auto" lays the network out channels-last where that convolves faster
    (:func:`~napari_dip.core.runtime.devices.resolve_memory_format`). With ``auto_stop``,
    ``stop_loss`` (the noise variance, for denoising) also stops the fit as soon
    as the loss of the image it returns falls to that value: the image then
    explains the observation down to its noise (the discrepancy principle).

    ``optimize`` says what Adam fits: the network ("net", the paper), the code
    or both. ``code_lr`` gives the code and the BatchNorm scales and shifts a
    learning rate of their own (None: ``lr``). ``root_loss`` fits the root of
    the data term (the RMS error for denoising): beside it, a TV term weighs
    less and less as the error falls.

    ``holdout`` > 0, with ``auto_stop``, leaves that fraction of the pixels,
    drawn at random, out of the data term, and the fit stops at the minimum
    of their error instead of the outputs' variance (without ``auto_stop``
    every pixel is fitted). The noise of a held-out pixel is not fitted, so
    its error is the image's error plus the noise level: a ground-truth-free
    estimate of the image's error, as long as the noise is independent from
    pixel to pixel (not for JPEG artefacts). ``min_gain`` > 0 also stops a
    held-out error that keeps falling, once it has fallen by less than that
    share over ``patience`` iterations (inpainting, where held-out pixels
    carry no noise to overfit).

    ``sure_sigma``, the standard deviation of white Gaussian noise in the
    fitted [0, 1] image, turns the squared error into Stein's unbiased risk
    estimate of the error against the clean image (DIP-SURE, Jo et al.,
    ICCV 2021): the network's divergence, measured by one random probe, is
    added as a penalty for reproducing the noise. It needs the observation
    itself as the code (``preset="sure"``), which is then perturbed by
    Gaussian noise of a standard deviation drawn from U(0, sure_sigma / 2)
    every iteration, in place of ``code_noise_std``.
    """

    iterations: int = 1800
    lr: float = 0.01
    ema: float = 0.99
    use_ema: bool = True
    code_noise_std: float = 1 / 30
    optimize: str = "net"
    check_every: int = 10
    preview_every: int = 100
    backtrack: bool = True
    backtrack_ratio: float = 10**0.5
    auto_stop: bool = False
    patience: int = 500
    min_gain: float = 0.0
    variance_alpha: float = 0.01
    precision: str = "auto"
    memory_format: str = "auto"
    seed: int | None = 0  # None: a fresh random seed, recorded here
    threads: int | str | None = None  # CPU threads; None: OMP_NUM_THREADS if set, else "adaptive" (resolved here)
    tv_weight: float = 0.0
    stop_loss: float | None = None
    code_lr: float | None = None
    root_loss: bool = False
    holdout: float = 0.0
    sure_sigma: float | None = None

    def __post_init__(self):
        """Refuse any bad value, naming the field and what it accepts (no fit has started yet)."""
        for name in ("iterations", "check_every", "preview_every", "patience"):
            check.positive_whole(name, getattr(self, name))
        check.positive("lr", self.lr, "the learning rate")
        check.real_number("ema", self.ema, 0.0, 1.0, open_high=True, accepted="an EMA weight in [0, 1)")
        check.non_negative("code_noise_std", self.code_noise_std)
        check.non_negative("tv_weight", self.tv_weight)
        check.real_number("holdout", self.holdout, 0.0, 0.5, accepted="a fraction of the pixels in [0, 0.5]")
        check.real_number("min_gain", self.min_gain, 0.0, 1.0, open_high=True, accepted="a share in [0, 1)")
        check.real_number("backtrack_ratio", self.backtrack_ratio, 1.0, open_low=True,
                          accepted="a loss ratio above 1 (the paper's is 10 ** 0.5)")
        check.real_number("variance_alpha", self.variance_alpha, 0.0, 1.0, open_low=True,
                          accepted="a weight in (0, 1]")
        for name in ("use_ema", "backtrack", "auto_stop", "root_loss"):
            check.flag(name, getattr(self, name))
        check.choice("optimize", self.optimize, OPTIMIZE)
        check.choice("precision", self.precision, PRECISIONS)
        check.choice("memory_format", self.memory_format, MEMORY_FORMATS)
        object.__setattr__(self, "threads", _threads(self.threads))
        if self.stop_loss is not None:
            check.non_negative("stop_loss", self.stop_loss)
        if self.sure_sigma is not None:
            check.positive("sure_sigma", self.sure_sigma, "the noise's standard deviation in the [0, 1] image")
            if self.root_loss:
                raise ValueError("sure_sigma and root_loss=True exclude each other: the risk estimate can be "
                                 "negative and has no root; use root_loss=False.")
        if self.code_lr is not None:
            check.positive("code_lr", self.code_lr, "the learning rate of the code")
        object.__setattr__(self, "seed", check.seed(self.seed))
