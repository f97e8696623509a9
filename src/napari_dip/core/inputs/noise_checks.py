"""When Stein's risk estimate misleads: clipped values and noise that grows with intensity.

``preset="sure"`` fits Stein's unbiased estimate of the error for white
Gaussian noise of one standard deviation. Two common departures from that
model cost it dB against ``preset="fast"`` (``benchmarks/sure_clipping.py``
and ``benchmarks/presets_fluorescence.py``):

* clipping: a photo whose noisy values pile up at its darkest or brightest
  level has less noise there, and a noise estimate that is too low;
* photon noise: the noise of a fluorescence image grows with its intensity.

:func:`sure_caveat` names what it finds, for a warning.
"""

from __future__ import annotations

import numpy as np

from napari_dip.core.inputs.noise_level import binned_noise_statistics

#: Share of an image's values at its channel's lowest or highest level above which it counts as clipped.
CLIPPED_SHARE = 0.05
#: Noise standard deviation in the brightest intensities over the darkest's, above which the noise grows with the
#: intensity (80 photo crops with Gaussian noise and at most 5 % clipped: up to 1.37; synthetic fluorescence with 50
#: or more photons: 1.64 and up).
NOISE_GROWTH = 1.5
#: Intensity bins (of 16) at each end compared by :func:`noise_growth`.
END_BINS = 3
#: What clipping cost, measured (benchmarks/sure_clipping.py).
CLIPPED_COST = "(0.6-2.5 dB below it on 6 of 7 photos with 5-21 % of their values clipped)"


def clipped_share(chw: np.ndarray) -> float:
    """The share of the values of a (C, ..., H, W) image that equal their channel's lowest or highest value."""
    flat = np.asarray(chw).reshape(chw.shape[0], -1)
    low, high = flat.min(axis=1, keepdims=True), flat.max(axis=1, keepdims=True)
    return float(np.mean((flat == low) | (flat == high)))


def noise_growth(chw: np.ndarray) -> float:
    """The noise standard deviation in the brightest intensities over the darkest's (the largest over the channels
    of a (C, H, W) image): about 1 for noise that does not depend on the intensity, more for photon noise.

    Each end is the median noise variance of :data:`END_BINS` of 16 intensity bins (so edges, whose mid-level pixels
    look noisy, do not count). Dark clipping also raises it: check :func:`clipped_share` first.
    """
    ratios = []
    for channel in np.asarray(chw):
        _, variances, _ = binned_noise_statistics(channel)
        if variances.size >= 2 * END_BINS and np.median(variances[:END_BINS]) > 0:
            ratios.append(float(np.sqrt(np.median(variances[-END_BINS:]) / np.median(variances[:END_BINS]))))
    return max(ratios, default=1.0)


def sure_obstacle(chw: np.ndarray) -> tuple[str, float] | None:
    """What makes Stein's risk estimate mislead on a (C, H, W) image in [0, 1], and how much: ``("clipped", share)``
    of the values at their channel's ends, else ``("growing", ratio)`` of the noise in the bright parts over the dark
    parts; None when neither passes its threshold."""
    share = clipped_share(chw)
    if share > CLIPPED_SHARE:
        return "clipped", share
    growth = noise_growth(chw)  # (after the clipping: dark clipping raises it too)
    if growth > NOISE_GROWTH:
        return "growing", growth
    return None


def obstacle_reason(obstacle: tuple[str, float]) -> str:
    """A few words on an obstacle of :func:`sure_obstacle`."""
    kind, value = obstacle
    return f"{value:.0%} of the values clipped" if kind == "clipped" else f"noise {value:.1f}x stronger in the bright parts"


def sure_caveat(chw: np.ndarray) -> str | None:
    """Why Stein's risk estimate may mislead on a (C, H, W) image in [0, 1], as a warning (None: no reason found)."""
    obstacle = sure_obstacle(chw)
    if obstacle is None:
        return None
    kind, value = obstacle
    if kind == "clipped":
        return (f"{value:.0%} of the image's values sit at its darkest or brightest level (clipped noise), where "
                "preset='sure' underestimates the noise and can return a worse picture than preset='fast' "
                f"{CLIPPED_COST}: compare with preset='fast'.")
    return (f"The noise grows with the intensity ({value:.1f}x as strong in the brightest intensities as in the "
            "darkest), as photon noise does, and preset='sure' assumes one noise level (2 dB below preset='fast' "
            "on 50-photon fluorescence): use preset='fast', which the default picks for such images.")
