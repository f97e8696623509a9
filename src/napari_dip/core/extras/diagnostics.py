"""Diagnostics from the paper: samples from the prior and noise-impedance curves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from napari_dip.core import validation as check
from napari_dip.core.fitting.loop import run
from napari_dip.core.inputs.images import MIN_SIDE, pad_to_multiple, prepare_image
from napari_dip.core.model.networks import ARCHITECTURES
from napari_dip.core.tasks.build import build_run
from napari_dip.core.tasks.pieces import make_code, padding_rule, seeded_network
from napari_dip.core.tasks.preset_choice import choose_preset
from napari_dip.core.tasks.presets import task_preset

IMPEDANCE_CURVES = ("image", "image + noise", "shuffled image", "noise")


def prior_samples(
    shape: tuple[int, ...], architecture: str = "skip", n: int = 4, seed: int = 0, preset: str = "paper"
) -> np.ndarray:
    """Images f_theta(z) of randomly initialised networks: "samples" from the prior.

    ``shape`` is (H, W) for grey or (H, W, C). Returns (n, *shape) float32 in [0, 1].
    """
    shape = check.shape("shape", shape, (2, 3), slice(0, 2), MIN_SIDE, "(height, width) or (height, width, channels)")
    check.choice("architecture", architecture, ARCHITECTURES)
    check.positive_whole("n", n)
    seed = check.seed(seed)
    channels = shape[2] if len(shape) == 3 else 1
    chosen = task_preset("denoise", preset=preset)
    chosen = replace(chosen, network=replace(chosen.network, architecture=architecture))
    padded, crop = pad_to_multiple(np.zeros((1, *shape[:2])), *padding_rule(chosen))
    samples = []
    for k in range(n):
        network = seeded_network(chosen, chosen.code_channels, channels, seed + k)
        code = make_code(chosen, padded.shape[1], padded.shape[2], seed + k, None)
        with torch.no_grad():
            image = network(code)[0, :, crop[0], crop[1]].numpy()
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
    "impedes" noise. Fits use no code perturbation and no backtracking.
    When ``callback`` returns False the current curve ends and the rest are skipped.
    """
    check.positive_whole("iterations", iterations)
    check.non_negative("noise_std", noise_std)
    check.callback(callback)
    seed = check.seed(seed)
    target, info = prepare_image(image, channel_axis)
    rng = np.random.default_rng(seed)
    flat = target.reshape(target.shape[0], -1)
    signals = {
        "image": target,
        "image + noise": np.clip(target + rng.normal(0, noise_std, target.shape), 0, 1).astype(np.float32),
        "shuffled image": flat[:, rng.permutation(flat.shape[1])].reshape(target.shape),
        "noise": rng.uniform(0, 1, target.shape).astype(np.float32),
    }
    curves = {}
    for name, signal in signals.items():
        task = build_run(
            "denoise", signal, info, choose_preset("denoise", preset), iterations=iterations, seed=seed, device=device,
            code_noise_std=0.0, backtrack=False, preview_every=iterations,
        )
        history = run(task.fit, callback).history
        curves[name] = np.asarray(history.losses, dtype=np.float32)
        if history.stop_reason == "interrupted":  # the callback asked to stop: skip the other curves
            break
    return curves
