"""How noisy an image is: white Gaussian noise, or photon (Poisson-Gaussian) noise, estimated from the image.

:func:`gaussian_noise_variance` gives the variance of white noise.
:func:`estimate_noise` fits the photon noise model
:class:`~napari_dip.core.physics.noise.PhotonNoise` where ``gain`` or
``read_noise`` are not given: a second-difference filter (Immerkaer's 3x3
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

import numpy as np

from napari_dip.core.physics.noise import PhotonNoise

#: At most this many pixels per channel are used to estimate the noise (a central crop).
ESTIMATE_PIXELS = 2048 * 2048
_BINS = 16
_MIN_BIN = 32


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
