"""``preset="auto"``, the default: ``"sure"`` for the denoising it wins, ``"fast"`` everywhere else.

``preset="sure"`` fits the noisy image itself to Stein's risk estimate of
white Gaussian noise. On the photos it does not warn about it reached the
paper preset's best picture sooner and returned more than ``"fast"``; on
clipped photos and photon noise, which :func:`~napari_dip.core.inputs.noise_checks.sure_caveat`
detects, it returned less (``benchmarks/sure_clipping.py``,
``benchmarks/time_to_quality.py``). ``"auto"`` therefore picks ``"sure"``
for one 2D image of 8 bits or floats with Gaussian noise that passes those
checks and no option that belongs to the fast preset's methods, and
``"fast"`` otherwise: for the other tasks, volumes, photon noise, stacks
(whose warm-started slices must share one network) and images of more than 8
bits per value, which come from scientific cameras (on 10-photon synthetic
fluorescence, too dim for the noise to grow visibly with the intensity,
``"sure"`` returned 0.23 dB less; ``benchmarks/presets_fluorescence.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from napari_dip.core.inputs.noise_checks import CLIPPED_SHARE, NOISE_GROWTH, clipped_share, noise_growth

AUTO = "auto"
#: Options of the fast preset's methods (the hold-out stop, the noise-level stop, the pieces of preset="drp"):
#: with any of them given, "auto" keeps "fast".
FAST_OPTIONS = ("holdout", "stop_loss", "root_loss", "code_noise_std", "optimize", "code_lr", "members")


def denoise_choice(target: np.ndarray, *, spatial_dims: int = 2, noise: str = "gaussian",
                   options: Mapping[str, Any] | None = None, dtype: Any = None) -> tuple[str, str]:
    """The preset ``"auto"`` picks to denoise ``target`` ((C, H, W) in [0, 1]) and why, in a few words.

    ``options`` are the other keywords of the fit; ``dtype`` is the user's image's (None: not known).
    """
    options = options or {}
    if spatial_dims != 2:
        return "fast", "a volume"
    if noise != "gaussian":
        return "fast", f"{noise} noise"
    if dtype is not None and np.issubdtype(dtype, np.integer) and np.iinfo(dtype).bits > 8:
        return "fast", f"{np.iinfo(dtype).bits}-bit camera data"
    given = [name for name in FAST_OPTIONS if options.get(name) is not None]
    if given:
        return "fast", f"{given[0]} is set"
    if options.get("auto_stop") is False:
        return "fast", "no automatic stop"
    if options.get("sure_sigma") is None:  # a given noise level asks for Stein's estimate whatever the checks say
        share = clipped_share(target)
        if share > CLIPPED_SHARE:
            return "fast", f"{share:.0%} of the values clipped"
        growth = noise_growth(target)
        if growth > NOISE_GROWTH:
            return "fast", f"noise {growth:.1f}x stronger in the bright parts"
    return "sure", "unclipped 2D image, even noise"


def stack_preset(preset: Any) -> Any:
    """The preset every slice of a stack uses: ``"fast"`` for ``"auto"`` (one network for all slices)."""
    return "fast" if preset == AUTO else preset
