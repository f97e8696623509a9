"""Input codes z: uniform noise, a 2-channel meshgrid, or a guide image; and the random streams of a fit.

One user seed gives four independent streams (:func:`stream_seeds`): the
network's initial weights, the code z, the noise added to z at every
iteration, and the pixels held out for the automatic stop. Drawing them from
one stream would correlate the weights with the noise; ``seed`` and
``seed + 1`` would share streams between runs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class StreamSeeds(NamedTuple):
    """Seeds of the independent random streams of one fit."""

    weights: int
    code: int
    noise: int
    held_out: int


#: Member ``j`` of a fit of several networks draws from ``seed + j * MEMBER_STRIDE``: no member of one run is a
#: member of another (runs use the seeds seed, seed + 1, ...).
MEMBER_STRIDE = 2**32


def member_seed(seed: int, member: int) -> int:
    """The seed of network ``member`` (0-based) of a fit seeded with ``seed``; member 0 uses ``seed`` itself."""
    return seed + member * MEMBER_STRIDE


def stream_seeds(seed: int) -> StreamSeeds:
    """Derive independent seeds for weights, code and noise from one seed (``numpy.random.SeedSequence.spawn``)."""
    children = np.random.SeedSequence(seed).spawn(len(StreamSeeds._fields))
    return StreamSeeds(*(int(child.generate_state(1, np.uint64)[0] >> 1) for child in children))


def held_out_mask(shape: tuple[int, ...], fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of ``shape`` marking about ``fraction`` of its entries, at random, from ``seed``'s
    held-out stream."""
    return np.random.default_rng(stream_seeds(seed).held_out).random(shape) < fraction


def noise_code(channels: int, height: int, width: int, generator: torch.Generator, scale: float = 0.1) -> torch.Tensor:
    """Uniform noise U(0, ``scale``) of shape (1, channels, height, width), on the CPU."""
    return torch.rand((1, channels, height, width), generator=generator) * scale


def meshgrid_code(height: int, width: int) -> torch.Tensor:
    """The 2-channel meshgrid (x, y) in [0, 1] used for large-hole inpainting."""
    ys = torch.linspace(0, 1, height)
    xs = torch.linspace(0, 1, width)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x, grid_y])[None]


def blind_spots(image_chw: np.ndarray, held_out: np.ndarray | None) -> np.ndarray:
    """``image_chw`` (C, H, W) with each ``held_out`` (H, W) pixel replaced by the mean of its 8 neighbours.

    As a code, the observation then carries no trace of a held-out pixel's
    noise, so the network's error there stays an honest estimate of the
    image's error (the image borders are mirrored).
    """
    if held_out is None or not held_out.any():
        return image_chw
    padded = np.pad(image_chw, ((0, 0), (1, 1), (1, 1)), mode="reflect")
    height, width = image_chw.shape[-2:]
    neighbours = sum(padded[:, dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)
                     if (dy, dx) != (1, 1)) / 8
    return np.where(held_out, neighbours, image_chw).astype(image_chw.dtype)


def guide_code(guide_chw: np.ndarray) -> torch.Tensor:
    """A guide image (e.g. the flash image), (C, H, W) in [0, 1], as the code."""
    return torch.from_numpy(np.ascontiguousarray(guide_chw, dtype=np.float32))[None]


def perturb(code: torch.Tensor, std: float, generator: torch.Generator | None, random_std: bool = False
            ) -> torch.Tensor:
    """Return ``code`` plus Gaussian noise of standard deviation ``std`` (sigma_p).

    With ``random_std`` the standard deviation is drawn from U(0, ``std``)
    afresh on every call (on the device: no host sync).
    """
    if std <= 0:
        return code
    noise = torch.randn(code.shape, generator=generator, device=code.device, dtype=code.dtype)
    if random_std:
        noise = noise * torch.rand((), generator=generator, device=code.device, dtype=code.dtype)
    return code + std * noise
