"""Diagnostics from the paper: samples from the prior and noise-impedance curves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from .codes import noise_code
from .devices import resolve_device
from .fit import Fit, FitConfig, Problem, run
from .images import pad_to_multiple, prepare_image
from .operators import Identity
from .presets import PRESETS, resolve_preset
from .tasks import _seeded_network

IMPEDANCE_CURVES = ("image", "image + noise", "shuffled image", "noise")


def prior_samples(
    shape: tuple[int, ...], architecture: str = "skip", n: int = 4, seed: int = 0, preset: str = "paper"
) -> np.ndarray:
    """Images f_theta(z) of randomly initialised networks: "samples" from the prior.

    ``shape`` is (H, W) for grey or (H, W, C). Returns (n, *shape) float32 in [0, 1].
    """
    if len(shape) not in (2, 3) or min(shape[:2]) < 4:
        raise ValueError(f"shape={shape}: give (height, width) or (height, width, channels), sides >= 4.")
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    chosen = resolve_preset("denoise", preset)
    chosen = replace(chosen, network=replace(chosen.network, architecture=architecture))
    multiple = 2 ** chosen.network.depth
    padded_h, padded_w = (-(-s // multiple) * multiple for s in (height, width))
    samples = []
    for k in range(n):
        network = _seeded_network(chosen, chosen.code_channels, channels, seed + k)
        generator = torch.Generator().manual_seed(seed + k)
        down = 2 ** len(chosen.network.down) if architecture == "deep_decoder" else 1
        code = noise_code(chosen.code_channels, padded_h // down, padded_w // down, generator)
        with torch.no_grad():
            image = network(code)[0, :, :height, :width].numpy()
        samples.append(np.moveaxis(image, 0, -1) if len(shape) == 3 else image[0])
    return np.stack(samples).astype(np.float32)


def noise_impedance(
    image: np.ndarray,
    iterations: int = 2400,
    *,
    channel_axis: int | None = None,
    noise_std: float = 25 / 255,
    preset: str = "fast",
    seed: int = 0,
    device: str = "auto",
    callback: Any = None,
) -> dict[str, np.ndarray]:
    """Loss curves of fitting the image, the image plus noise, its shuffled pixels and pure noise.

    Returns a dict from each name in :data:`IMPEDANCE_CURVES` to the MSE per
    iteration. Natural images are fitted fastest, noise slowest: the prior
    "impedes" noise.
    """
    target, _ = prepare_image(image, channel_axis)
    rng = np.random.default_rng(seed)
    flat = target.reshape(target.shape[0], -1)
    signals = {
        "image": target,
        "image + noise": np.clip(target + rng.normal(0, noise_std, target.shape), 0, 1).astype(np.float32),
        "shuffled image": flat[:, rng.permutation(flat.shape[1])].reshape(target.shape),
        "noise": rng.uniform(0, 1, target.shape).astype(np.float32),
    }
    chosen = PRESETS["denoise"] if preset == "paper" else resolve_preset("denoise", preset)
    config = FitConfig(iterations=iterations, lr=chosen.lr, code_noise_std=0.0, backtrack=False, seed=seed, preview_every=iterations)
    curves = {}
    for name, signal in signals.items():
        padded, crop = pad_to_multiple(signal, 2**chosen.network.depth)
        generator = torch.Generator().manual_seed(seed + 1)
        code = noise_code(chosen.code_channels, padded.shape[1], padded.shape[2], generator)
        network = _seeded_network(chosen, chosen.code_channels, signal.shape[0], seed)
        problem = Problem(network, code, Identity(), torch.from_numpy(np.ascontiguousarray(padded))[None], crop)
        result = run(Fit(problem, config, resolve_device(device)), callback)
        curves[name] = np.asarray(result.history.losses, dtype=np.float32)
    return curves
