"""The public restoration functions: numpy in, numpy out.

Shared keywords
---------------
iterations, lr : override the preset's number of Adam steps and learning rate.
preset : ``"paper"`` (default), ``"fast"`` (lighter net for CPUs) or a name of
    :data:`napari_dip.core.presets.PRESETS`.
seed : random seed (a whole number from 0 to 2**63 - 1, default 0); the same
    seed on the same device with the same number of torch threads gives the
    same result. ``None`` draws a fresh seed, recorded in the settings and in
    ``History.seed``.
device : ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"mps"``.
auto_stop : stop automatically when the outputs stop settling (no ground truth).
reference : clean image of the output's size; adds PSNR to the progress records.
callback : called with every :class:`~napari_dip.core.fit.Progress`; return
    ``False`` to stop early (the result so far is returned).
return_history : also return the :class:`~napari_dip.core.fit.History`.
**options : any field of :class:`~napari_dip.core.fit.FitConfig`
    (``use_ema``, ``preview_every``, ``precision``, ``optimize``, ...).

Every setting is checked before any work; a bad one raises ValueError naming
the parameter and the values it accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import validation as check
from .fit import History, Progress
from .tasks import (
    TaskRun,
    average_runs,
    prepare_denoise,
    prepare_enhance,
    prepare_flash,
    prepare_inpaint,
    prepare_jpeg,
    prepare_super_resolution,
)

Callback = Callable[[Progress], object] | None


def _checked(callback: Callback, return_history: bool) -> None:
    """Refuse a bad callback or return_history before any work."""
    check.callback(callback)
    check.flag("return_history", return_history)


def _finish(prepare: Callable[[], TaskRun], callback: Callback, return_history: bool) -> Any:
    _checked(callback, return_history)
    output, fit_result = prepare().run(callback)
    return (output, fit_result.history) if return_history else output


def denoise(
    image: np.ndarray, *, runs: int = 1, callback: Callback = None, return_history: bool = False, **kwargs: Any
) -> Any:
    """Blind denoising. ``runs=N`` averages N fits with seeds seed, seed + 1, ...

    With ``return_history`` and several runs, the history of the last run is returned.
    """
    _checked(callback, return_history)
    seed = check.seed(kwargs.pop("seed", 0))  # None: one fresh seed, then seed + 1, ... for the other runs
    output, history = average_runs(runs, lambda k: prepare_denoise(image, seed=seed + k, **kwargs), callback)
    return (output, history) if return_history else output


def restore_jpeg(image: np.ndarray, *, callback: Callback = None, return_history: bool = False, **kwargs: Any) -> Any:
    """Remove JPEG artefacts (blind restoration with the paper's JPEG network)."""
    return _finish(lambda: prepare_jpeg(image, **kwargs), callback, return_history)


def super_resolve(
    image: np.ndarray, factor: int = 4, *, callback: Callback = None, return_history: bool = False, **kwargs: Any
) -> Any:
    """Super-resolution: returns an image ``factor`` times larger per side."""
    return _finish(lambda: prepare_super_resolution(image, factor, **kwargs), callback, return_history)


def inpaint(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    kind: str = "text",
    callback: Callback = None,
    return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Fill the pixels where ``mask`` is True (> 0); ``kind`` is "text", "hole" or "sparse"."""
    return _finish(lambda: prepare_inpaint(image, mask, kind=kind, **kwargs), callback, return_history)


def enhance(image: np.ndarray, *, callback: Callback = None, return_history: bool = False, **kwargs: Any) -> Any:
    """Detail enhancement; returns ``(coarse, fine, enhanced)``.

    ``iterations`` sets how coarse the coarse layer is (fewer = coarser).
    """
    return _finish(lambda: prepare_enhance(image, **kwargs), callback, return_history)


def flash_no_flash(
    no_flash: np.ndarray,
    flash: np.ndarray,
    *,
    callback: Callback = None,
    return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Restore a noisy no-flash image using the flash image of the scene as the code."""
    return _finish(lambda: prepare_flash(no_flash, flash, **kwargs), callback, return_history)


__all__ = ["History", "denoise", "enhance", "flash_no_flash", "inpaint", "restore_jpeg", "super_resolve"]
