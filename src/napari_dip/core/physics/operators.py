"""Forward operators A of the data term E = ||A(x) - x0||^2, and the total-variation regulariser.

Each operator is an ``nn.Module`` mapping the network output to the space of
the observation, with a ``loss(output, target)`` giving the mean squared error
over the observed values.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Identity(nn.Module):
    """A(x) = x: denoising, JPEG / blind restoration, enhancement, flash / no-flash."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self(output), target)


class Mask(nn.Module):
    """A(x) = m * x with m = 1 on known pixels: inpainting and sparse-pixel restoration.

    ``known`` has shape (H, W) or (1, 1, H, W); True / 1 marks a known pixel.
    The loss is the mean over known values, so missing pixels never matter.
    """

    def __init__(self, known: torch.Tensor):
        super().__init__()
        known = known.float()
        while known.dim() < 4:
            known = known.unsqueeze(0)
        if known.sum() == 0:
            raise ValueError("The mask marks every pixel as missing: leave some pixels known.")
        self.register_buffer("known", known)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.known

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        count = self.known.sum() * output.shape[1] * output.shape[0]
        return ((output - target) * self.known).square().sum() / count


def lanczos2(x: np.ndarray) -> np.ndarray:
    """The Lanczos kernel with support 2: sinc(x) * sinc(x / 2), zero for |x| >= 2."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.abs(x) < 2, np.sinc(x) * np.sinc(x / 2), 0.0)


def lanczos2_taps(factor: int) -> np.ndarray:
    """1D Lanczos2 taps for decimation by ``factor``, normalised to sum 1.

    Taps sit at the high-resolution pixel centres around the centre of each
    block of ``factor`` pixels, scaled by 1 / factor (an anti-aliasing
    low-pass): 4 * factor taps for even factors, 4 * factor - 1 for odd ones.
    """
    if factor < 2:
        raise ValueError(f"Decimation factor {factor} is below 2: use a factor of 2 or more.")
    half = 2 * factor
    offsets = np.arange(-half, half) + 0.5 if factor % 2 == 0 else np.arange(-half + 1, half)
    taps = lanczos2(offsets / factor)
    return taps / taps.sum()


class LanczosDownsample(nn.Module):
    """Lanczos2 low-pass + stride ``factor``, one fixed depthwise convolution.

    An (N, C, factor*H, factor*W) input gives (N, C, H, W) exactly; borders are
    replicate-padded.
    """

    def __init__(self, factor: int, channels: int):
        super().__init__()
        taps = torch.from_numpy(lanczos2_taps(factor)).float()
        kernel = torch.outer(taps, taps)
        self.factor = factor
        self.pad = (len(taps) - factor) // 2
        self.register_buffer("weight", kernel.expand(channels, 1, *kernel.shape).contiguous())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.pad,) * 4, mode="replicate")
        return F.conv2d(x, self.weight.to(x.dtype), stride=self.factor, groups=x.shape[1])

    def loss(self, output: torch.Tensor, target: torch.Tensor, left_out: torch.Tensor | None = None) -> torch.Tensor:
        """The mean squared error of the decimated ``output``; ``left_out`` low-resolution pixels count as matched."""
        low = self(output)
        return F.mse_loss(low if left_out is None else torch.where(left_out, target, low), target)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation of an (N, C, H, W) or (N, C, D, H, W) tensor.

    The mean absolute difference of neighbouring values along each spatial
    axis, summed over the axes (axes of length 1 add nothing).
    """
    return sum((x.diff(dim=axis).abs().mean() for axis in range(2, x.dim()) if x.shape[axis] > 1),
               x.new_zeros(()))


def back_project(high: np.ndarray, low: np.ndarray, factor: int, steps: int) -> np.ndarray:
    """Iterative back-projection (Irani and Peleg, 1991) of a super-resolved image onto its observation.

    ``steps`` times, ``high`` (C, factor*H, factor*W) gets the bicubic up-sampling of what its Lanczos2
    decimation misses of ``low`` (C, H, W); the result is clipped to [0, 1]. It restores the part of the
    observation an early-stopped fit has not matched, without the network.
    """
    if steps == 0:
        return high
    down = LanczosDownsample(factor, low.shape[0])
    x, y = torch.from_numpy(high)[None].float(), torch.from_numpy(low)[None].float()
    with torch.no_grad():
        for _ in range(steps):
            x = x + F.interpolate(y - down(x), scale_factor=factor, mode="bicubic", align_corners=False)
    return x[0].clamp(0, 1).numpy().astype(high.dtype)
