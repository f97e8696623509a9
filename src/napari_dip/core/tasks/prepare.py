"""Task set-up: from numpy images to a ready :class:`TaskRun`, and back.

Each ``prepare_*`` function validates its inputs, picks the preset, pads the
image to a multiple of the network's down-sampling, builds the network, code
and data term, and returns a :class:`TaskRun`. Iterate ``run.steps()`` for
live progress (that is what the napari widgets do) or call ``run.run()``;
``run.result()`` converts the latest output back to the input's dtype, range
and layout at any time (:mod:`napari_dip.core.tasks.build` builds the fit). With ``spatial_dims=3`` (denoise, JPEG, inpaint) a
(Z, Y, X) volume is fitted by one 3D network (see :mod:`napari_dip.core.inputs.volumes`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from napari_dip.core import validation as check
from napari_dip.core.tasks.build import TaskRun, build_run
from napari_dip.core.tasks.auto_preset import AUTO, denoise_choice
from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.loop import History, Progress, run
from napari_dip.core.inputs.images import ImageInfo, prepare_image, restore_image
from napari_dip.core.physics.noise import NOISE_MODELS, PoissonLikelihood, estimate_noise, gaussian_noise_variance
from napari_dip.core.tasks.presets import DEFAULT_PRESET, INPAINT_KINDS, Preset, task_preset
from napari_dip.core.inputs.noise_checks import sure_caveat
from napari_dip.core.inputs.volumes import VolumeInfo, read_input


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

    ``preset="auto"`` (the default) picks ``"sure"`` or ``"fast"`` for the
    image (:func:`~napari_dip.core.tasks.auto_preset.denoise_choice`); the settings record the
    choice as ``preset`` and why as ``auto_preset``.

    ``noise="gaussian"`` fits the squared error; ``noise="poisson"`` the
    Poisson-Gaussian likelihood of photon-limited data, with the camera's
    ``gain`` (intensity per photon), ``read_noise`` (standard deviation) and
    ``offset`` (dark level) in the image's units, estimated from the image
    when not given (see :mod:`napari_dip.core.physics.noise`). With Gaussian noise,
    ``stop_loss="auto"`` lets the automatic stop also end the fit once the
    returned image's squared error falls to the noise variance estimated from
    the image (the discrepancy principle; a number gives the variance).
    """
    if noise not in NOISE_MODELS:
        raise ValueError(f"noise={noise!r}: choose 'gaussian' or 'poisson' (photon-limited images).")
    if noise == "gaussian" and any(v is not None for v in (gain, read_noise, offset)):
        raise ValueError("gain, read_noise and offset describe photon noise: pass noise='poisson' with them.")
    target, info = read_input(image, channel_axis, spatial_dims)
    choice = None
    if kwargs.get("preset", DEFAULT_PRESET) == AUTO:
        kwargs["preset"], choice = denoise_choice(target, spatial_dims=spatial_dims, noise=noise, options=kwargs,
                                                  dtype=info.dtype)
    chosen = task_preset("denoise", preset=kwargs.get("preset", DEFAULT_PRESET))
    rooted = noise == "poisson" and kwargs.get("root_loss", chosen.root_loss)
    if rooted:  # the root of the Poisson deviance (per photon) dwarfs a TV weight set for the RMS error of [0, 1] images
        raise ValueError(
            "noise='poisson' cannot fit the root of the data term (root_loss, which preset='drp' uses): its TV weight "
            "is set for the RMS error of Gaussian noise, and the fit keeps the photon noise. Use preset='fast' (what "
            "the default picks here) or 'paper' with noise='poisson', or noise='gaussian'."
        )
    if noise == "poisson" and chosen.code == "observation":
        raise ValueError("noise='poisson': the preset fits Stein's risk estimate of images with Gaussian noise only. "
                         "Use preset='fast' (what the default picks here) or 'paper' with noise='poisson'.")
    if noise == "gaussian" and kwargs.get("sure_sigma", chosen.sure_sigma) == "auto":
        # Stein's risk estimate needs the noise level: estimated from the image, recorded for replays.
        kwargs["sure_sigma"] = math.sqrt(gaussian_noise_variance(target))
    if chosen.code == "observation" and spatial_dims == 2:  # (3D is refused below)
        caveat = sure_caveat(target)
        if caveat is not None:
            warnings.warn(caveat, stacklevel=2)
    if noise == "gaussian" and kwargs.get("stop_loss") != "auto":
        task = build_run("denoise", target, info, spatial_dims=spatial_dims, **kwargs)
    elif noise == "gaussian":
        # The automatic stop also ends the fit once the returned image's squared error is down to the noise's variance.
        variance = gaussian_noise_variance(target)
        task = build_run("denoise", target, info, spatial_dims=spatial_dims, **{**kwargs, "stop_loss": variance})
        task.settings.update(stop_loss="auto", noise_variance=variance)  # a replay estimates its own image's noise
    else:
        span = info.high - info.low
        flat = target.reshape(target.shape[0], -1, target.shape[-1])  # a volume's slices one above the other
        model = estimate_noise(flat * span[:, None, None] + info.low[:, None, None], gain, read_noise, offset)
        likelihood = PoissonLikelihood(info.low, span, model, dims=spatial_dims)
        task = build_run("denoise", target, info, data_term=likelihood, spatial_dims=spatial_dims, **kwargs)
        task.settings.update(noise=noise, **model.settings())
    if choice is not None:  # "preset" holds the choice, so a replay fits the same way
        task.settings["auto_preset"] = choice
    return task


def prepare_jpeg(
    image: np.ndarray, *, channel_axis: int | None = None, spatial_dims: int = 2, **kwargs: Any
) -> TaskRun:
    """JPEG artefact removal / blind restoration (the paper's JPEG network); ``spatial_dims=3`` for a volume."""
    target, info = read_input(image, channel_axis, spatial_dims)
    return build_run("jpeg", target, info, spatial_dims=spatial_dims, **kwargs)


def prepare_super_resolution(
    image: np.ndarray, factor: int = 4, *, channel_axis: int | None = None, preset: str | Preset = DEFAULT_PRESET, **kwargs: Any
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
RECORDED_KEYS = ("task", "network", "memory_estimate_bytes", "noise_variance", "auto_preset")


def settings_to_kwargs(settings: dict) -> dict:
    """Keywords for a ``prepare_*`` function from a :attr:`TaskRun.settings` dict.

    Informational entries (task, network, memory estimate, ...) are dropped, so
    settings stored in a layer's metadata or a JSON file can be replayed.
    """
    keys = set(FitConfig.__dataclass_fields__) | set(_TASK_KEYWORDS)
    return {key: value for key, value in settings.items() if key in keys}
