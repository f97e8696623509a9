"""The public restoration functions: numpy in, numpy out.

Shared keywords
---------------
iterations, lr : override the preset's number of Adam steps and learning rate.
preset : ``"paper"`` (default), ``"fast"`` (lighter net for CPUs) or a name of
    :data:`napari_dip.core.presets.PRESETS`.
seed : random seed; the same seed gives identical results on the CPU.
device : ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"mps"``.
auto_stop : stop automatically when the outputs stop settling (no ground truth).
reference : clean image of the output's size; adds PSNR to the progress records.
callback : called with every :class:`~napari_dip.core.fit.Progress`; return
    ``False`` to stop early (the result so far is returned).
return_history : also return the :class:`~napari_dip.core.fit.History`.
tile : ``"auto"`` (default) fits an image too large for the device in
    overlapping tiles blended without seams (a warning says so); ``None``
    refuses it; an int tiles with that side in pixels.
**options : any field of :class:`~napari_dip.core.fit.FitConfig`
    (``use_ema``, ``preview_every``, ``precision``, ``optimize``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

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


def _finish(task: TaskRun, callback: Callback, return_history: bool) -> Any:
    output, fit_result = task.run(callback)
    return (output, fit_result.history) if return_history else output


def denoise(
    image: np.ndarray, *, runs: int = 1, callback: Callback = None, return_history: bool = False, **kwargs: Any
) -> Any:
    """Blind denoising. ``runs=N`` averages N fits with seeds seed, seed + 1, ...

    ``noise="poisson"`` fits photon-limited (Poisson-Gaussian) data; ``gain``,
    ``read_noise`` and ``offset`` (in the image's units) are estimated from
    the image when not given. With ``return_history`` and several runs, the
    history of the last run is returned.
    """
    seed = kwargs.pop("seed", 0)
    output, history = average_runs(runs, lambda k: prepare_denoise(image, seed=seed + k, **kwargs), callback)
    return (output, history) if return_history else output


def restore_jpeg(image: np.ndarray, *, callback: Callback = None, return_history: bool = False, **kwargs: Any) -> Any:
    """Remove JPEG artefacts (blind restoration with the paper's JPEG network)."""
    return _finish(prepare_jpeg(image, **kwargs), callback, return_history)


def super_resolve(
    image: np.ndarray, factor: int = 4, *, callback: Callback = None, return_history: bool = False, **kwargs: Any
) -> Any:
    """Super-resolution: returns an image ``factor`` times larger per side."""
    return _finish(prepare_super_resolution(image, factor, **kwargs), callback, return_history)


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
    return _finish(prepare_inpaint(image, mask, kind=kind, **kwargs), callback, return_history)


def enhance(image: np.ndarray, *, callback: Callback = None, return_history: bool = False, **kwargs: Any) -> Any:
    """Detail enhancement; returns ``(coarse, fine, enhanced)``.

    ``iterations`` sets how coarse the coarse layer is (fewer = coarser).
    """
    return _finish(prepare_enhance(image, **kwargs), callback, return_history)


def flash_no_flash(
    no_flash: np.ndarray,
    flash: np.ndarray,
    *,
    callback: Callback = None,
    return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Restore a noisy no-flash image using the flash image of the scene as the code."""
    return _finish(prepare_flash(no_flash, flash, **kwargs), callback, return_history)


__all__ = ["History", "denoise", "enhance", "flash_no_flash", "inpaint", "restore_jpeg", "super_resolve"]
