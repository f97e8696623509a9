"""Assembling one fit: preset, padding, code, network, data term and memory plan, as a :class:`TaskRun`.

:func:`build_run` turns a prepared (C, H, W) or (C, Z, Y, X) target in
[0, 1] into a :class:`TaskRun`; the ``prepare_*`` functions of :mod:`napari_dip.core.tasks.prepare`
read the user's arrays and call it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from napari_dip.core.runtime import devices
from napari_dip.core import validation as check
from napari_dip.core.tasks.auto_preset import AUTO
from napari_dip.core.model.codes import blind_spots, guide_code, held_out_mask, member_seed, meshgrid_code, noise_code, stream_seeds
from napari_dip.core.runtime.devices import fit_memory, resolve_device, resolve_memory_format, resolve_precision
from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.loop import Fit, FitResult, History, Problem, Progress, run
from napari_dip.core.inputs.images import ImageInfo, pad_amounts, pad_to_multiple, scale_like
from napari_dip.core.model.networks import Members, build_network, code_downscale, volume_spec
from napari_dip.core.physics.operators import Identity, LanczosDownsample, Mask
from napari_dip.core.tasks.presets import DEFAULT_PRESET, Preset, task_preset
from napari_dip.core.runtime.threads import resolve_threads
from napari_dip.core.fitting.tiles import TiledFit, plan_tiles
from napari_dip.core.inputs.volumes import VolumeInfo, scale_volume, to_array


@dataclass
class TaskRun:
    """A prepared fit plus the conversion of its output back to the user's array."""

    fit: Fit | TiledFit
    info: ImageInfo | VolumeInfo
    finish: Callable[[np.ndarray], Any]
    settings: dict = field(default_factory=dict)

    def steps(self) -> Generator[Progress, None, FitResult]:
        """The fit's generator of :class:`Progress` records (returns a FitResult)."""
        return self.fit.steps()

    @property
    def history(self) -> History:
        """Losses, PSNR and how the fit ended, so far."""
        return self.fit.history

    @property
    def use_ema(self) -> bool:
        """Whether the result is the EMA of the outputs (else the last output)."""
        return self.fit.config.use_ema

    def to_image(self, chw: np.ndarray) -> np.ndarray:
        """Map a (C, H, W) (or (C, Z, Y, X)) preview in [0, 1] to the input's dtype and layout."""
        return to_array(chw, self.info)

    def result(self) -> Any:
        """The task's output for the latest state of the fit."""
        return self.finish(self.fit.result().image)

    def run(self, callback: Callable[[Progress], object] | None = None) -> tuple[Any, FitResult]:
        """Fit to the end (or until ``callback`` returns False); return output and fit result."""
        fit_result = run(self.fit, callback)
        return self.finish(fit_result.image), fit_result


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


def build_run(
    task: str,
    target: np.ndarray,
    info: ImageInfo,
    *,
    preset: str | Preset = DEFAULT_PRESET,
    iterations: int | None = None,
    lr: float | None = None,
    seed: int | None = 0,
    device: str = "auto",
    auto_stop: bool | None = None,
    reference: np.ndarray | None = None,
    factor: int = 1,
    kind: str | None = None,
    known: np.ndarray | None = None,
    guide: np.ndarray | None = None,
    finish: Callable[[np.ndarray], Any] | None = None,
    data_term: torch.nn.Module | None = None,
    spatial_dims: int = 2,
    spacing: Sequence[float] | None = None,
    tile: str | int | None = "auto",
    **options: Any,
) -> TaskRun:
    """Assemble a :class:`TaskRun` from a prepared (C, H, W) target in [0, 1].

    ``factor`` > 1 makes the output that many times larger, fitted through the
    Lanczos decimation; ``known`` (H, W) marks known pixels for a masked data
    term; ``guide`` (C', H, W) replaces the random code; ``data_term``
    replaces the squared error of a denoising fit. ``task``, ``factor`` and
    ``kind`` pick the preset's case (:func:`~napari_dip.core.tasks.presets.task_preset`). A
    (C, Z, Y, X) target (from ``spatial_dims=3``) is fitted by the preset's
    net in 3D, for voxels of size ``spacing`` (Z, Y, X; default isotropic).

    Every setting is checked, and the memory a fit needs is estimated from
    shapes, before anything large is allocated. ``tile="auto"`` fits an image
    too large for the device in overlapping tiles (a warning says so),
    ``tile=None`` refuses it, and an int tiles with that side (see
    :mod:`napari_dip.core.fitting.tiles`); volumes are never tiled.
    """
    volume = target.ndim == 4
    if spatial_dims != target.ndim - 1:
        raise ValueError(
            f"spatial_dims={spatial_dims!r}: the {task} task restores 2D images only; restore a volume slice by "
            "slice with stack_axis=0."
        )
    if spacing is not None and not volume:
        raise ValueError(f"spacing={spacing!r} is the voxel size of a volume: pass it with spatial_dims=3.")
    if volume and tile not in ("auto", None):
        raise ValueError(f"tile={tile!r}: tiles are for 2D images; crop a large volume or restore it slice by slice "
                         "with stack_axis=0.")
    chosen = task_preset(task, factor=factor, kind=kind, preset=preset)
    observed = chosen.code == "observation"
    if observed and (task != "denoise" or data_term is not None or factor != 1 or known is not None):
        named = f"preset={preset!r}" if isinstance(preset, str) else "A preset with code='observation'"
        raise ValueError(f"{named} fits the noisy image through Stein's risk estimate: it is for denoising images with "
                         "Gaussian noise only. Use preset='fast' (what the default picks here) or 'paper'.")
    if volume:
        if guide is not None or chosen.code != "noise":
            raise ValueError(f"3D fits use a noise code, not the {chosen.code} code: pick a preset with a noise code.")
        chosen = replace(chosen, network=volume_spec(chosen.network, target.shape[1], spacing or (1.0, 1.0, 1.0)))
    config = fit_config(chosen, iterations, lr, seed, auto_stop, options)
    if config.sure_sigma is not None and not observed:
        raise ValueError(f"sure_sigma={config.sure_sigma!r} needs the noisy image as the network's input: use "
                         "preset='sure', or leave sure_sigma out.")
    seed = config.seed
    check.device_name(device)
    device = resolve_device(device)
    dims = 3 if volume else 2
    config = replace(config, precision=resolve_precision(config.precision, device, dims),  # as resolved
                     memory_format=resolve_memory_format(config.memory_format, device, dims))
    multiple, minimum = padding_rule(chosen, factor)
    channels = target.shape[0]
    if config.holdout and factor > 1:
        raise ValueError(f"holdout={config.holdout!r} leaves pixels of the output out of the fit; a super-resolved "
                         "output is compared with the input only after decimation: use holdout=0.")
    # Pixels are held out for the automatic stop only: a fit that runs on uses them all.
    held_out = held_out_mask(target.shape[1:], config.holdout, seed) if config.holdout and config.auto_stop else None
    if observed:  # the code is the observation, its held-out pixels masked
        guide = blind_spots(target, held_out)
    guide_channels = None if guide is None else guide.shape[0]
    forwards = 1 if config.sure_sigma is None else 2  # SURE's probe runs the network again, kept for the backward

    def needed(height: int, width: int) -> int:
        padded = padded_sides((*target.shape[1:-2], height, width), multiple, minimum)
        return forwards * fit_memory(network, code_shape(chosen, [side * factor for side in padded], guide_channels),
                                     (channels, *padded))

    network = seeded_network(chosen, code_shape(chosen, (1, 1), guide_channels)[0], channels, seed)
    yx_multiple = multiple[-1] if isinstance(multiple, tuple) else multiple
    plan = plan_tiles(target.shape[-2:], None if volume else tile, needed, devices.free_memory(device), yx_multiple)
    ref = None
    if reference is not None:
        ref = torch.from_numpy(scale_volume(reference, info) if volume else scale_like(reference, info))
        expected = (channels, *(side * factor for side in target.shape[1:]))
        if tuple(ref.shape) != expected:
            raise ValueError(
                f"The reference has shape {tuple(ref.shape)} (channels first) but the output will be {expected}: "
                "pass a reference of the output's size."
            )
    if factor > 1:
        data_term = LanczosDownsample(factor, channels)
    elif known is None and data_term is None:
        data_term = Identity()

    def make_fit(box: tuple[slice, slice]) -> Fit:
        region = (slice(None),) * (target.ndim - 3) + tuple(box)  # Z (whole) for volumes, then Y and X
        padded, crop = pad_to_multiple(target[(slice(None), *region)], multiple, minimum)
        *depth, height, width = (side * factor for side in padded.shape[1:])
        out_region = tuple(slice(s.start * factor if s.start is not None else None,
                                 s.stop * factor if s.stop is not None else None) for s in region)
        out_crop = tuple(slice(s.start * factor, s.stop * factor) for s in crop)
        tile_guide = None if guide is None else pad_to_multiple(guide[(slice(None), *region)], multiple, minimum)[0]
        code = make_code(chosen, height, width, seed, tile_guide, *depth)
        term = data_term
        if term is None:  # inpainting: the known pixels of this box
            mask = pad_to_multiple(known[region][None].astype(np.float32), multiple, minimum)[0][0]
            term = Mask(torch.from_numpy(mask))
        net = seeded_network(chosen, code.shape[1], channels, seed) if plan.tiled else network
        tile_ref = None if ref is None else ref[(slice(None), *out_region)]
        held = None
        if held_out is not None:  # padded like the target, so a held-out pixel's mirror image is held out too
            held = torch.from_numpy(pad_to_multiple(held_out[region][None], multiple, minimum)[0][None])
        problem = Problem(net, code, term, torch.from_numpy(padded)[None], out_crop, tile_ref, held)
        return Fit(problem, config, device)

    if plan.tiled:
        fallback = target if factor == 1 else target.repeat(factor, axis=1).repeat(factor, axis=2)
        fit = TiledFit(make_fit, plan, config, fallback, factor)
        reason = "is too large for " + device.type if tile == "auto" else "was asked to be tiled"
        warnings.warn(f"The image {reason}: it is fitted in {plan.describe()}.", stacklevel=3)
    else:
        fit = make_fit(plan.boxes[0])
    name = ("fast" if preset == AUTO else preset) if isinstance(preset, str) else "custom"  # what "auto" ran
    settings = {"task": task, "preset": name, "device": str(device)}
    settings["memory_estimate_bytes"] = plan.memory
    settings.update(asdict(config))
    settings["threads"] = resolve_threads(config.threads)  # results depend on it: record it for replays
    settings["network"] = asdict(chosen.network)
    settings.update(plan.settings() if plan.tiled else {"tile": tile})
    if factor > 1:
        settings["factor"] = factor
    if kind is not None:
        settings["kind"] = kind
    if volume:
        settings.update(spatial_dims=3, spacing=[float(v) for v in spacing or (1.0, 1.0, 1.0)])
    return TaskRun(fit, info, finish or (lambda chw: to_array(chw, info)), settings)
