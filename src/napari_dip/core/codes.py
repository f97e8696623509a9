"""Input codes z: uniform noise, a 2-channel meshgrid, or a guide image."""

from __future__ import annotations

import numpy as np
import torch



def noise_code(channels: int, height: int, width: int, generator: torch.Generator, scale: float = 0.1) -> torch.Tensor:
    """Uniform noise U(0, ``scale``) of shape (1, channels, height, width), on the CPU."""
    return torch.rand((1, channels, height, width), generator=generator) * scale


def meshgrid_code(height: int, width: int) -> torch.Tensor:
    """The 2-channel meshgrid (x, y) in [0, 1] used for large-hole inpainting."""
    ys = torch.linspace(0, 1, height)
    xs = torch.linspace(0, 1, width)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])[None]


def guide_code(guide_chw: np.ndarray) -> torch.Tensor:
    """A guide image (e.g. the flash image), (C, H, W) in [0, 1], as the code."""
    return torch.from_numpy(np.ascontiguousarray(guide_chw, dtype=np.float32))[None]


def perturb(code: torch.Tensor, std: float, generator: torch.Generator | None) -> torch.Tensor:
    """Return ``code`` plus Gaussian noise of standard deviation ``std`` (sigma_p)."""
    if std <= 0:
        return code
    noise = torch.randn(code.shape, generator=generator, device=code.device, dtype=code.dtype)
    return code + std * noise
