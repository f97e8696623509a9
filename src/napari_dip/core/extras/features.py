"""Natural pre-images and activation maximisation for a network the user supplies.

The image is parametrised as x = f_theta(z) (the DIP prior) and theta fitted
so that a feature extractor Phi matches the features of an image (inversion)
or maximises one unit (activation maximisation). No weights are downloaded:
pass any ``torch.nn.Module``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from napari_dip.core import validation as check
from napari_dip.core.fitting.loop import Fit, Problem, run
from napari_dip.core.inputs.images import MIN_SIDE, prepare_image, restore_image
from napari_dip.core.runtime.devices import resolve_device
from napari_dip.core.tasks.pieces import fit_config, make_code, padding_rule, seeded_network
from napari_dip.core.tasks.presets import task_preset

Extractor = Callable[[torch.Tensor], torch.Tensor]


def feature_extractor(network: nn.Module, layer: str | None = None, preprocess: Extractor | None = None) -> Extractor:
    """Phi(x): ``preprocess`` then ``network``, read at the submodule named ``layer``."""
    network.eval().requires_grad_(False)
    names = dict(network.named_modules())
    if layer is not None and layer not in names:
        options = ", ".join(n for n in names if n)[:300]
        raise ValueError(f"The network has no layer {layer!r}: choose one of {options}.")

    def extract(x: torch.Tensor) -> torch.Tensor:
        x = preprocess(x) if preprocess is not None else x
        if layer is None:
            return network(x)
        captured: list[torch.Tensor] = []
        hook = names[layer].register_forward_hook(lambda _m, _i, out: captured.append(out))
        try:
            network(x)
        finally:
            hook.remove()
        return captured[0]

    return extract


class FeatureMatch(nn.Module):
    """E = ||Phi(x) - Phi(x0)||^2 / ||Phi(x0)||^2; ``target`` holds Phi(x0)."""

    def __init__(self, extract: Extractor):
        super().__init__()
        self.extract = extract

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (self.extract(output) - target).square().sum() / target.square().sum().clamp_min(1e-12)


class ActivationMax(nn.Module):
    """E = -mean(Phi(x)[:, unit]): maximise one channel (or one output) of Phi."""

    def __init__(self, extract: Extractor, unit: int):
        super().__init__()
        self.extract, self.unit = extract, unit

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        features = self.extract(output)
        if not 0 <= self.unit < features.shape[1]:
            raise ValueError(f"unit={self.unit} does not exist: the layer has {features.shape[1]} units.")
        return -features[:, self.unit].mean()


def _fit(data_term: nn.Module, target: torch.Tensor, shape: tuple[int, int, int], task: str, kwargs: dict) -> tuple:
    preset = task_preset(task, preset=kwargs.pop("preset", "paper"))
    device = resolve_device(check.device_name(kwargs.pop("device", "auto")))
    callback = check.callback(kwargs.pop("callback", None))
    iterations, lr = kwargs.pop("iterations", None), kwargs.pop("lr", None)
    config = fit_config(preset, iterations, lr, kwargs.pop("seed", 0), False,
                        {"use_ema": False, "backtrack": False, **kwargs})
    seed = config.seed
    channels, height, width = shape
    multiple = padding_rule(preset)[0]
    if height % multiple or width % multiple:
        raise ValueError(f"The image is {height}x{width}: both sides must divide by {multiple} for this network.")
    code = make_code(preset, height, width, seed, None)
    network = seeded_network(preset, preset.code_channels, channels, seed)
    fit = Fit(Problem(network, code, data_term.to(device), target.to(device)), config, device)
    return run(fit, callback)


def invert_features(
    image: np.ndarray,
    network: nn.Module,
    layer: str | None = None,
    *,
    preprocess: Extractor | None = None,
    channel_axis: int | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """A natural pre-image: an image whose features at ``layer`` match those of ``image``.

    ``network`` receives (1, C, H, W) float images in [0, 1] after ``preprocess``.
    """
    target, info = prepare_image(image, channel_axis)
    device = resolve_device(check.device_name(kwargs.get("device", "auto")))
    extract = feature_extractor(network.to(device), layer, preprocess)
    with torch.no_grad():
        features = extract(torch.from_numpy(target)[None].to(device))
    result = _fit(FeatureMatch(extract), features, target.shape, "preimage", kwargs)
    return restore_image(result.image, info)


def maximize_activation(
    network: nn.Module,
    unit: int,
    shape: tuple[int, int, int] = (3, 128, 128),
    layer: str | None = None,
    *,
    preprocess: Extractor | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """An image, (H, W, C) float32 in [0, 1], that maximises ``unit`` of ``layer``.

    ``shape`` is the (C, H, W) image the network takes.
    """
    unit = check.whole_number("unit", unit, 0)
    shape = check.shape("shape", shape, (3,), slice(1, 3), MIN_SIDE, "(channels, height, width)")
    device = resolve_device(check.device_name(kwargs.get("device", "auto")))
    extract = feature_extractor(network.to(device), layer, preprocess)
    result = _fit(ActivationMax(extract, unit), torch.zeros(1), tuple(shape), "activation_max", kwargs)
    return np.moveaxis(result.image, 0, -1).astype(np.float32)
