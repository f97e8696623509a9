"""Which preset a fit runs: the one named, or what ``"auto"`` (the default) picks for the task and the image.

:func:`choose_preset` is the one place that resolves a preset: the task
functions, the stacks, the command line and the widgets all call it, and it
refuses the combinations a preset cannot fit (Stein's risk estimate outside
Gaussian denoising, a 3D fit with a guide code, ...).

``"auto"`` picks ``"sure"`` (the noisy image as the network's input, fitted to
Stein's risk estimate) to denoise one 2D image of 8 bits or floats with
Gaussian noise that passes the checks of
:mod:`napari_dip.core.inputs.noise_checks`, and ``"fast"`` otherwise: for the
other tasks, volumes, photon noise, stacks (whose warm-started slices share
one network), images of more than 8 bits per value (scientific cameras), and
when an option of the fast preset's methods is given. On the photos it does
not warn about, ``"sure"`` reached the paper preset's best picture sooner and
returned more than ``"fast"``; on clipped photos and photon noise it returned
less (``benchmarks/sure_clipping.py``, ``benchmarks/time_to_quality.py``,
``benchmarks/presets_fluorescence.py``). On a stack's slices and on small planes
of camera data the fast preset stops on held-out pixels (:data:`AUTO_HOLDOUT`); with a
``classic`` average ``"auto"`` picks ``"sure"``, also for photon noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from napari_dip.core.extras.classic_blend import CLASSIC_BLENDS
from napari_dip.core.inputs.noise_checks import obstacle_reason, sure_obstacle
from napari_dip.core.inputs.noise_level import gaussian_noise_variance
from napari_dip.core.tasks.presets import AUTO, DEFAULT_PRESET, Preset, task_preset

#: Options of the fast preset's methods (the hold-out stop, the noise-level stop, the pieces of preset="drp"):
#: with any of them given, "auto" keeps "fast".
FAST_OPTIONS = ("holdout", "stop_loss", "root_loss", "code_noise_std", "optimize", "code_lr", "members")
#: The presets that work everywhere, named in refusals.
GENERAL = "preset='fast' (what the default picks here) or 'paper'"


@dataclass(frozen=True)
class PresetChoice:
    """The preset a fit runs: its recorded ``name``, its ``settings`` for the task's case and, when ``"auto"``
    picked it, why (``reason``)."""

    name: str
    settings: Preset
    reason: str | None = None


def denoise_choice(target: np.ndarray, *, spatial_dims: int = 2, noise: str = "gaussian",
                   options: Mapping[str, Any] | None = None, dtype: Any = None) -> tuple[str, str]:
    """The preset ``"auto"`` picks to denoise ``target`` ((C, H, W) in [0, 1]) and why, in a few words.

    ``options`` are the other keywords of the fit; ``dtype`` is the user's image's (None: not known).
    """
    options = options or {}
    if spatial_dims != 2:
        return "fast", "a volume"
    if options.get("classic") is not None:
        return "sure", f"classic={options['classic']!r} averages with it"
    if noise != "gaussian":
        return "fast", f"{noise} noise"
    if camera_bits(dtype):
        return "fast", f"{camera_bits(dtype)}-bit camera data"
    given = [name for name in FAST_OPTIONS if options.get(name) is not None]
    if given:
        return "fast", f"{given[0]} is set"
    if options.get("auto_stop") is False:
        return "fast", "no automatic stop"
    if options.get("sure_sigma") is None:  # a given noise level asks for Stein's estimate whatever the checks say
        if gaussian_noise_variance(target) == 0:
            return "fast", "no noise found"
        obstacle = sure_obstacle(target)
        if obstacle is not None:
            return "fast", obstacle_reason(obstacle)
    return "sure", "unclipped 2D image, even noise"


#: The share of the pixels held out for the automatic stop that "auto" gives the fast preset, unless ``holdout`` is
#: given: on the slices of a warm-started stack (:func:`stack_options`) and on camera data (:func:`camera_bits`)
#: smaller than :data:`SMALL_PLANE` pixels. On 16-bit fluorescence planes of 64 and 128 px the outputs' variance
#: stopped late (0.4-4.2 dB lower); at 256 px it was 0.13 dB higher (``benchmarks/classic_quality.py``, stops).
AUTO_HOLDOUT = 0.05
#: Planes of camera data with fewer pixels than this stop on held-out pixels.
SMALL_PLANE = 256 * 256


def camera_bits(dtype: Any) -> int | None:
    """The bits per value of an integer ``dtype`` wider than 8 bits (a scientific camera's), else None."""
    if dtype is not None and np.issubdtype(dtype, np.integer) and np.iinfo(dtype).bits > 8:
        return np.iinfo(dtype).bits
    return None


def stack_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options of every slice of a stack whose fits warm-start: the preset (:func:`stack_preset`) and, unless
    given (super-resolution keeps its preset's: its error only flattens), ``holdout``: a warm-started fit's
    best picture comes within some tens of iterations, where the held-out pixels' error finds it and the outputs'
    moving variance, which needs a hundred, does not."""
    options = dict(options)
    options["preset"] = stack_preset(options.get("preset", DEFAULT_PRESET), options.get("classic"))
    if options.get("holdout") is None and options.get("factor", 1) == 1:
        options["holdout"] = AUTO_HOLDOUT
    return options


def context_options(options: Mapping[str, Any], context: int) -> dict[str, Any]:
    """The options of a stack's slices fitted with ``context`` neighbours on each side: for ``"auto"`` with photon
    noise, ``"sure"``, Stein's estimate on the Anscombe transform of the slices: the window of slices is both the
    network's input and its target (``benchmarks/classic_quality.py``, slices part)."""
    options = dict(options)
    if photon_windows(options.get("noise"), context) and options.get("preset", DEFAULT_PRESET) == AUTO:
        options["preset"] = "sure"
    return options


def photon_windows(noise: Any, context: Any) -> bool:
    """Whether a stack's slices are fitted with neighbours under photon noise (``"auto"`` then means ``"sure"``)."""
    return noise == "poisson" and bool(context)


def stack_preset(preset: str | Preset, classic: str | None = None) -> str | Preset:
    """The preset of every slice of a stack whose fits warm-start, for ``"auto"``: one network for all, ``"fast"``
    (``"sure"`` when denoising results are averaged with a ``classic`` method, which needs it)."""
    if preset != AUTO:
        return preset
    return "sure" if classic in CLASSIC_BLENDS else "fast"  # an inpainting's classic fill needs no 'sure'


def check_fits(settings: Preset, name: str, *, task: str, noise: str = "gaussian", spatial_dims: int = 2,
               options: Mapping[str, Any] | None = None) -> None:
    """Refuse a preset that cannot fit this task, noise model or dimensionality (ValueError naming what works)."""
    options = options or {}
    named = f"preset={name!r}"
    if settings.code == "observation" and task != "denoise":
        raise ValueError(f"{named} fits the noisy image through Stein's risk estimate: it is for denoising images "
                         f"with Gaussian or photon noise only. Use {GENERAL}.")
    if noise == "poisson" and options.get("root_loss", settings.root_loss):
        # the root of the Poisson deviance (per photon) dwarfs a TV weight set for the RMS error of [0, 1] images
        raise ValueError("noise='poisson' cannot fit the root of the data term (root_loss, which preset='drp' uses): "
                         "its TV weight is set for the RMS error of Gaussian noise, and the fit keeps the photon "
                         f"noise. Use {GENERAL} with noise='poisson', or noise='gaussian'.")
    if spatial_dims == 3 and settings.code == "meshgrid":
        raise ValueError("kind='hole' fits a 2D meshgrid code, which 3D fits (spatial_dims=3) cannot use: use "
                         "kind='text' or 'sparse' for a volume, or restore it slice by slice with stack_axis=0.")
    if spatial_dims == 3 and settings.code != "noise":
        raise ValueError(f"{named} cannot fit a volume: 3D fits (spatial_dims=3) take random noise as the network's "
                         f"input, not its {settings.code} code. Use {GENERAL}, or restore the volume slice by slice "
                         "with stack_axis=0.")


def choose_preset(task: str, preset: str | Preset = DEFAULT_PRESET, *, factor: int = 1, kind: str | None = None,
                  target: np.ndarray | None = None, dtype: Any = None, spatial_dims: int = 2,
                  noise: str = "gaussian", options: Mapping[str, Any] | None = None, stack: bool = False,
                  refuse: bool = True) -> PresetChoice:
    """The preset ``task`` runs (for ``factor`` and inpainting ``kind``): ``preset``, or what ``"auto"`` picks.

    ``target`` ((C, ...) in [0, 1]), ``dtype``, ``noise`` and ``options`` (the fit's other keywords) let
    ``"auto"`` pick for the image (without a denoising ``target`` it picks ``"fast"``); ``stack`` says the image is
    a slice of a stack whose slices share one network (:func:`stack_preset`). A stack's slices (any preset, as
    :func:`stack_options` gives them) and small planes of camera data ("auto") hold out :data:`AUTO_HOLDOUT` of the
    pixels for the stop.
    Refuses (ValueError) a preset that cannot fit the task (:func:`check_fits`) unless ``refuse`` is False (a form
    that shows a preset's settings before the run refuses it).
    """
    name, reason = preset, None
    held = stack and factor == 1  # what stack_options gives every slice, whatever the preset
    if preset == AUTO:
        name = stack_preset(preset, (options or {}).get("classic"))
        if stack and photon_windows(noise, (options or {}).get("context")):
            name, reason = "sure", "a photon-limited stack"
        elif stack:
            reason = "a stack"
        elif task == "denoise" and target is not None:
            name, reason = denoise_choice(target, spatial_dims=spatial_dims, noise=noise, options=options, dtype=dtype)
            small = int(np.prod(target.shape[-2:])) < SMALL_PLANE
            held = name == "fast" and noise == "gaussian" and camera_bits(dtype) is not None and small
    settings = task_preset(task, factor=factor, kind=kind, preset=name)
    if held:
        settings = replace(settings, holdout=AUTO_HOLDOUT)
    recorded = name if isinstance(name, str) else "custom"
    if refuse:
        check_fits(settings, recorded, task=task, noise=noise, spatial_dims=spatial_dims, options=options)
    return PresetChoice(recorded, settings, reason)
