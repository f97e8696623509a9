"""A denoising result averaged with BM3D, the DIP share chosen from the held-out pixels.

``denoise(..., classic="bm3d")`` fits ``preset="sure"`` as usual (the noisy
image, its held-out pixels masked, is the network's input) and returns
``w * dip + (1 - w) * bm3d`` where BM3D denoised the whole noisy image.

The DIP share ``w`` needs no clean image. The network never saw the noise of
the held-out pixels; a second BM3D call on the network's input (held-out
pixels replaced by their neighbours' mean) makes an estimate that never saw it
either. The least-squares share of the two on the held-out pixels, less
:data:`MARGIN` standard errors (few held-out pixels give a wide bound), times
:data:`SHRINK` (the network guesses unseen pixels relatively better than it
estimates the pixels it fits), is ``w``. The held-out pixels themselves, which
the network only guessed, take the BM3D estimate. Where the network does
poorly (clipped or grey images) ``w`` falls to 0 and the result is BM3D's.

The constants were read off fits of 5 photos at 128 x 128 (sigma 25 and 50)
and checked on 8 photos at 256 x 256 (``benchmarks/classic_quality.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from napari_dip.core.extras.classic import bm3d_available, bm3d_denoise
from napari_dip.core.model.codes import blind_spots

#: The classic methods a denoising result can be averaged with (None: no average).
CLASSIC_BLENDS = ("bm3d",)
#: The held-out least-squares share is multiplied by this.
SHRINK = 0.65
#: ... after taking this many standard errors off it.
MARGIN = 2.0
#: Below this DIP share the average is mostly the classic method's, and :func:`share_note` says so.
MOSTLY_CLASSIC = 0.25


def check_classic(classic: str | None) -> None:
    """Refuse an unknown method, and BM3D where the optional package is missing."""
    if classic is None:
        return
    if classic not in CLASSIC_BLENDS:
        raise ValueError(f"classic={classic!r}: choose one of {', '.join(map(repr, CLASSIC_BLENDS))}, or None "
                         "(no classic average).")
    if not bm3d_available():
        raise ValueError("classic='bm3d' needs the optional bm3d package: pip install bm3d (or leave classic out).")


def share_note(settings: Mapping[str, Any]) -> str:
    """A few words on the average a result's ``settings`` record ("" when there is none), saying when the classic
    method did better than the fit on the image (a small DIP share)."""
    share = settings.get("classic_share")
    if share is None:
        return ""
    method = settings.get("classic", "the classic method")
    note = f"averaged with {method} (DIP share {share:.2f})"
    if share < MOSTLY_CLASSIC:
        note += f": {method} did better than the DIP fit on this image, so the result is mostly {method}'s"
    return note


def held_out_share(dip: np.ndarray, classic: np.ndarray, target: np.ndarray, held_out: np.ndarray,
                   margin: float = 0.0) -> float:
    """The share ``w`` in [0, 1] of ``w * dip + (1 - w) * classic`` that fits ``target`` best on the
    ``held_out`` (H, W) pixels (least squares), less ``margin`` standard errors."""
    mask = np.broadcast_to(held_out, dip.shape)
    d = (dip - classic)[mask].astype(np.float64)
    r = (target - classic)[mask].astype(np.float64)
    norm = float(d @ d)
    if norm == 0:
        return 0.0
    w = float(d @ r) / norm
    if margin:
        resid = r - w * d
        w -= margin * math.sqrt(float(resid @ resid) / max(d.size - 1, 1) / norm)
    return float(np.clip(w, 0.0, 1.0))


@dataclass
class ClassicBlend:
    """The BM3D estimates of one noisy (C, H, W) ``target`` and the average of a fit's image with them.

    The estimates are made on the first :meth:`blend` (two BM3D calls) and kept.
    """

    target: np.ndarray
    held_out: np.ndarray
    sigma: float
    shares: list[float] = field(default_factory=list)  # the DIP shares used, latest last
    seconds: float = 0.0
    _full: np.ndarray | None = None  # of the noisy image
    _blind: np.ndarray | None = None  # of the network's input

    def _estimates(self) -> tuple[np.ndarray, np.ndarray]:
        if self._full is None or self._blind is None:
            start = time.perf_counter()
            self._full = bm3d_denoise(self.target, self.sigma)
            self._blind = bm3d_denoise(blind_spots(self.target, self.held_out), self.sigma)
            self.seconds = time.perf_counter() - start
        return self._full, self._blind

    def share(self, dip: np.ndarray) -> float:
        """The DIP share of the average for the fit's (C, H, W) image ``dip``."""
        _, blind = self._estimates()
        return SHRINK * held_out_share(dip, blind, self.target, self.held_out, MARGIN)

    def blend(self, dip: np.ndarray) -> np.ndarray:
        """``w * dip + (1 - w) * bm3d``, BM3D alone on the held-out pixels; ``w`` is appended to :attr:`shares`."""
        full, _ = self._estimates()
        w = self.share(dip)
        self.shares.append(w)
        mixed = np.where(self.held_out, full, w * dip + (1 - w) * full)
        return mixed.astype(np.float32)

    def settings(self) -> dict:
        """What the settings record of the last average."""
        recorded = {"classic_sigma": round(self.sigma, 6), "classic_seconds": round(self.seconds, 2)}
        if self.shares:
            recorded["classic_share"] = round(self.shares[-1], 4)
        return recorded
