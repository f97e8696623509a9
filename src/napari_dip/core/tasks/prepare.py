"""Task set-up: from numpy images to a ready :class:`~napari_dip.core.tasks.build.TaskRun`, and back.

Each ``prepare_*`` function validates its inputs, chooses the preset
(:func:`~napari_dip.core.tasks.preset_choice.choose_preset`), and hands the
prepared target to :func:`~napari_dip.core.tasks.build.build_run`. Iterate
``run.steps()`` for live progress (that is what the napari widgets do) or call
``run.run()``; ``run.result()`` converts the latest output back to the input's
dtype, range and layout at any time. With ``spatial_dims=3`` (denoise, JPEG,
inpaint) a (Z, Y, X) volume is fitted by one 3D network
(:mod:`napari_dip.core.inputs.volumes`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from napari_dip.core import validation as check
from napari_dip.core.extras.classic_blend import ClassicBlend, check_classic
from napari_dip.core.extras.fill_blend import AUTO_FILL, CLASSIC_FILLS, FillBlend, check_fill_classic
from napari_dip.core.fitting.loop import run
from napari_dip.core.fitting.records import History, Progress
from napari_dip.core.fitting.regions import REGIONS, RegionFit
from napari_dip.core.inputs.images import ImageInfo, prepare_image, restore_image
from napari_dip.core.inputs.masks import known_pixels, stroke_holdout
from napari_dip.core.inputs.noise_checks import sure_caveat
from napari_dip.core.inputs.noise_level import estimate_noise, gaussian_noise_variance
from napari_dip.core.inputs.volumes import check_spatial_dims, read_input, with_output_dtype
from napari_dip.core.model.codes import held_out_mask
from napari_dip.core.physics.noise import NOISE_MODELS, AnscombeUnits, PoissonLikelihood
from napari_dip.core.physics.operators import back_project
from napari_dip.core.tasks.build import TaskRun, build_run
from napari_dip.core.tasks.preset_choice import choose_preset
from napari_dip.core.tasks.presets import DEFAULT_PRESET, INPAINT_KINDS, Preset


def _noise_options(noise: str, gain: Any, read_noise: Any, offset: Any) -> None:
    """Refuse a noise model that does not exist, and photon-noise values given for Gaussian noise."""
    check.choice("noise", noise, NOISE_MODELS)
    if noise == "gaussian" and any(v is not None for v in (gain, read_noise, offset)):
        raise ValueError("gain, read_noise and offset describe photon noise: pass noise='poisson' with them.")


def _gaussian_options(target: np.ndarray, settings: Preset, kwargs: dict) -> tuple[dict, dict]:
    """Keywords the Gaussian noise level sets: Stein's ``sure_sigma`` and the noise-level stop (``stop_loss``), with
    the entries the settings then record."""
    options, recorded = {}, {}
    if kwargs.get("sure_sigma", settings.sure_sigma) == "auto":  # estimated from the image, recorded for replays
        options["sure_sigma"] = math.sqrt(gaussian_noise_variance(target))
        if options["sure_sigma"] == 0:
            raise ValueError("The image shows no noise (its noise level estimates to 0), and preset='sure' fits the "
                             "noise it estimates: use preset='fast', or give the noise level as sure_sigma=.")
    if kwargs.get("stop_loss") == "auto":  # the returned image's squared error falls to the noise variance
        variance = gaussian_noise_variance(target)
        options["stop_loss"], recorded = variance, {"stop_loss": "auto", "noise_variance": variance}
    return options, recorded


def prepare_denoise(
    image: np.ndarray,
    *,
    channel_axis: int | None = None,
    spatial_dims: int = 2,
    noise: str = "gaussian",
    gain: Any = None,
    read_noise: Any = None,
    offset: Any = None,
    preset: str | Preset = DEFAULT_PRESET,
    classic: str | None = None,
    output_dtype: str = "input",
    **kwargs: Any,
) -> TaskRun:
    """Blind denoising (EMA of the outputs); ``spatial_dims=3`` for a volume.

    ``preset="auto"`` (the default) picks ``"sure"`` or ``"fast"`` for the
    image (:func:`~napari_dip.core.tasks.preset_choice.denoise_choice`); the
    settings record the choice as ``preset`` and why as ``auto_preset``.

    ``noise="gaussian"`` fits the squared error; ``noise="poisson"`` the
    Poisson-Gaussian likelihood of photon-limited data, with the camera's
    ``gain`` (intensity per photon), ``read_noise`` (standard deviation) and
    ``offset`` (dark level) in the image's units, estimated from the image
    when not given (:mod:`napari_dip.core.inputs.noise_level`). With Gaussian
    noise, ``stop_loss="auto"`` lets the automatic stop also end the fit once
    the returned image's squared error falls to the noise variance estimated
    from the image (the discrepancy principle; a number gives the variance).

    ``classic="bm3d"`` (the optional ``bm3d`` package) fits ``preset="sure"``
    and averages its result with BM3D's, the DIP share chosen from the
    held-out pixels (:mod:`napari_dip.core.extras.classic_blend`); the
    settings record the share as ``classic_share``. With photon noise both
    (and ``preset="sure"`` alone) work on the generalised Anscombe transform
    of the image, where the noise is Gaussian
    (:class:`~napari_dip.core.physics.noise.AnscombeUnits`), and the result
    comes back through the exact unbiased inverse.

    The result has the input's dtype; ``output_dtype="float32"`` keeps an
    integer image's estimate unrounded (in the same units), which matters for
    dim images of a few counts.
    """
    _noise_options(noise, gain, read_noise, offset)
    check_spatial_dims("denoise", spatial_dims)
    check_classic(classic)
    target, info = read_input(image, channel_axis, spatial_dims)
    choice = choose_preset("denoise", preset, target=target, dtype=info.dtype, spatial_dims=spatial_dims,
                           noise=noise, options={**kwargs, "classic": classic})
    if classic is not None:
        _check_blend(classic, choice, spatial_dims)
    info = with_output_dtype(info, output_dtype)  # after the choice, which reads the input's dtype
    recorded: dict = {}
    likelihood = None
    if noise == "gaussian":
        options, recorded = _gaussian_options(target, choice.settings, kwargs)
        kwargs.update(options)
        # (averaged with a classic method, the share falls where the fit is worse: no caveat)
        caveat = sure_caveat(target) if choice.settings.code == "observation" and classic is None else None
        if caveat is not None:
            warnings.warn(caveat, stacklevel=2)
    else:
        span = info.high - info.low
        flat = target.reshape(target.shape[0], -1, target.shape[-1])  # a volume's slices one above the other
        model = estimate_noise(flat * span[:, None, None] + info.low[:, None, None], gain, read_noise, offset)
        recorded = {"noise": noise, **model.settings()}
        if classic is not None or choice.settings.code == "observation":  # on the Anscombe transform (Gaussian noise)
            units = AnscombeUnits.of(target, info.low, span, model)
            target = units.forward(target)
            if kwargs.get("sure_sigma", choice.settings.sure_sigma) == "auto":
                kwargs["sure_sigma"] = units.sigma
            kwargs["units"], recorded = units, {**recorded, **units.settings()}
        else:
            likelihood = PoissonLikelihood(info.low, span, model, dims=spatial_dims)
    task = build_run("denoise", target, info, choice, likelihood=likelihood, spatial_dims=spatial_dims, **kwargs)
    task.settings.update(recorded)
    if output_dtype != "input":
        task.settings["output_dtype"] = output_dtype
    if classic is not None:
        _average_with_classic(task, target, classic)
    return task


def _check_blend(classic: str, choice: Any, spatial_dims: int) -> None:
    """Refuse a classic average that the fit cannot make: it needs preset='sure' on a 2D image."""
    if spatial_dims != 2:
        raise ValueError(f"classic={classic!r} averages a 2D fit with BM3D: leave classic out for volumes, or "
                         "restore the volume slice by slice with stack_axis=0.")
    if choice.settings.code != "observation" or not choice.settings.holdout:
        raise ValueError(f"classic={classic!r} averages with preset='sure' (it holds out the pixels that choose the "
                         f"share), not preset={choice.name!r}: use preset='auto' or 'sure'.")


def _average_with_classic(task: TaskRun, target: np.ndarray, classic: str) -> None:
    """Make ``task`` return its fit averaged with BM3D (the share recorded in its settings)."""
    if task.held_out is None:
        raise ValueError(f"classic={classic!r} chooses the DIP share on held-out pixels: keep the automatic stop on "
                         "(auto_stop=True) and holdout above 0.")
    average = ClassicBlend(target, task.held_out, float(task.fit.config.sure_sigma))
    base = task.finish

    def finish(chw: np.ndarray) -> Any:
        mixed = average.blend(chw)
        task.settings.update(average.settings())
        return base(mixed)

    task.finish = finish
    task.settings["classic"] = classic


def prepare_jpeg(image: np.ndarray, *, channel_axis: int | None = None, spatial_dims: int = 2,
                 preset: str | Preset = DEFAULT_PRESET, **kwargs: Any) -> TaskRun:
    """JPEG artefact removal / blind restoration (the paper's JPEG network); ``spatial_dims=3`` for a volume."""
    check_spatial_dims("jpeg", spatial_dims)
    target, info = read_input(image, channel_axis, spatial_dims)
    choice = choose_preset("jpeg", preset, spatial_dims=spatial_dims, options=kwargs)
    return build_run("jpeg", target, info, choice, spatial_dims=spatial_dims, **kwargs)


def prepare_super_resolution(image: np.ndarray, factor: int = 4, *, channel_axis: int | None = None,
                             spatial_dims: int = 2, preset: str | Preset = DEFAULT_PRESET,
                             back_projections: int | None = None, **kwargs: Any) -> TaskRun:
    """Super-resolution by ``factor``: the output is ``factor`` times larger per side (x8 and up: the x8 case).

    ``back_projections`` steps of back-projection onto the low-resolution image finish every output (default:
    the preset's; 1 for ``fast``, 0 for ``paper``).
    """
    factor = check.whole_number("factor", factor, 2, why="super-resolution needs")
    check_spatial_dims("super_resolution", spatial_dims)
    target, info = prepare_image(image, channel_axis)
    out_shape = list(info.shape)
    for axis in [a for a in range(len(out_shape)) if a != info.channel_axis]:
        out_shape[axis] *= factor
    hr_info = ImageInfo(info.dtype, tuple(out_shape), info.channel_axis, info.low, info.high)
    choice = choose_preset("super_resolution", preset, factor=factor, options=kwargs)
    steps = choice.settings.back_projections if back_projections is None else back_projections
    steps = check.whole_number("back_projections", steps, 0)

    def finish(chw: np.ndarray) -> np.ndarray:
        return restore_image(back_project(chw, target, factor, steps), hr_info)

    run = build_run("super_resolution", target, hr_info, choice, factor=factor, finish=finish, **kwargs)
    run.settings["back_projections"] = steps
    return run


def prepare_inpaint(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    kind: str = "text",
    region: str = "mask",
    classic: str | None = AUTO_FILL,
    channel_axis: int | None = None,
    spatial_dims: int = 2,
    preset: str | Preset = DEFAULT_PRESET,
    **kwargs: Any,
) -> TaskRun:
    """Inpainting: fill the pixels where ``mask`` is True (or > 0).

    ``kind`` picks the paper's case: ``"text"`` (thin strokes), ``"hole"``
    (large regions, meshgrid code; 2D only) or ``"sparse"`` (most pixels
    missing). ``region="mask"`` fits the surroundings of the mask and changes
    only its pixels; ``"whole"`` fits the whole image and returns the
    network's output everywhere (the paper). With ``spatial_dims=3`` image and
    mask are volumes.

    Where the preset stops by itself (the default of every kind), known
    pixels shaped like the holes are held out of the fit
    (:func:`stroke_holdout`; at random where copies of the holes do not fit)
    and the fit stops once their error stops falling. ``classic="biharmonic"``
    then averages each box's fill with biharmonic inpainting, the DIP share chosen
    on those pixels (:mod:`napari_dip.core.extras.fill_blend`; recorded as
    ``classic_share``); ``"auto"`` (default) does so wherever it can (a 2D
    fit around the mask that holds pixels out), ``None`` never.
    """
    check.choice("kind", kind, INPAINT_KINDS)
    check.choice("region", region, REGIONS)
    check_fill_classic(classic)
    check_spatial_dims("inpaint", spatial_dims)
    target, info = read_input(image, channel_axis, spatial_dims)
    known = known_pixels(mask, info)
    choice = choose_preset("inpaint", preset, kind=kind, spatial_dims=spatial_dims, options=kwargs)
    hold_out = _stroke_hold_out(~known) if spatial_dims == 2 else None
    task = build_run("inpaint", target, info, choice, known=known, kind=kind, region=region,
                     spatial_dims=spatial_dims, hold_out=hold_out, **kwargs)
    _average_fill(task, classic, spatial_dims)
    return task


def _stroke_hold_out(missing: np.ndarray) -> Callable[[float, int], np.ndarray]:
    """The pixels an inpainting holds out: strokes like the holes (:func:`stroke_holdout`), or known pixels at
    random where shifted copies of the holes hardly land on known pixels (scattered holes, or a hole almost as large
    as the image)."""
    def hold_out(share: float, seed: int) -> np.ndarray:
        held = stroke_holdout(missing, share, seed)
        return held if held.any() else held_out_mask(missing.shape, share, seed) & ~missing
    return hold_out


def _average_fill(task: TaskRun, classic: str | None, spatial_dims: int) -> None:
    """Make an inpainting around the mask average each box's fill with ``classic`` ('auto': where it can)."""
    possible = isinstance(task.fit, RegionFit) and task.held_out is not None and spatial_dims == 2
    if classic is None or (classic == AUTO_FILL and not possible):
        return
    if not possible:
        raise ValueError(f"classic={classic!r} averages the fill of each box around the mask, judged on held-out "
                         "known pixels: use region='mask' on a 2D image with the automatic stop on (the default, or "
                         "auto_stop=True and holdout above 0), or leave classic out.")
    average = FillBlend()
    task.fit.average_with(average, task.held_out)
    base = task.finish

    def finish(chw: np.ndarray) -> Any:
        task.settings.update(average.settings())
        return base(chw)

    task.finish = finish
    task.settings["classic"] = CLASSIC_FILLS[0]


def prepare_enhance(image: np.ndarray, *, channel_axis: int | None = None, spatial_dims: int = 2,
                    preset: str | Preset = DEFAULT_PRESET, **kwargs: Any) -> TaskRun:
    """Detail enhancement: result is (coarse, fine, enhanced) with x_e = x0 + (x0 - x_c)."""
    check_spatial_dims("enhance", spatial_dims)
    target, info = prepare_image(image, channel_axis)

    def finish(coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fine = target - coarse
        span = (info.high - info.low)[:, None, None]
        fine_values = fine * span
        fine_out = fine_values[0] if info.channel_axis is None else np.moveaxis(fine_values, 0, info.channel_axis)
        return restore_image(coarse, info), fine_out.astype(np.float32), restore_image(target + fine, info)

    choice = choose_preset("enhance", preset, options=kwargs)
    return build_run("enhance", target, info, choice, finish=finish, **kwargs)


def prepare_flash(no_flash: np.ndarray, flash: np.ndarray, *, channel_axis: int | None = None, spatial_dims: int = 2,
                  preset: str | Preset = DEFAULT_PRESET, **kwargs: Any) -> TaskRun:
    """Flash / no-flash: fit the no-flash image with the flash image as the code."""
    check_spatial_dims("flash", spatial_dims)
    target, info = prepare_image(no_flash, channel_axis, name="no-flash image")
    guide, _ = prepare_image(flash, channel_axis, name="flash image")
    if guide.shape != target.shape:
        raise ValueError(
            f"The flash image is {guide.shape[1]}x{guide.shape[2]} with {guide.shape[0]} channel(s) but the no-flash "
            f"image is {target.shape[1]}x{target.shape[2]} with {target.shape[0]}: pass an aligned pair of the same "
            "size and channels."
        )
    choice = choose_preset("flash", preset, options=kwargs)
    return build_run("flash", target, info, choice, guide=guide, **kwargs)


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
