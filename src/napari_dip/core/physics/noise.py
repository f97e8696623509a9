"""Photon-limited (Poisson-Gaussian) noise: the noise model, its estimation and two data terms.

Fluorescence and camera images follow ``z = gain * p + n`` with ``p`` a
Poisson count of photons (electrons) and ``n`` Gaussian read noise of mean
``offset`` and standard deviation ``read_noise``, so the variance grows with
the signal: ``var(z) = gain * (E z - offset) + read_noise**2``.

Two ways to fit a Deep Image Prior to such data live here:

* :class:`PoissonLikelihood`, a data term: the Poisson deviance of the
  (shifted) photon counts, ``lambda - k + k log(k / lambda)``, in place of the
  squared error. The network's output stays an image, so previews, the EMA,
  the PSNR against a reference and early stopping work unchanged. This is
  what ``denoise(..., noise="poisson")`` uses (it measured better, see
  ``benchmarks/photon_noise.py``).
* The generalised Anscombe transform :func:`anscombe` (Makitalo & Foi 2013),
  which makes the noise roughly Gaussian with unit variance, with the
  closed-form approximation of its exact unbiased inverse
  :func:`inverse_anscombe`; the benchmark compares it with the data term.

When ``gain`` or ``read_noise`` are not given they are estimated from the
image (:func:`estimate_noise`): a second-difference filter (Immerkaer's 3x3
kernel, divided by 6) removes the signal's smooth part, pixels are binned by
their local mean, the noise variance of each bin is a robust (median absolute
deviation) estimate, and a weighted least-squares line
``variance = gain * mean + b`` gives the gain and ``b = read_noise**2 -
gain * offset``. Images with much fine texture inflate the estimates; pass the
camera's values when they are known.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

NOISE_MODELS = ("gaussian", "poisson")
#: The generalised Anscombe transform of zero photons with no read noise, 2 * sqrt(3 / 8).
ANSCOMBE_FLOOR = 2 * math.sqrt(3 / 8)
#: At most this many pixels per channel are used to estimate the noise (a central crop).
ESTIMATE_PIXELS = 2048 * 2048
_BINS = 16
_MIN_BIN = 32


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


def gaussian_noise_variance(image: np.ndarray) -> float:
    """The variance of white Gaussian noise in a (C, ..., H, W) image, averaged over channels.

    Donoho's robust estimate on the finest diagonal Haar coefficients of every
    2D plane: ``(median |HH| / 0.6745) ** 2``. The signal's smooth part barely
    reaches those coefficients, so the estimate holds for most natural and
    microscopy images; much fine texture inflates it.
    """
    planes = np.asarray(image, np.float64)
    planes = planes.reshape(planes.shape[0], -1, *planes.shape[-2:])
    height, width = (side - side % 2 for side in planes.shape[-2:])
    blocks = planes[..., :height, :width]
    diagonal = (blocks[..., ::2, ::2] - blocks[..., 1::2, ::2] - blocks[..., ::2, 1::2] + blocks[..., 1::2, 1::2]) / 2
    sigmas = np.median(np.abs(diagonal.reshape(planes.shape[0], -1)), axis=1) / 0.6745
    return float(np.mean(sigmas**2))


def _per_channel(value: float | Sequence[float] | None, channels: int, name: str) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.size == 1:
        array = np.repeat(array, channels)
    if array.size != channels or not np.all(np.isfinite(array)):
        raise ValueError(f"{name}={value!r}: give one finite number, or one per channel ({channels}).")
    return array


def binned_noise_statistics(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local means, robust noise variances and pixel counts of intensity bins of one (H, W) channel."""
    height, width = channel.shape
    side = int(math.sqrt(ESTIMATE_PIXELS))
    top, left = max(0, (height - side) // 2), max(0, (width - side) // 2)
    z = channel[top : top + side, left : left + side].astype(np.float64)
    # Immerkaer's kernel [[1, -2, 1], [-2, 4, -2], [1, -2, 1]] / 6: unit gain on white noise, zero on planes.
    rows = z[:-2] - 2 * z[1:-1] + z[2:]
    residual = (rows[:, :-2] - 2 * rows[:, 1:-1] + rows[:, 2:]) / 6
    sums = z[:-2] + z[1:-1] + z[2:]
    local = (sums[:, :-2] + sums[:, 1:-1] + sums[:, 2:]) / 9
    residual, local = residual.ravel(), local.ravel()
    edges = np.unique(np.quantile(local, np.linspace(0, 1, _BINS + 1)))
    which = np.clip(np.searchsorted(edges, local, side="right") - 1, 0, len(edges) - 2)
    means, variances, counts = [], [], []
    for k in range(len(edges) - 1):
        values = residual[which == k]
        if values.size < _MIN_BIN:
            continue
        mad = np.median(np.abs(values - np.median(values)))
        means.append(np.median(local[which == k]))
        variances.append((1.4826 * mad) ** 2)
        counts.append(values.size)
    return np.array(means), np.array(variances), np.array(counts, dtype=np.float64)


def _fit_line(means: np.ndarray, variances: np.ndarray, weights: np.ndarray, gain: float | None) -> tuple[float, float]:
    """Weighted least squares of ``variance = gain * mean + b`` (only ``b`` when the gain is given)."""
    if gain is not None:
        return gain, float(np.average(variances - gain * means, weights=weights))
    if len(means) < 2 or np.ptp(means) == 0:
        return 0.0, 0.0
    root = np.sqrt(weights)
    design = np.stack([means, np.ones_like(means)], axis=1) * root[:, None]
    fit_gain, b = np.linalg.lstsq(design, variances * root, rcond=None)[0]
    return float(fit_gain), float(b)


def estimate_noise(
    chw: np.ndarray,
    gain: float | Sequence[float] | None = None,
    read_noise: float | Sequence[float] | None = None,
    offset: float | Sequence[float] | None = None,
) -> PhotonNoise:
    """The Poisson-Gaussian model of a (C, H, W) image in intensity units, estimating what is not given.

    ``offset`` (the dark level) defaults to 0. With both ``gain`` and
    ``read_noise`` given nothing is estimated. Raises ValueError when the
    image shows no signal-dependent noise (use ``noise="gaussian"``).
    """
    channels = chw.shape[0]
    gains = _per_channel(gain, channels, "gain")
    reads = _per_channel(read_noise, channels, "read_noise")
    offsets = _per_channel(offset, channels, "offset")
    offsets = np.zeros(channels) if offsets is None else offsets
    if gains is not None and np.any(gains <= 0):
        raise ValueError(f"gain={gain!r}: the gain (intensity per photon) must be positive.")
    if reads is not None and np.any(reads < 0):
        raise ValueError(f"read_noise={read_noise!r}: a standard deviation cannot be negative.")
    if gains is not None and reads is not None:
        return PhotonNoise(gains, reads, offsets)
    out_gain, out_read, out_offset = np.zeros(channels), np.zeros(channels), offsets.copy()
    for c in range(channels):
        means, variances, counts = binned_noise_statistics(chw[c])
        fit_gain, fit_b = _fit_line(means, variances, counts, None if gains is None else gains[c])
        if not fit_gain > 0:
            raise ValueError(
                "The image's noise does not grow with its intensity, so no photon gain can be estimated: "
                "use noise='gaussian', or pass the camera's gain and read_noise."
            )
        out_gain[c] = fit_gain
        if reads is not None:  # the given read noise; the fitted b then sets the dark level
            out_read[c] = reads[c]
            out_offset[c] = (reads[c] ** 2 - fit_b) / fit_gain
        elif fit_b >= -fit_gain * offsets[c]:
            out_read[c] = math.sqrt(max(fit_b + fit_gain * offsets[c], 0.0))
        else:  # more negative than the given offset explains: a larger dark level, no read noise
            out_offset[c] = -fit_b / fit_gain
    return PhotonNoise(out_gain, out_read, out_offset)


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
