"""Task set-up: from numpy images to a ready :class:`TaskRun`, and back.

Each ``prepare_*`` function validates its inputs, picks the preset, pads the
image to a multiple of the network's down-sampling, builds the network, code
and data term, and returns a :class:`TaskRun`. Iterate ``run.steps()`` for
live progress (that is what the napari widgets do) or call ``run.run()``;
``run.result()`` converts the latest output back to the input's dtype, range
and layout at any time.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from .codes import guide_code, meshgrid_code, noise_code
from . import devices
from .devices import fit_memory, resolve_device
from .fit import Fit, FitConfig, FitResult, History, Problem, Progress, run
from .images import ImageInfo, pad_amounts, pad_to_multiple, prepare_image, restore_image, scale_like
from .networks import build_network, code_downscale
from .noise import NOISE_MODELS, PoissonLikelihood, estimate_noise
from .operators import Identity, LanczosDownsample, Mask
from .presets import Preset, resolve_preset
from .threads import resolve_threads
from .tiles import TiledFit, plan_tiles

INPAINT_KINDS = {"text": "inpaint_text", "hole": "inpaint_hole", "sparse": "inpaint_sparse"}


@dataclass
class TaskRun:
    """A prepared fit plus the conversion of its output back to the user's array."""

    fit: Fit | TiledFit
    info: ImageInfo
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
        """Map a (C, H, W) preview in [0, 1] to the input's dtype and layout."""
        return restore_image(chw, self.info)

    def result(self) -> Any:
        """The task's output for the latest state of the fit."""
        return self.finish(self.fit.result().image)

    def run(self, callback: Callable[[Progress], object] | None = None) -> tuple[Any, FitResult]:
        """Fit to the end (or until ``callback`` returns False); return output and fit result."""
        fit_result = run(self.fit, callback)
        return self.finish(fit_result.image), fit_result


def fit_config(preset: Preset, iterations: int | None, lr: float | None, seed: int, auto_stop: bool, options: dict) -> FitConfig:
    """The preset's fit settings, with the caller's values and ``options`` (FitConfig fields) on top."""
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
    """Build ``preset``'s network with weights drawn from ``seed`` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_network(preset.network, in_channels, out_channels)


def make_code(preset: Preset, height: int, width: int, seed: int, guide: np.ndarray | None) -> torch.Tensor:
    """The code z for an output of ``height`` x ``width``: the guide, a meshgrid or seeded noise."""
    if guide is not None:
        return guide_code(guide)
    if preset.code == "meshgrid":
        return meshgrid_code(height, width)
    down = code_downscale(preset.network)
    generator = torch.Generator().manual_seed(seed + 1)
    return noise_code(preset.code_channels, height // down, width // down, generator)


def padding_rule(preset: Preset, factor: int = 1) -> tuple[int, int]:
    """The (multiple, minimum side) an input must be padded to for ``preset``'s network.

    The output (``factor`` times the input) must divide by 2**depth and keep at
    least 2x2 pixels at the deepest scale, so BatchNorm has statistics.
    """
    multiple = 2**preset.network.depth
    return multiple // math.gcd(multiple, factor), -(-2 * multiple // factor)


def code_shape(preset: Preset, height: int, width: int, guide_channels: int | None) -> tuple[int, int, int]:
    """The (C', H', W') of the code :func:`make_code` makes for an output of ``height`` x ``width``."""
    if guide_channels is not None:
        return guide_channels, height, width
    if preset.code == "meshgrid":
        return 2, height, width
    down = code_downscale(preset.network)
    return preset.code_channels, height // down, width // down


def build_run(
    task: str,
    target: np.ndarray,
    info: ImageInfo,
    *,
    preset: str | Preset = "paper",
    iterations: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    device: str = "auto",
    auto_stop: bool = False,
    reference: np.ndarray | None = None,
    factor: int = 1,
    known: np.ndarray | None = None,
    guide: np.ndarray | None = None,
    finish: Callable[[np.ndarray], Any] | None = None,
    data_term: torch.nn.Module | None = None,
    tile: str | int | None = "auto",
    **options: Any,
) -> TaskRun:
    """Assemble a :class:`TaskRun` from a prepared (C, H, W) target in [0, 1].

    ``factor`` > 1 makes the output that many times larger, fitted through the
    Lanczos decimation; ``known`` (H, W) marks known pixels for a masked data
    term; ``guide`` (C', H, W) replaces the random code;
    ``data_term`` replaces the squared error of a denoising fit.

    The memory a fit needs is estimated from shapes before anything large is
    allocated. ``tile="auto"`` fits an image too large for the device in
    overlapping tiles (a warning says so), ``tile=None`` refuses it, and an
    int tiles with that side (see :mod:`napari_dip.core.tiles`).
    """
    chosen = resolve_preset(task, preset)
    config = fit_config(chosen, iterations, lr, seed, auto_stop, options)
    device = resolve_device(device)
    multiple, minimum = padding_rule(chosen, factor)
    channels = target.shape[0]
    guide_channels = None if guide is None else guide.shape[0]

    def needed(height: int, width: int) -> int:
        padded = [n + sum(pad_amounts(n, multiple, minimum)) for n in (height, width)]
        code = code_shape(chosen, padded[0] * factor, padded[1] * factor, guide_channels)
        return fit_memory(network, code, (channels, *padded))

    network = seeded_network(chosen, code_shape(chosen, 1, 1, guide_channels)[0], channels, seed)
    plan = plan_tiles(target.shape[1:], tile, needed, devices.free_memory(device), multiple)
    ref = None
    if reference is not None:
        ref = torch.from_numpy(scale_like(reference, info))
        expected = (channels, target.shape[1] * factor, target.shape[2] * factor)
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
        padded, crop = pad_to_multiple(target[:, box[0], box[1]], multiple, minimum)
        height, width = padded.shape[1] * factor, padded.shape[2] * factor
        out_box = tuple(slice(s.start * factor, s.stop * factor) for s in box)
        out_crop = tuple(slice(s.start * factor, s.stop * factor) for s in crop)
        tile_guide = None if guide is None else pad_to_multiple(guide[:, box[0], box[1]], multiple, minimum)[0]
        code = make_code(chosen, height, width, seed, tile_guide)
        term = data_term
        if term is None:  # inpainting: the known pixels of this box
            term = Mask(torch.from_numpy(pad_to_multiple(known[None, box[0], box[1]].astype(np.float32), multiple,
                                                         minimum)[0][0]))
        net = seeded_network(chosen, code.shape[1], channels, seed) if plan.tiled else network
        tile_ref = None if ref is None else ref[:, out_box[0], out_box[1]]
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
    return TaskRun(fit, info, finish or (lambda chw: restore_image(chw, info)), settings)


def prepare_denoise(
    image: np.ndarray,
    *,
    channel_axis: int | None = None,
    noise: str = "gaussian",
    gain: Any = None,
    read_noise: Any = None,
    offset: Any = None,
    **kwargs: Any,
) -> TaskRun:
    """Blind denoising (EMA of the outputs).

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
    target, info = prepare_image(image, channel_axis)
    if noise == "gaussian":
        return build_run("denoise", target, info, **kwargs)
    span = info.high - info.low
    model = estimate_noise(target * span[:, None, None] + info.low[:, None, None], gain, read_noise, offset)
    task = build_run("denoise", target, info, data_term=PoissonLikelihood(info.low, span, model), **kwargs)
    task.settings.update(noise=noise, **model.settings())
    return task


def prepare_jpeg(image: np.ndarray, *, channel_axis: int | None = None, **kwargs: Any) -> TaskRun:
    """JPEG artefact removal / blind restoration (the paper's JPEG network)."""
    target, info = prepare_image(image, channel_axis)
    return build_run("jpeg", target, info, **kwargs)


def prepare_super_resolution(
    image: np.ndarray, factor: int = 4, *, channel_axis: int | None = None, preset: str | Preset = "paper", **kwargs: Any
) -> TaskRun:
    """Super-resolution by ``factor``: the output is ``factor`` times larger per side."""
    if not isinstance(factor, (int, np.integer)) or factor < 2:
        raise ValueError(f"factor={factor!r}: super-resolution needs an integer factor of 2 or more.")
    target, info = prepare_image(image, channel_axis)
    if preset == "paper" and factor >= 8:
        preset = "sr8"
    out_shape = list(info.shape)
    for axis in [a for a in range(len(out_shape)) if a != info.channel_axis]:
        out_shape[axis] *= factor
    hr_info = ImageInfo(info.dtype, tuple(out_shape), info.channel_axis, info.low, info.high)
    return build_run("super_resolution", target, hr_info, factor=int(factor), preset=preset, **kwargs)


def known_pixels(mask: np.ndarray, info: ImageInfo) -> np.ndarray:
    """Turn a user mask (True / non-zero = missing) into a boolean (H, W) known-pixel map."""
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
    image: np.ndarray, mask: np.ndarray, *, kind: str = "text", channel_axis: int | None = None, **kwargs: Any
) -> TaskRun:
    """Inpainting: fill the pixels where ``mask`` is True (or > 0).

    ``kind`` picks the paper's case: ``"text"`` (thin strokes), ``"hole"``
    (large regions, meshgrid code) or ``"sparse"`` (most pixels missing).
    """
    if kind not in INPAINT_KINDS:
        raise ValueError(f"kind={kind!r}: choose one of {', '.join(INPAINT_KINDS)}.")
    target, info = prepare_image(image, channel_axis)
    known = known_pixels(mask, info)
    task = build_run(INPAINT_KINDS[kind], target, info, known=known, **kwargs)
    task.settings["kind"] = kind
    return task


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
    if runs < 1:
        raise ValueError(f"runs={runs}: use at least one run.")
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


def settings_to_kwargs(settings: dict) -> dict:
    """Keywords for a ``prepare_*`` function from a :attr:`TaskRun.settings` dict.

    Informational entries (task, network, memory estimate, ...) are dropped, so
    settings stored in a layer's metadata or a JSON file can be replayed.
    """
    keys = set(FitConfig.__dataclass_fields__) | set(_TASK_KEYWORDS)
    return {key: value for key, value in settings.items() if key in keys}
