"""The public restoration functions: numpy in, numpy out.

Shared keywords
---------------
iterations, lr : override the preset's number of Adam steps and learning rate.
preset : ``"auto"`` (default: ``"sure"`` to denoise one 2D 8-bit or float
    image with Gaussian noise and few clipped values, ``"fast"`` otherwise; see
    :mod:`napari_dip.core.tasks.preset_choice`), ``"fast"`` (a lighter net;
    denoising and JPEG restoration stop by themselves), ``"paper"`` (the
    paper's settings, to reproduce it) or a name of
    :data:`napari_dip.core.tasks.presets.PRESETS`.
seed : random seed (a whole number from 0 to 2**63 - 1, default 0); the same
    seed on the same device with the same number of torch threads gives the
    same result. ``None`` draws a fresh seed, recorded in the settings and in
    ``History.seed``.
device : ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"mps"``.
threads : CPU threads of the fit: ``None`` (default: ``OMP_NUM_THREADS``
    where it is set, else ``"adaptive"``), ``"adaptive"`` (whichever of all
    cores and all but one runs faster, measured as the fit goes; not
    repeatable bit for bit; :mod:`napari_dip.core.runtime.adaptive_threads`), or a
    number, which repeats a seed's result bit for bit.
auto_stop : stop automatically when the outputs stop settling (no ground
    truth) and return the output where they were most settled. ``None``
    (default): the preset's choice, on for denoising and JPEG restoration
    with ``"auto"`` and ``"fast"``; ``False`` runs all ``iterations``.
reference : clean image of the output's size; adds PSNR to the progress records.
callback : called with every :class:`~napari_dip.core.fitting.records.Progress`; return
    ``False`` to stop early (the result so far is returned).
return_history : also return the :class:`~napari_dip.core.fitting.records.History`.
stack_axis : restore every slice / frame along this axis (a Z-stack, a
    time-lapse), each fit warm-started from the previous one's weights
    (``warm_start=True``) with ``warm_iterations`` steps (default half of
    the first fit's); the outputs are stacked along the same axis and
    ``return_history`` gives one history per slice. ``channel_axis`` then
    counts in the whole array; other inputs (mask, flash image, reference)
    have the stack axis too, or are one slice used for every slice.
    ``denoise`` fits each slice together with ``context`` neighbours on each
    side (``"auto"``: 3 for 2D slices, 0 for volumes) and keeps its own.
spatial_dims : 3 fits one 3D network to a (Z, Y, X) volume (denoise,
    restore_jpeg, inpaint); ``spacing=(z, y, x)`` gives its voxel size.
tile : ``"auto"`` (default) fits an image too large for the device in
    overlapping tiles blended without seams (a warning says so); ``None``
    refuses it; an int tiles with that side in pixels.
**options : any field of :class:`~napari_dip.core.fitting.loop.FitConfig`
    (``use_ema``, ``preview_every``, ``precision``, ``tv_weight``, ``optimize``, ...);
    ``precision="auto"`` (default) is bfloat16 where the device runs it
    natively, else float32, and ``tv_weight`` > 0 adds that weight times the
    output's total variation to the loss (DIP-TV).

Every setting is checked before any work; a bad one raises ValueError naming
the parameter and the values it accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from napari_dip.core import validation as check
from napari_dip.core.fitting.records import History, Progress
from napari_dip.core.tasks.build import TaskRun
from napari_dip.core.tasks.prepare import (
    average_runs,
    prepare_denoise,
    prepare_enhance,
    prepare_flash,
    prepare_inpaint,
    prepare_jpeg,
    prepare_super_resolution,
)
from napari_dip.core.tasks.stacks import restore_stack

Callback = Callable[[Progress], object] | None


def _checked(callback: Callback, return_history: bool) -> None:
    """Refuse a bad callback or return_history before any work."""
    check.callback(callback)
    check.flag("return_history", return_history)


def _restore(
    prepare: Callable[..., TaskRun],
    inputs: tuple[np.ndarray, ...],
    callback: Callback,
    return_history: bool,
    kwargs: dict,
    stack_axis: int | None = None,
    runs: int = 1,
) -> Any:
    """Run ``prepare(*inputs, **kwargs)`` (``runs`` seeds averaged), or every slice along ``stack_axis``."""
    _checked(callback, return_history)
    if "context" in kwargs and prepare is not prepare_denoise:
        raise ValueError("context fits each slice of a stack with its neighbours, for denoising only: leave it out.")
    seed = check.seed(kwargs.pop("seed", 0))  # None: one fresh seed, then seed + 1, ... for the other runs
    if stack_axis is not None:
        output, histories = restore_stack(prepare, *inputs, stack_axis=stack_axis, runs=runs, callback=callback,
                                          seed=seed, **kwargs)
        return (output, histories) if return_history else output
    stack_only = sorted({"warm_start", "warm_iterations", "context"} & set(kwargs))
    if stack_only:
        raise ValueError(f"{', '.join(stack_only)} apply to stacks: pass stack_axis= (the slice or frame axis) too.")
    output, history = average_runs(runs, lambda k: prepare(*inputs, seed=seed + k, **kwargs), callback)
    return (output, history) if return_history else output


def denoise(
    image: np.ndarray,
    *,
    runs: int = 1,
    stack_axis: int | None = None,
    callback: Callback = None,
    return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Blind denoising. ``runs=N`` averages N fits with seeds seed, seed + 1, ...

    ``noise="poisson"`` fits photon-limited (Poisson-Gaussian) data; ``gain``,
    ``read_noise`` and ``offset`` (in the image's units) are estimated from
    the image when not given. ``classic="bm3d"`` (the optional ``bm3d``
    package) averages the ``preset="sure"`` fit with BM3D, the DIP share chosen
    from held-out pixels and recorded as ``classic_share``; with photon
    noise both work on the generalised Anscombe transform. With
    ``return_history`` and several runs, the history of the last run is
    returned.

    A stack (``stack_axis``) is denoised slice by slice, each slice fitted
    together with ``context`` neighbours on each side as the channels of one
    image, of which it keeps its own (``"auto"``, the default: 3; 0 for
    volumes, ``spatial_dims=3``; 0: each slice alone). With photon noise the
    camera is estimated once from the stack and ``"auto"`` fits
    ``preset="sure"`` on the Anscombe transform.
    """
    if stack_axis is not None:
        kwargs.setdefault("context", "auto" if kwargs.get("spatial_dims", 2) == 2 else 0)  # volumes: measured alone
    return _restore(prepare_denoise, (image,), callback, return_history, kwargs, stack_axis, runs)


def restore_jpeg(
    image: np.ndarray, *, stack_axis: int | None = None, callback: Callback = None, return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Remove JPEG artefacts (blind restoration with the paper's JPEG network)."""
    return _restore(prepare_jpeg, (image,), callback, return_history, kwargs, stack_axis)


def super_resolve(
    image: np.ndarray, factor: int = 4, *, stack_axis: int | None = None, callback: Callback = None,
    return_history: bool = False, **kwargs: Any,
) -> Any:
    """Super-resolution: returns an image ``factor`` times larger per side."""
    return _restore(prepare_super_resolution, (image,), callback, return_history, {"factor": factor, **kwargs},
                    stack_axis)


def inpaint(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    kind: str = "text",
    region: str = "mask",
    stack_axis: int | None = None,
    callback: Callback = None,
    return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Fill the pixels where ``mask`` is True (> 0); ``kind`` is "text", "hole" or "sparse".

    ``region="mask"`` (default) fits the surroundings of the mask, in boxes around its parts, and changes only
    the painted pixels: every other pixel comes back as it was. ``region="whole"`` fits the whole image and
    returns the network's output everywhere, as the paper does.

    Every kind stops by itself on held-out known pixels (in the shape of the mask where copies of it fit, else at
    random), and (``classic="auto"``, the default, or ``"biharmonic"``) averages each box's fill with biharmonic
    inpainting by the share those pixels choose; ``classic=None`` keeps the network's fill alone.
    """
    return _restore(prepare_inpaint, (image, mask), callback, return_history, {"kind": kind, "region": region,
                                                                               **kwargs}, stack_axis)


def enhance(
    image: np.ndarray, *, stack_axis: int | None = None, callback: Callback = None, return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Detail enhancement; returns ``(coarse, fine, enhanced)``.

    ``iterations`` sets how coarse the coarse layer is (fewer = coarser).
    """
    return _restore(prepare_enhance, (image,), callback, return_history, kwargs, stack_axis)


def flash_no_flash(
    no_flash: np.ndarray,
    flash: np.ndarray,
    *,
    stack_axis: int | None = None,
    callback: Callback = None,
    return_history: bool = False,
    **kwargs: Any,
) -> Any:
    """Restore a noisy no-flash image using the flash image of the scene as the code."""
    return _restore(prepare_flash, (no_flash, flash), callback, return_history, kwargs, stack_axis)


__all__ = ["History", "denoise", "enhance", "flash_no_flash", "inpaint", "restore_jpeg", "super_resolve"]
