"""Photon-limited (Poisson-Gaussian) noise: the noise model and the data terms that use it.

Fluorescence and camera images follow ``z = gain * p + n`` with ``p`` a
Poisson count of photons (electrons) and ``n`` Gaussian read noise of mean
``offset`` and standard deviation ``read_noise``, so the variance grows with
the signal: ``var(z) = gain * (E z - offset) + read_noise**2``.

* :class:`PoissonLikelihood`, a data term: the Poisson deviance of the
  (shifted) photon counts, ``lambda - k + k log(k / lambda)``, in place of the
  squared error. The network's output stays an image, so previews, the EMA,
  the PSNR against a reference and early stopping work unchanged. This is
  what ``denoise(..., noise="poisson")`` uses.
* The generalised Anscombe transform :func:`anscombe` (Makitalo & Foi 2013),
  which makes the noise roughly Gaussian with unit variance, with the
  closed-form approximation of its exact unbiased inverse
  :func:`inverse_anscombe`.

The noise parameters are estimated from an image by
:mod:`napari_dip.core.inputs.noise_level`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

NOISE_MODELS = ("gaussian", "poisson")
#: The generalised Anscombe transform of zero photons with no read noise, 2 * sqrt(3 / 8).
ANSCOMBE_FLOOR = 2 * math.sqrt(3 / 8)


@dataclass(frozen=True)
class PhotonNoise:
    """Poisson-Gaussian noise per channel, in the image's intensity units.

    ``gain``: intensity per photon; ``read_noise``: standard deviation of the
    Gaussian part; ``offset``: the intensity of zero photons (dark level).
    """

    gain: np.ndarray
    read_noise: np.ndarray
    offset: np.ndarray

    @property
    def b(self) -> np.ndarray:
        """The constant of ``var = gain * mean + b``: ``read_noise**2 - gain * offset``."""
        return self.read_noise**2 - self.gain * self.offset

    def settings(self) -> dict[str, list[float]]:
        """JSON-ready values for a run's settings (replayed as keywords)."""
        return {"gain": self.gain.tolist(), "read_noise": self.read_noise.tolist(), "offset": self.offset.tolist()}


def _counts(values: torch.Tensor | np.ndarray, noise: PhotonNoise, shape: tuple[int, ...]):
    """Shifted photon counts ``(z - offset) / gain + (read_noise / gain)**2`` (Poisson with that mean)."""
    gain = noise.gain.reshape(shape)
    shift = (noise.read_noise / noise.gain).reshape(shape) ** 2 - noise.offset.reshape(shape) / gain
    if isinstance(values, torch.Tensor):
        return values / torch.as_tensor(gain, dtype=values.dtype, device=values.device) + torch.as_tensor(
            shift, dtype=values.dtype, device=values.device)
    return values / gain + shift


class PoissonLikelihood(nn.Module):
    """Poisson deviance of the shifted photon counts, for network outputs in [0, 1].

    ``low`` and ``span`` (per channel) map the [0, 1] output and target back to
    intensities, as :class:`~napari_dip.core.inputs.images.ImageInfo` does.
    """

    def __init__(self, low: np.ndarray, span: np.ndarray, noise: PhotonNoise, floor: float = 1e-3, dims: int = 2):
        super().__init__()
        channels, axes = len(low), (1,) * dims  # dims: spatial axes of the images (3 for volumes)
        # Intensity -> counts is affine, so fold it with the [0, 1] scaling: counts = scale * x + shift.
        scale = span / noise.gain
        shift = _counts(np.asarray(low, dtype=np.float64), noise, (channels,))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32).reshape(1, channels, *axes))
        self.register_buffer("shift", torch.tensor(shift, dtype=torch.float32).reshape(1, channels, *axes))
        self.floor = floor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The expected counts of an image in [0, 1]."""
        return (x * self.scale + self.shift).clamp_min(self.floor)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        rate = self(output)
        counts = (target * self.scale + self.shift).clamp_min(0)
        # deviance / 2: >= 0, zero at a perfect fit; its gradient is the negative log-likelihood's
        return (rate - counts + torch.xlogy(counts, counts) - counts * torch.log(rate)).mean()


def anscombe(z: np.ndarray, noise: PhotonNoise) -> np.ndarray:
    """Generalised Anscombe transform of a (C, H, W) image: the noise becomes ~N(0, 1)."""
    counts = _counts(z, noise, (-1, 1, 1))
    return 2 * np.sqrt(np.maximum(counts + 3 / 8, 0))


def inverse_anscombe(d: np.ndarray, noise: PhotonNoise, unbiased: bool = True) -> np.ndarray:
    """Intensities from a denoised transform ``d`` (C, H, W).

    ``unbiased`` uses the closed-form approximation of the exact unbiased
    inverse (Makitalo & Foi 2011, 2013), which removes the bias of the
    algebraic inverse ``(d / 2)**2 - 3 / 8`` at low counts.
    """
    shape = (-1, 1, 1)
    sigma2 = (noise.read_noise / noise.gain).reshape(shape) ** 2
    if unbiased:
        d = np.maximum(d, ANSCOMBE_FLOOR)  # the formula is 0 there and grows again below it
        root = math.sqrt(3 / 2)
        counts = 0.25 * d**2 + 0.25 * root / d - 11 / 8 / d**2 + 0.625 * root / d**3 - 1 / 8
    else:
        counts = (d / 2) ** 2 - 3 / 8
    photons = np.maximum(counts - sigma2, 0)
    return photons * noise.gain.reshape(shape) + noise.offset.reshape(shape)


@dataclass(frozen=True)
class AnscombeUnits:
    """The generalised Anscombe transform of a (C, H, W) image in [0, 1], scaled so the noisy image's transform
    spans [0, 1]: its noise is then Gaussian of standard deviation :attr:`sigma` everywhere.

    ``low`` and ``span`` (per channel) map the image's [0, 1] scale to intensities, as
    :class:`~napari_dip.core.inputs.images.ImageInfo` does; ``floor`` and ``scale`` map the transform to [0, 1].
    """

    noise: PhotonNoise
    low: np.ndarray
    span: np.ndarray
    floor: float
    scale: float

    @classmethod
    def of(cls, noisy: np.ndarray, low: np.ndarray, span: np.ndarray, noise: PhotonNoise) -> AnscombeUnits:
        """The units in which the transform of ``noisy`` ((C, H, W) in [0, 1]) spans [0, 1]."""
        low, span = np.asarray(low, np.float64), np.asarray(span, np.float64)
        transformed = anscombe(noisy.astype(np.float64) * span[:, None, None] + low[:, None, None], noise)
        floor = float(transformed.min())
        return cls(noise, low, span, floor, float(transformed.max() - floor) or 1.0)

    @property
    def sigma(self) -> float:
        """The standard deviation of the noise in these units."""
        return 1.0 / self.scale

    def forward(self, chw: np.ndarray) -> np.ndarray:
        """A (C, H, W) image in [0, 1] in these units."""
        values = chw.astype(np.float64) * self.span[:, None, None] + self.low[:, None, None]
        return ((anscombe(values, self.noise) - self.floor) / self.scale).astype(np.float32)

    def inverse(self, chw: np.ndarray) -> np.ndarray:
        """A denoised (C, H, W) image in these units back in the image's [0, 1] scale (the exact unbiased inverse)."""
        values = inverse_anscombe(chw.astype(np.float64) * self.scale + self.floor, self.noise)
        return ((values - self.low[:, None, None]) / self.span[:, None, None]).astype(np.float32)

    def settings(self) -> dict[str, float]:
        """What the settings record of the transform (descriptive)."""
        return {"anscombe_floor": round(self.floor, 6), "anscombe_scale": round(self.scale, 6)}
