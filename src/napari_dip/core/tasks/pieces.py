"""The pieces of a fit that a preset defines: its settings, its seeded network, its code and its padding.

Every function here depends on the preset and the sizes alone, so the task
set-up (:mod:`.build`), the diagnostics and feature inversion share them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.inputs.images import pad_amounts
from napari_dip.core.model.codes import guide_code, member_seed, meshgrid_code, noise_code, stream_seeds
from napari_dip.core.model.networks import Members, build_network, code_downscale
from napari_dip.core.tasks.presets import Preset


def fit_config(
    preset: Preset, iterations: int | None, lr: float | None, seed: int | None, auto_stop: bool | None, options: dict
) -> FitConfig:
    """The preset's fit settings, with the caller's values and ``options`` (FitConfig fields) on top.

    Every value is checked here, before any work (ValueError naming the field);
    ``seed=None`` becomes a fresh random seed, recorded in the config.
    """
    # Every fit setting a preset holds (iterations, lr, EMA, code noise, stop, what is optimised, TV, loss root).
    shared = [name for name in Preset.__dataclass_fields__ if name in FitConfig.__dataclass_fields__]
    values = {name: getattr(preset, name) for name in shared}
    given = {"iterations": iterations, "lr": lr, "auto_stop": auto_stop}
    values.update({name: value for name, value in given.items() if value is not None}, seed=seed)
    unknown = set(options) - set(FitConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"Unknown option(s) {', '.join(sorted(unknown))}: see napari_dip.FitConfig for the names.")
    values.update(options)
    return FitConfig(**values)


def seeded_network(preset: Preset, in_channels: int, out_channels: int, seed: int) -> torch.nn.Module:
    """Build ``preset``'s network with weights drawn from ``seed``'s weight stream (global RNG untouched).

    With ``preset.members`` = k > 1, k networks (:class:`Members`), the one of member j from
    :func:`~napari_dip.core.model.codes.member_seed`: the network a run with that seed would start from.
    """
    networks = []
    for member in range(preset.members):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(stream_seeds(member_seed(seed, member)).weights)
            networks.append(build_network(preset.network, in_channels, out_channels))
    return networks[0] if preset.members == 1 else Members(networks)


def make_code(
    preset: Preset, height: int, width: int, seed: int, guide: np.ndarray | None, depth: int | None = None
) -> torch.Tensor:
    """The code z for an output of ``height`` x ``width`` (x ``depth`` slices): the guide, a meshgrid or noise
    from ``seed``'s code stream; with ``preset.members`` = k > 1, k codes along the batch axis, member j's from
    :func:`~napari_dip.core.model.codes.member_seed`."""
    codes = [member_code(preset, height, width, member_seed(seed, member), guide, depth)
             for member in range(preset.members)]
    return torch.cat(codes)


def member_code(
    preset: Preset, height: int, width: int, seed: int, guide: np.ndarray | None, depth: int | None = None
) -> torch.Tensor:
    """One network's code (see :func:`make_code`)."""
    if depth is not None:
        # The noise of the (depth * height) x width image of the slices, seen as a volume.
        generator = torch.Generator().manual_seed(stream_seeds(seed).code)
        flat = noise_code(preset.code_channels, depth * height, width, generator)
        return flat.reshape(1, preset.code_channels, depth, height, width)
    if guide is not None:
        return guide_code(guide)
    if preset.code == "meshgrid":
        return meshgrid_code(height, width)
    down = code_downscale(preset.network)
    generator = torch.Generator().manual_seed(stream_seeds(seed).code)
    return noise_code(preset.code_channels, height // down, width // down, generator)


def padding_rule(preset: Preset, factor: int = 1) -> tuple[int, int]:
    """The (multiple, minimum side) an input must be padded to for ``preset``'s network.

    The output (``factor`` times the input) must divide by 2**depth and keep at
    least 2x2 pixels at the deepest scale, so BatchNorm has statistics. For a
    3D network the values are per axis (Z, Y, X); Z divides by 2**z_depth.
    """
    multiple = 2**preset.network.depth
    low_multiple, minimum = multiple // math.gcd(multiple, factor), -(-2 * multiple // factor)
    if preset.network.dims == 3:
        z_multiple = 2**preset.network.z_depth
        return (z_multiple, low_multiple, low_multiple), (z_multiple, minimum, minimum)
    return low_multiple, minimum


def code_shape(preset: Preset, sides: Sequence[int], guide_channels: int | None) -> tuple[int, ...]:
    """The shape of the code :func:`make_code` makes for an output of ``sides`` ((H, W), or (Z, H, W) -> 5D)."""
    if guide_channels is not None:
        return guide_channels, *sides
    if preset.code == "meshgrid":
        return 2, *sides
    down = code_downscale(preset.network)
    shape = (preset.code_channels, *(side // down for side in sides))
    return (1, *shape) if len(sides) == 3 else shape


def padded_sides(sides: Sequence[int], multiple: int | tuple[int, ...], minimum: int | tuple[int, ...]) -> list[int]:
    """The sides :func:`~napari_dip.core.inputs.images.pad_to_multiple` pads ``sides`` to."""
    multiples = multiple if isinstance(multiple, tuple) else (multiple,) * len(sides)
    minimums = minimum if isinstance(minimum, tuple) else (minimum,) * len(sides)
    return [n + sum(pad_amounts(n, m, k)) for n, m, k in zip(sides, multiples, minimums, strict=True)]
