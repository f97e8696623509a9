"""Assembling one fit: settings, device, reference, memory plan and the fit of each box, as a :class:`TaskRun`.

:func:`build_run` turns a prepared (C, H, W) or (C, Z, Y, X) target in
[0, 1] and a :class:`~napari_dip.core.tasks.preset_choice.PresetChoice` into a
:class:`TaskRun`; the ``prepare_*`` functions of :mod:`.prepare` read the
user's arrays, choose the preset and call it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from napari_dip.core import validation as check
from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.loop import Fit, run
from napari_dip.core.fitting.records import FitResult, History, Problem, Progress
from napari_dip.core.fitting.regions import RegionFit, RegionPlan, plan_regions
from napari_dip.core.fitting.tiles import MEMORY_SHARE, TiledFit, TilePlan, plan_tiles
from napari_dip.core.inputs.images import ImageInfo, pad_to_multiple, scale_like
from napari_dip.core.inputs.volumes import VolumeInfo, scale_volume, to_array
from napari_dip.core.model.codes import blind_spots, held_out_mask
from napari_dip.core.model.networks import volume_spec
from napari_dip.core.physics.losses import data_term
from napari_dip.core.physics.noise import AnscombeUnits
from napari_dip.core.runtime import devices
from napari_dip.core.tasks.pieces import code_shape, fit_config, make_code, padded_sides, padding_rule, seeded_network
from napari_dip.core.tasks.preset_choice import PresetChoice

Box = tuple[slice, ...]


@dataclass
class TaskRun:
    """A prepared fit plus the conversion of its output back to the user's array."""

    fit: Fit | TiledFit | RegionFit
    info: ImageInfo | VolumeInfo
    finish: Callable[[np.ndarray], Any] | None = None  # None: :meth:`to_image`
    settings: dict = field(default_factory=dict)
    held_out: np.ndarray | None = None  # the (spatial) pixels the automatic stop holds out of the fit
    units: AnscombeUnits | None = None  # the fit's units when they are not the image's [0, 1] scale
    code: str = "noise"  # the network's input (the preset's code: "noise", "meshgrid", "guide", "observation")
    window: Any = None  # the stack slices fitted together (:class:`napari_dip.core.tasks.windows.Window`)
    keep: Callable[[np.ndarray], np.ndarray] | None = None  # the user's slice of an output fitted with its neighbours

    def __post_init__(self) -> None:
        if self.finish is None:
            self.finish = self.to_image

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
        """Map a (C, H, W) (or (C, Z, Y, X)) preview of the fit to the input's dtype and layout."""
        image = to_array(chw if self.units is None else self.units.inverse(chw), self.info)
        return image if self.keep is None else self.keep(image)

    def result(self) -> Any:
        """The task's output for the latest state of the fit."""
        return self.finish(self.fit.result().image)

    def run(self, callback: Callable[[Progress], object] | None = None) -> tuple[Any, FitResult]:
        """Fit to the end (or until ``callback`` returns False); return output and fit result."""
        fit_result = run(self.fit, callback)
        return self.finish(fit_result.image), fit_result


@dataclass
class FitMaker:
    """What every fit of one image shares; :meth:`fit` makes the fit of one box of it (the whole image, or a
    tile). Inputs are (C, [Z,] H, W) arrays in [0, 1]; ``known`` and ``held_out`` are spatial masks."""

    settings: Any  # the chosen Preset
    config: FitConfig
    device: torch.device
    target: np.ndarray
    factor: int = 1
    known: np.ndarray | None = None
    guide: np.ndarray | None = None
    likelihood: nn.Module | None = None
    reference: torch.Tensor | None = None
    held_out: np.ndarray | None = None
    network: nn.Module | None = None  # shared by the fit of a whole image; tiles get their own

    def pad(self, array: np.ndarray) -> tuple[np.ndarray, tuple[slice, ...]]:
        """``array`` (C, ...) reflection-padded for the network, and the slices that crop it back."""
        return pad_to_multiple(array, *padding_rule(self.settings, self.factor))

    def fit(self, box: Box) -> Fit:
        """The fit of the target's ``box`` (Y and X slices; a volume's Z is always whole)."""
        region = (slice(None),) * (self.target.ndim - 3) + tuple(box)
        padded, crop = self.pad(self.target[(slice(None), *region)])
        *depth, height, width = (side * self.factor for side in padded.shape[1:])
        guide = None if self.guide is None else self.pad(self.guide[(slice(None), *region)])[0]
        code = make_code(self.settings, height, width, self.config.seed, guide, *depth)
        known = None if self.known is None else self.pad(self.known[region][None].astype(np.float32))[0][0]
        term = data_term(self.target.shape[0], factor=self.factor, known=known, likelihood=self.likelihood)
        network = self.network or seeded_network(self.settings, code.shape[1], self.target.shape[0], self.config.seed)
        reference = None if self.reference is None else self.reference[(slice(None), *self._scaled(region))]
        held = None
        if self.held_out is not None:  # padded like the target, so a held-out pixel's mirror image is held out too
            held = torch.from_numpy(self.pad(self.held_out[region][None])[0][None])
        out_crop = tuple(slice(s.start * self.factor, s.stop * self.factor) for s in crop)
        problem = Problem(network, code, term, torch.from_numpy(padded)[None], out_crop, reference, held)
        return Fit(problem, self.config, self.device)

    def _scaled(self, region: Box) -> Box:
        """``region`` of the input in output pixels."""
        return tuple(slice(None if s.start is None else s.start * self.factor,
                           None if s.stop is None else s.stop * self.factor) for s in region)


def _check_layout(task: str, target: np.ndarray, spatial_dims: int, spacing: Any, tile: Any) -> None:
    """Refuse settings that do not fit a 2D image or a volume."""
    volume = target.ndim == 4
    if spatial_dims != target.ndim - 1:
        raise ValueError(f"spatial_dims={spatial_dims!r}: the {task} task restores 2D images only; restore a volume "
                         "slice by slice with stack_axis=0.")
    if spacing is not None and not volume:
        raise ValueError(f"spacing={spacing!r} is the voxel size of a volume: pass it with spatial_dims=3.")
    if volume and tile not in ("auto", None):
        raise ValueError(f"tile={tile!r}: tiles are for 2D images; crop a large volume or restore it slice by slice "
                         "with stack_axis=0.")


def _config(choice: PresetChoice, device: torch.device, dims: int, iterations: int | None, lr: float | None,
            seed: int | None, auto_stop: bool | None, options: dict) -> FitConfig:
    """The fit's settings: the preset's, the caller's on top, precision and memory layout resolved for ``device``."""
    config = fit_config(choice.settings, iterations, lr, seed, auto_stop, options)
    if config.sure_sigma is not None and choice.settings.code != "observation":
        raise ValueError(f"sure_sigma={config.sure_sigma!r} needs the noisy image as the network's input: use "
                         "preset='sure', or leave sure_sigma out.")
    return replace(config, precision=devices.resolve_precision(config.precision, device, dims),
                   memory_format=devices.resolve_memory_format(config.memory_format, device, dims))


def _reference(reference: np.ndarray | None, info: ImageInfo | VolumeInfo, target: np.ndarray,
               factor: int, units: AnscombeUnits | None = None) -> torch.Tensor | None:
    """The clean reference in the fit's scale (``units``, else [0, 1]), checked against the output's shape."""
    if reference is None:
        return None
    volume = target.ndim == 4
    scaled = scale_volume(reference, info) if volume else scale_like(reference, info)
    ref = torch.from_numpy(scaled if units is None else units.forward(scaled))
    expected = (target.shape[0], *(side * factor for side in target.shape[1:]))
    if tuple(ref.shape) != expected:
        raise ValueError(f"The reference has shape {tuple(ref.shape)} (channels first) but the output will be "
                         f"{expected}: pass a reference of the output's size.")
    return ref


def _plan(maker: FitMaker, tile: Any, forwards: int, shape: tuple[int, int] | None = None) -> TilePlan:
    """One piece or tiles for the target (or for a ``shape`` (H, W) box of it), from the memory a fit of each size
    would need on the device (shapes only)."""
    settings, target, factor = maker.settings, maker.target, maker.factor
    multiple, minimum = padding_rule(settings, factor)
    guide_channels = None if maker.guide is None else maker.guide.shape[0]

    def needed(height: int, width: int) -> int:
        padded = padded_sides((*target.shape[1:-2], height, width), multiple, minimum)
        code = code_shape(settings, [side * factor for side in padded], guide_channels)
        return forwards * devices.fit_memory(maker.network, code, (target.shape[0], *padded))

    shape = shape or target.shape[-2:]
    free = devices.free_memory(maker.device)
    if target.ndim == 4:  # volumes are never tiled
        whole = needed(*shape)
        if free is not None and whole > free * MEMORY_SHARE:
            gib = 2**30
            raise ValueError(f"This volume's fit needs about {whole / gib:.1f} GiB but the device has "
                             f"{free / gib:.1f} GiB free: crop the volume, restore it slice by slice with "
                             "stack_axis=0, or use a device with more memory.")
        tile = None
    return plan_tiles(shape, tile, needed, free, yx_multiple(settings, factor))


def yx_multiple(settings: Any, factor: int) -> int:
    """The multiple the network needs of an image's height and width."""
    multiple = padding_rule(settings, factor)[0]
    return multiple[-1] if isinstance(multiple, tuple) else multiple


def _regions(maker: FitMaker, tile: Any, forwards: int) -> tuple[TilePlan, RegionPlan] | None:
    """The boxes around the mask to fit, when the largest fits the device in one piece (else None)."""
    if tile not in ("auto", None):  # tiles asked for
        return None
    missing = ~maker.known
    regions = plan_regions(missing.any(axis=0) if missing.ndim == 3 else missing,
                           yx_multiple(maker.settings, maker.factor))
    sides = max((tuple(part.stop - part.start for part in box) for box in regions.boxes), key=np.prod)
    plan = _plan(maker, "auto", forwards, sides)
    return None if plan.tiled else (plan, regions)


def _fit(maker: FitMaker, tile: Any, region: str | None, forwards: int) -> tuple[Fit | TiledFit, TilePlan]:
    """The fit of the image: around its mask, whole, or in tiles; and the memory plan of one piece."""
    regions = _regions(maker, tile, forwards) if region == "mask" else None
    if regions is not None:
        plan, boxes = regions
        maker.network = None  # every box starts from a network of its own
        return RegionFit(maker.fit, boxes, maker.config, maker.target, ~maker.known), plan
    plan = _plan(maker, tile, forwards)
    if not plan.tiled:
        return maker.fit(plan.boxes[0]), plan
    maker.network = None  # every tile starts from a network of its own
    factor, target = maker.factor, maker.target
    fallback = target if factor == 1 else target.repeat(factor, axis=1).repeat(factor, axis=2)
    reason = "is too large for " + maker.device.type if tile == "auto" else "was asked to be tiled"
    warnings.warn(f"The image {reason}: it is fitted in {plan.describe()}.", stacklevel=4)
    return TiledFit(maker.fit, plan, maker.config, fallback, factor), plan


def _settings(task: str, choice: PresetChoice, maker: FitMaker, plan: TilePlan, tile: Any, kind: str | None,
              spacing: Sequence[float] | None) -> dict:
    """What the run records: every setting a replay needs, and how it was made (:mod:`.settings`)."""
    settings = {"task": task, "preset": choice.name, "device": str(maker.device),
                "memory_estimate_bytes": plan.memory, **asdict(maker.config),
                "network": asdict(maker.settings.network)}
    settings.update(plan.settings() if plan.tiled else {"tile": tile})
    if choice.reason is not None:
        settings["auto_preset"] = choice.reason
    if maker.factor > 1:
        settings["factor"] = maker.factor
    if kind is not None:
        settings["kind"] = kind
    if maker.target.ndim == 4:
        settings.update(spatial_dims=3, spacing=[float(v) for v in spacing or (1.0, 1.0, 1.0)])
    return settings


def build_run(
    task: str,
    target: np.ndarray,
    info: ImageInfo | VolumeInfo,
    choice: PresetChoice,
    *,
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
    likelihood: nn.Module | None = None,
    spatial_dims: int = 2,
    spacing: Sequence[float] | None = None,
    tile: str | int | None = "auto",
    region: str | None = None,
    units: AnscombeUnits | None = None,
    hold_out: Callable[[float, int], np.ndarray] | None = None,
    **options: Any,
) -> TaskRun:
    """Assemble a :class:`TaskRun` from a prepared (C, H, W) target in [0, 1] and the chosen preset.

    ``factor`` > 1 makes the output that many times larger, fitted through the
    Lanczos decimation; ``known`` (H, W) marks known pixels for a masked data
    term; ``guide`` (C', H, W) replaces the random code; ``likelihood``
    replaces the squared error of a denoising fit. A (C, Z, Y, X) target (from
    ``spatial_dims=3``) is fitted by the preset's net in 3D, for voxels of
    size ``spacing`` (Z, Y, X; default isotropic).

    Every setting is checked, and the memory a fit needs is estimated from
    shapes, before anything large is allocated. ``tile="auto"`` fits an image
    too large for the device in overlapping tiles (a warning says so),
    ``tile=None`` refuses it, and an int tiles with that side
    (:mod:`napari_dip.core.fitting.tiles`); volumes are never tiled.
    An inpainting's ``region="mask"`` fits boxes around the mask and changes
    only the pixels to fill (:mod:`napari_dip.core.fitting.regions`),
    ``"whole"`` the whole image. ``units`` say what the target's values are when they are not the image's [0, 1]
    scale (a denoising of photon noise fitted on its Anscombe transform): the reference is mapped to them and
    previews back from them. ``hold_out(share, seed)`` makes the (spatial) mask of the pixels the automatic
    stop holds out when the config holds ``share`` of them out (default: that share drawn at random).
    """
    _check_layout(task, target, spatial_dims, spacing, tile)
    if target.ndim == 4:
        choice = replace(choice, settings=replace(
            choice.settings, network=volume_spec(choice.settings.network, target.shape[1], spacing or (1.0,) * 3)))
    check.device_name(device)
    resolved = devices.resolve_device(device)
    config = _config(choice, resolved, target.ndim - 1, iterations, lr, seed, auto_stop, options)
    # Pixels are held out for the automatic stop only: a fit that runs on uses them all.
    held_out = ((hold_out or partial(held_out_mask, target.shape[1:]))(config.holdout, config.seed)
                if config.holdout and config.auto_stop else None)
    if choice.settings.code == "observation":  # the code is the observation, its held-out pixels masked
        guide = blind_spots(target, held_out)
    maker = FitMaker(choice.settings, config, resolved, target, factor, known, guide, likelihood,
                     _reference(reference, info, target, factor, units), held_out)
    in_channels = code_shape(choice.settings, (1, 1), None if guide is None else guide.shape[0])[0]
    maker.network = seeded_network(choice.settings, in_channels, target.shape[0], config.seed)
    fit, plan = _fit(maker, tile, region, 1 if config.sure_sigma is None else 2)  # SURE's probe runs it again
    settings = _settings(task, choice, maker, plan, tile, kind, spacing)
    if region is not None:  # an inpainting: what it fitted
        around = isinstance(fit, RegionFit)
        settings.update(fit.plan.settings() if around else {}, region="mask" if around else "whole")
    return TaskRun(fit, info, finish, settings, held_out, units, choice.settings.code)
