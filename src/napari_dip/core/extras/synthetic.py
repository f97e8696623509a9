"""Synthetic fluorescence-like images made in code: blobs and filaments, blurred, photon and camera noise.

:func:`fluorescence_volume` draws a (Z, Y, X) volume (or a (Y, X) image) of
round blobs (nuclei, vesicles) and thin curved filaments (a cytoskeleton),
blurs it with a Gaussian point-spread function that is longer in Z, and
records it with a camera: Poisson photon noise, Gaussian read noise, an
offset, uint16 counts. It returns the noisy counts and the clean expected
counts, so a restoration can be scored (PSNR) against the truth.
:func:`fluorescence_image` is the 2D version. Only numpy and scipy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Share of ``photons`` that the out-of-focus background gives every voxel.
BACKGROUND = 0.05


def _blobs(density: np.ndarray, count: int, z_step: float, rng: np.random.Generator) -> None:
    """Add ``count`` Gaussian blobs (radius 1.5-4 pixels in Y / X) to ``density`` in place."""
    for _ in range(count):
        centre = rng.uniform(0, density.shape)
        radius = rng.uniform(1.5, 4.0)
        amplitude = rng.uniform(0.4, 1.0)
        radii = [radius] * density.ndim
        if density.ndim == 3:
            radii[0] = radius / z_step
        # Only the box within 4 radii of the centre: the rest is below 1e-3 of the peak.
        box = tuple(slice(max(0, int(c - 4 * r)), min(n, int(c + 4 * r) + 1))
                    for c, r, n in zip(centre, radii, density.shape))
        grids = np.ogrid[box]
        squared = sum(((g - c) / r) ** 2 for g, c, r in zip(grids, centre, radii))
        density[box] += amplitude * np.exp(-0.5 * squared)


def _filaments(density: np.ndarray, count: int, z_step: float, rng: np.random.Generator) -> None:
    """Add ``count`` thin curved filaments (random walks with momentum) to ``density`` in place."""
    shape = np.array(density.shape)
    damp = np.ones(density.ndim)
    if density.ndim == 3:
        damp[0] = 0.3 / z_step  # filaments lie mostly in the focal plane
    for _ in range(count):
        position = rng.uniform(0, shape)
        direction = rng.normal(size=density.ndim) * damp
        amplitude = rng.uniform(0.3, 0.7)
        for _ in range(4 * int(shape.max())):
            direction = direction / np.linalg.norm(direction) + rng.normal(0, 0.12, density.ndim) * damp
            direction /= np.linalg.norm(direction)
            position = position + 0.5 * direction
            index = np.floor(position).astype(int)
            if np.any(index < 0) or np.any(index >= shape):
                break
            density[tuple(index)] = max(density[tuple(index)], amplitude * 4)


def fluorescence_volume(
    shape: Sequence[int] = (16, 96, 96),
    *,
    photons: float = 50.0,
    read_noise: float = 2.0,
    offset: float = 100.0,
    gain: float = 1.0,
    z_step: float = 1.0,
    blobs: int | None = None,
    filaments: int | None = None,
    psf_sigma: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic fluorescence volume (or image): ``(noisy uint16, clean float32)``.

    Parameters
    ----------
    shape : (Z, Y, X) or (Y, X)
        Size in voxels.
    photons : float
        Expected photons at the brightest structures (low = noisier).
    read_noise, offset, gain : float
        Camera: Gaussian read noise (counts), constant offset (counts) and
        counts per photon.
    z_step : float
        Z voxel size in units of the Y / X pixel size (anisotropic stacks have
        z_step > 1: structures and the PSF span fewer slices).
    blobs, filaments : int, optional
        How many of each (default: scaled with the area).
    psf_sigma : float
        Gaussian PSF width in Y / X pixels (twice that in Z, divided by z_step).
    seed : int
        Same seed, same volume.

    Returns
    -------
    noisy : ndarray of uint16
        The recorded counts: gain * Poisson(expected photons) + read noise + offset.
    clean : ndarray of float32
        The expected counts (no noise): the ground truth for PSNR.
    """
    from scipy.ndimage import gaussian_filter

    shape = tuple(int(n) for n in shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(f"shape={shape}: give (Z, Y, X) or (Y, X) with positive sizes.")
    for name, value in (("photons", photons), ("gain", gain), ("z_step", z_step), ("psf_sigma", psf_sigma)):
        if not value > 0:
            raise ValueError(f"{name}={value}: it must be positive.")
    if read_noise < 0:
        raise ValueError(f"read_noise={read_noise}: the read noise cannot be negative (0 for none).")
    rng = np.random.default_rng(seed)
    area = shape[-1] * shape[-2]
    density = np.zeros(shape, dtype=np.float64)
    _blobs(density, max(3, area // 600) if blobs is None else blobs, z_step, rng)
    _filaments(density, max(2, area // 2000) if filaments is None else filaments, z_step, rng)
    sigma = [psf_sigma] * len(shape)
    if len(shape) == 3:
        sigma[0] = 2 * psf_sigma / z_step
    density = gaussian_filter(density, sigma, mode="reflect")
    density /= max(density.max(), 1e-12)
    expected = photons * (BACKGROUND + density)
    counts = gain * rng.poisson(expected) + rng.normal(0.0, read_noise, shape) + offset
    noisy = np.clip(np.rint(counts), 0, np.iinfo(np.uint16).max).astype(np.uint16)
    return noisy, (gain * expected + offset).astype(np.float32)


def fluorescence_image(shape: Sequence[int] = (96, 96), **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """The 2D version of :func:`fluorescence_volume`: ``(noisy uint16, clean float32)`` of shape (Y, X)."""
    if len(tuple(shape)) != 2:
        raise ValueError(f"shape={tuple(shape)}: give (Y, X); use fluorescence_volume for (Z, Y, X).")
    return fluorescence_volume(shape, **kwargs)
