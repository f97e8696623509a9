"""An inpainting's fill averaged with biharmonic inpainting, the DIP share chosen on held-out known pixels.

An inpainting around the mask (``region="mask"``) holds out of each box's fit
some known pixels shaped like the holes
(:func:`~napari_dip.core.inputs.masks.stroke_holdout`). When a box is done,
the network's fill of the holes and of those pixels is pasted seamlessly, the
biharmonic fill (scikit-image) of the same pixels is made from the pixels
left, and the least-squares share ``w`` of ``w * dip + (1 - w) * biharmonic``
on the held-out pixels, less :data:`MARGIN` standard errors, sets how the two
fills of the holes are averaged: by the box, with no clean image. Where the
network fills strokes worse than biharmonic (smooth, fine-grained texture) the
result leans to biharmonic; where it does better (edges, patterns) to the
network. Known pixels, held-out ones included, come back unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from napari_dip.core.extras.classic_blend import held_out_share
from napari_dip.core.fitting.regions import seamless_paste

#: The classic fills an inpainting can be averaged with.
CLASSIC_FILLS = ("biharmonic",)
#: ``classic=`` value that averages wherever the fit holds pixels out.
AUTO_FILL = "auto"
#: Standard errors taken off the held-out least-squares share.
MARGIN = 2.0


def check_fill_classic(classic: str | None) -> None:
    """Refuse a classic fill that does not exist."""
    if classic is not None and classic not in (AUTO_FILL, *CLASSIC_FILLS):
        raise ValueError(f"classic={classic!r}: choose 'auto' (the default), "
                         f"{', '.join(map(repr, CLASSIC_FILLS))} or None (no classic average).")


def biharmonic_fill(image: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``image`` (C, H, W) with its ``missing`` (H, W) pixels filled by biharmonic inpainting."""
    from skimage.restoration import inpaint_biharmonic

    return inpaint_biharmonic(image, missing, channel_axis=0).astype(image.dtype)


@dataclass
class FillBlend:
    """Pastes the boxes of an inpainting, each averaged with biharmonic inpainting (see the module)."""

    shares: list[tuple[float, int]] = field(default_factory=list)  # (DIP share, pixels filled) per box
    seconds: float = 0.0  # spent in the classic fills

    def paste(self, original: np.ndarray, output: np.ndarray, missing: np.ndarray, held: np.ndarray) -> np.ndarray:
        """``original`` (C, H, W) with its ``missing`` pixels filled by the average of the network's ``output`` and
        biharmonic inpainting, the share chosen on the ``held`` (H, W) pixels."""
        start = time.perf_counter()
        both = missing | held  # one fill of both: the held-out pixels are too far from the holes to change theirs
        dip = seamless_paste(original, output, both)
        share, fill = 1.0, dip  # with no held-out pixel in this box to judge by: the network's fill
        if held.any():
            classic = biharmonic_fill(np.where(both[None], 0, original), both)
            share = held_out_share(dip, classic, original, held, MARGIN)
            fill = share * dip + (1 - share) * classic
        fill = np.where(missing[None], fill, original)
        self.shares.append((share, int(missing.sum())))
        self.seconds += time.perf_counter() - start
        return fill.astype(original.dtype)

    def share(self) -> float | None:
        """The DIP share over every box so far, weighted by the pixels each filled (None before the first)."""
        weights = sum(count for _, count in self.shares)
        return None if not weights else sum(share * count for share, count in self.shares) / weights

    def settings(self) -> dict:
        """What the settings record of the average."""
        share = self.share()
        recorded = {"classic_seconds": round(self.seconds, 2)}
        return recorded if share is None else {**recorded, "classic_share": round(share, 4)}
