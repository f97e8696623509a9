"""Task set-up: from numpy images to a ready :class:`TaskRun`, and back.

Each ``prepare_*`` function validates its inputs, picks the preset, pads the
image to a multiple of the network's down-sampling, builds the network, code
and data term, and returns a :class:`TaskRun`. Iterate ``run.steps()`` for
live progress (that is what the napari widgets do) or call ``run.run()``;
``run.result()`` converts the latest output back to the input's dtype, range
and layout at any time. With ``spatial_dims=3`` (denoise, JPEG, inpaint) a
(Z, Y, X) volume is fitted by one 3D network (see :mod:`.volumes`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from . import devices
from . import validation as check
from .codes import guide_code, meshgrid_code, noise_code, stream_seeds
from .devices import fit_memory, resolve_device
from .fit import Fit, FitConfig, FitResult, History, Problem, Progress, run
from .images import ImageInfo, pad_amounts, pad_to_multiple, prepare_image, restore_image, scale_like
from .networks import build_network, code_downscale, volume_spec
from .noise import NOISE_MODELS, PoissonLikelihood, estimate_noise
from .operators import Identity, LanczosDownsample, Mask
from .presets import INPAINT_KINDS, Preset, task_preset
from .threads import resolve_threads
from .tiles import TiledFit, plan_tiles
from .volumes import VolumeInfo, read_input, scale_volume, to_array


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
    preset: Preset, iterations: int | None, lr: float | None, seed: int | None, auto_stop: bool, options: dict
) -> FitConfig:
    """The preset's fit settings, with the caller's values and ``options`` (FitConfig fields) on top.

    Every value is checked here, before any work (ValueError naming the field);
    ``seed=None`` becomes a fresh random seed, recorded in the config.
    """
    values = dict(
        iterations=preset.iterations if iterations is None else iterations,
        lr=preset.lr if lr is None else lr,
        ema=preset.ema,
        use_ema=preset.use_ema,
        code_noise_std=preset.code_noise_std,
        seed=seed,
        auto_stop=auto_stop,
    )
    unknown = set(options) - set(FitConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"Unknown option(s) {', '.join(sorted(unknown))}: see napari_dip.FitConfig for the names.")
    values.update(options)
    return FitConfig(**values)


def seeded_network(preset: Preset, in_channels: int, out_channels: int, seed: int) -> torch.nn.Module:
    """Build ``preset``'s network with weights drawn from ``seed``'s weight stream (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(stream_seeds(seed).weights)
        return build_network(preset.network, in_channels, out_channels)


def make_code(
    preset: Preset, height: int, width: int, seed: int, guide: np.ndarray | None, depth: int | None = None
) -> torch.Tensor:
    """The code z for an output of ``height`` x ``width`` (x ``depth`` slices): the guide, a meshgrid or noise
    from ``seed``'s code stream."""
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
    """The sides :func:`~.images.pad_to_multiple` pads ``sides`` to."""
    multiples = multiple if isinstance(multiple, tuple) else (multiple,) * len(sides)
    minimums = minimum if isinstance(minimum, tuple) else (minimum,) * len(sides)
    return [n + sum(pad_amounts(n, m, k)) for n, m, k in zip(sides, multiples, minimums, strict=True)]


def build_run(
    task: str,
    target: np.ndarray,
    info: ImageInfo,
    *,
    preset: str | Preset = "paper",
    iterations: int | None = None,
    lr: float | None = None,
    seed: int | None = 0,
    device: str = "auto",
    auto_stop: bool = False,
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
    ``kind`` pick the preset's case (:func:`~.presets.task_preset`). A
    (C, Z, Y, X) target (from ``spatial_dims=3``) is fitted by the preset's
    net in 3D, for voxels of size ``spacing`` (Z, Y, X; default isotropic).

    Every setting is checked, and the memory a fit needs is estimated from
    shapes, before anything large is allocated. ``tile="auto"`` fits an image
    too large for the device in overlapping tiles (a warning says so),
    ``tile=None`` refuses it, and an int tiles with that side (see
    :mod:`napari_dip.core.tiles`); volumes are never tiled.
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
    if volume:
        if guide is not None or chosen.code != "noise":
            raise ValueError(f"3D fits use a noise code, not a {chosen.code} code: pick a preset with a noise code.")
        chosen = replace(chosen, network=volume_spec(chosen.network, target.shape[1], spacing or (1.0, 1.0, 1.0)))
    config = fit_config(chosen, iterations, lr, seed, auto_stop, options)
    seed = config.seed
    check.device_name(device)
    device = resolve_device(device)
    multiple, minimum = padding_rule(chosen, factor)
    channels = target.shape[0]
    guide_channels = None if guide is None else guide.shape[0]

    def needed(height: int, width: int) -> int:
        padded = padded_sides((*target.shape[1:-2], height, width), multiple, minimum)
        return fit_memory(network, code_shape(chosen, [side * factor for side in padded], guide_channels),
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
        return Fit(Problem(net, code, term, torch.from_numpy(padded)[None], out_crop, tile_ref), config, device)

    if plan.tiled:
        fallback = target if factor == 1 else target.repeat(factor, axis=1).repeat(factor, axis=2)
        fit = TiledFit(make_fit, plan, config, fallback, factor)
        reason = "is too large for " + device.type if tile == "auto" else "was asked to be tiled"
        warnings.warn(f"The image {reason}: it is fitted in {plan.describe()}.", stacklevel=3)
    else:
        fit = make_fit(plan.boxes[0])
    settings = {"task": task, "preset": preset if isinstance(preset, str) else "custom", "device": str(device)}
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


def prepare_denoise(
    image: np.ndarray,
    *,
    channel_axis: int | None = None,
    spatial_dims: int = 2,
    noise: str = "gaussian",
    gain: Any = None,
    read_noise: Any = None,
    offset: Any = None,
    **kwargs: Any,
) -> TaskRun:
    """Blind denoising (EMA of the outputs); ``spatial_dims=3`` for a volume.

    ``noise="gaussian"`` fits the squared error; ``noise="poisson"`` the
    Poisson-Gaussian likelihood of photon-limited data, with the camera's
    ``gain`` (intensity per photon), ``read_noise`` (standard deviation) and
    ``offset`` (dark level) in the image's units, estimated from the image
    when not given (see :mod:`napari_dip.core.noise`).
    """
    if noise not in NOISE_MODELS:
        raise ValueError(f"noise={noise!r}: choose 'gaussian' or 'poisson' (photon-limited images).")
    if noise == "gaussian" and any(v is not None for v in (gain, read_noise, offset)):
        raise ValueError("gain, read_noise and offset describe photon noise: pass noise='poisson' with them.")
    target, info = read_input(image, channel_axis, spatial_dims)
    if noise == "gaussian":
        return build_run("denoise", target, info, spatial_dims=spatial_dims, **kwargs)
    span = info.high - info.low
    flat = target.reshape(target.shape[0], -1, target.shape[-1])  # a volume's slices one above the other
    model = estimate_noise(flat * span[:, None, None] + info.low[:, None, None], gain, read_noise, offset)
    likelihood = PoissonLikelihood(info.low, span, model, dims=spatial_dims)
    task = build_run("denoise", target, info, data_term=likelihood, spatial_dims=spatial_dims, **kwargs)
    task.settings.update(noise=noise, **model.settings())
    return task


def prepare_jpeg(
    image: np.ndarray, *, channel_axis: int | None = None, spatial_dims: int = 2, **kwargs: Any
) -> TaskRun:
    """JPEG artefact removal / blind restoration (the paper's JPEG network); ``spatial_dims=3`` for a volume."""
    target, info = read_input(image, channel_axis, spatial_dims)
    return build_run("jpeg", target, info, spatial_dims=spatial_dims, **kwargs)


def prepare_super_resolution(
    image: np.ndarray, factor: int = 4, *, channel_axis: int | None = None, preset: str | Preset = "paper", **kwargs: Any
) -> TaskRun:
    """Super-resolution by ``factor``: the output is ``factor`` times larger per side (x8 and up: the x8 case)."""
    factor = check.whole_number("factor", factor, 2, why="super-resolution needs")
    target, info = prepare_image(image, channel_axis)
    out_shape = list(info.shape)
    for axis in [a for a in range(len(out_shape)) if a != info.channel_axis]:
        out_shape[axis] *= factor
    hr_info = ImageInfo(info.dtype, tuple(out_shape), info.channel_axis, info.low, info.high)
    return build_run("super_resolution", target, hr_info, factor=factor, preset=preset, **kwargs)


def known_pixels(mask: np.ndarray, info: ImageInfo | VolumeInfo) -> np.ndarray:
    """Turn a user mask (True / non-zero = missing) into a boolean (H, W) (or (Z, Y, X)) known-pixel map."""
    mask = np.asarray(mask)
    spatial = tuple(s for a, s in enumerate(info.shape) if a != info.channel_axis)
    if mask.shape == info.shape and info.channel_axis is not None:
        mask = np.any(mask, axis=info.channel_axis)
    if mask.shape != spatial:
        raise ValueError(
            f"The mask has shape {mask.shape} but the image's pixels are {spatial}: "
            "draw the mask on a layer of the image's size."
        )
    missing = mask != 0
    if missing.all():
        raise ValueError("The mask covers every pixel: leave some pixels known (unmasked) to restore from.")
    if not missing.any():
        raise ValueError("The mask is empty: mark the pixels to fill (True / label > 0) first.")
    return ~missing


def prepare_inpaint(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    kind: str = "text",
    channel_axis: int | None = None,
    spatial_dims: int = 2,
    **kwargs: Any,
) -> TaskRun:
    """Inpainting: fill the pixels where ``mask`` is True (or > 0).

    ``kind`` picks the paper's case: ``"text"`` (thin strokes), ``"hole"``
    (large regions, meshgrid code; 2D only) or ``"sparse"`` (most pixels
    missing). With ``spatial_dims=3`` image and mask are volumes.
    """
    check.choice("kind", kind, INPAINT_KINDS)
    target, info = read_input(image, channel_axis, spatial_dims)
    known = known_pixels(mask, info)
    return build_run(INPAINT_KINDS[kind], target, info, known=known, kind=kind, spatial_dims=spatial_dims, **kwargs)


def prepare_enhance(image: np.ndarray, *, channel_axis: int | None = None, **kwargs: Any) -> TaskRun:
    """Detail enhancement: result is (coarse, fine, enhanced) with x_e = x0 + (x0 - x_c)."""
    target, info = prepare_image(image, channel_axis)

    def finish(coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fine = target - coarse
        span = (info.high - info.low)[:, None, None]
        fine_values = fine * span
        fine_out = fine_values[0] if info.channel_axis is None else np.moveaxis(fine_values, 0, info.channel_axis)
        return restore_image(coarse, info), fine_out.astype(np.float32), restore_image(target + fine, info)

    return build_run("enhance", target, info, finish=finish, **kwargs)


def prepare_flash(
    no_flash: np.ndarray, flash: np.ndarray, *, channel_axis: int | None = None, **kwargs: Any
) -> TaskRun:
    """Flash / no-flash: fit the no-flash image with the flash image as the code."""
    target, info = prepare_image(no_flash, channel_axis, name="no-flash image")
    guide, _ = prepare_image(flash, channel_axis, name="flash image")
    if guide.shape[1:] != target.shape[1:]:
        raise ValueError(
            f"The flash image is {guide.shape[1]}x{guide.shape[2]} but the no-flash image is "
            f"{target.shape[1]}x{target.shape[2]}: pass an aligned pair of the same size."
        )
    return build_run("flash", target, info, guide=guide, **kwargs)


def average_runs(
    runs: int, make_run: Callable[[int], TaskRun], callback: Callable[[Progress], object] | None = None
) -> tuple[Any, History]:
    """Fit ``make_run(k)`` for k = 0 .. runs - 1 and average their images, as the paper does.

    Returns the task's output for the mean image and the last fit's history.
    """
    check.positive_whole("runs", runs)
    check.callback(callback)
    images = []
    for k in range(runs):
        task = make_run(k)
        fit_result = run(task.fit, callback)
        images.append(fit_result.image)
    return task.finish(np.mean(images, axis=0)), fit_result.history


#: The restoration tasks by name (as used by the widgets and the command line).
TASKS: dict[str, Callable[..., TaskRun]] = {
    "denoise": prepare_denoise,
    "jpeg": prepare_jpeg,
    "super_resolution": prepare_super_resolution,
    "inpaint": prepare_inpaint,
    "enhance": prepare_enhance,
    "flash": prepare_flash,
}

#: Settings keys that are keywords of the ``prepare_*`` functions besides FitConfig's fields.
_TASK_KEYWORDS = ("preset", "device", "factor", "kind", "noise", "gain", "read_noise", "offset", "tile")
#: Settings keys that only record how a result was made (dropped when settings are replayed).
RECORDED_KEYS = ("task", "network", "memory_estimate_bytes")


def settings_to_kwargs(settings: dict) -> dict:
    """Keywords for a ``prepare_*`` function from a :attr:`TaskRun.settings` dict.

    Informational entries (task, network, memory estimate, ...) are dropped, so
    settings stored in a layer's metadata or a JSON file can be replayed.
    """
    keys = set(FitConfig.__dataclass_fields__) | set(_TASK_KEYWORDS)
    return {key: value for key, value in settings.items() if key in keys}
