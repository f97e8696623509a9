"""The settings a result carries: one registry of every key that results record, and which of them a replay uses.

A result's settings (``TaskRun.settings``, an output layer's metadata, the text
of an output file) hold two kinds of entries: the keywords that made it, which
a replay (``--config``, :func:`replay_keywords`) passes back to the task
function, and entries that describe how it was made or where it came from,
which a replay drops. Every key that the engine, the command line or the
widgets record is listed here, and ``--config`` refuses any other key by name
(a typo would otherwise be ignored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from napari_dip.core.fitting.config import FitConfig

#: Keywords of the task functions besides :class:`FitConfig`'s fields: replayed.
TASK_KEYWORDS: dict[str, str] = {
    "preset": "the preset that ran (what 'auto' picked)",
    "device": "the device it ran on",
    "factor": "the super-resolution factor",
    "back_projections": "super-resolution: back-projection steps onto the low-resolution image",
    "kind": "the inpainting kind",
    "region": "what an inpainting fits: the mask's surroundings or the whole image",
    "noise": "the noise model",
    "gain": "photon noise: intensity per photon",
    "read_noise": "photon noise: read-noise standard deviation",
    "offset": "photon noise: intensity of zero photons",
    "tile": "the tile side (None: one piece)",
    "classic": "the classic method averaged with the fit (denoising: bm3d; inpainting: biharmonic)",
    "output_dtype": "denoising: float32 for an unrounded result of integer data (absent: the input's dtype)",
    "spatial_dims": "3 for a volume fitted by a 3D network",
    "spacing": "the voxel size of a volume (Z, Y, X)",
}

#: Entries that describe a result: recorded, dropped by a replay.
DESCRIPTIVE: dict[str, str] = {
    "task": "the task that made it",
    "network": "the network's architecture and sizes",
    "memory_estimate_bytes": "the memory the fit was planned to use",
    "noise_variance": "the noise variance the noise-level stop used (estimated)",
    "auto_preset": "why preset='auto' picked the preset",
    "classic_share": "the DIP share of the average with the classic method",
    "classic_sigma": "the noise level the classic method was given",
    "classic_seconds": "seconds the classic method took",
    "anscombe_floor": "photon noise averaged with a classic method: the Anscombe transform's value mapped to 0",
    "anscombe_scale": "... and its range mapped to 1 (the fit's noise level is 1 / this)",
    "tile_overlap": "pixels shared by neighbouring tiles",
    "tile_count": "how many tiles were fitted",
    "region_count": "how many regions around the mask were fitted",
    "warm_start": "the fit started from the previous slice's network",
    "stopped_at": "the iteration the fit ended at",
    "stop_reason": "completed, auto_stop, stopped, interrupted or kept from history",
    "source": "the input layer or file",
    "output": "which output of the task this is",
    "reference": "the reference layer that gave the PSNR",
    "mask": "the mask layer",
    "flash": "the flash image layer",
    "stack_mode": "how the widget restored a stack",
    "slice_index": "the slice a result belongs to",
    "slices": "every slice's stop",
    "slices_done": "slices restored",
    "slices_total": "slices to restore",
    "kept_iteration": "the history snapshot that was kept",
    "method": "the classic method that made a comparison layer",
    "psnr": "PSNR against the reference (dB)",
    "ssim": "SSIM against the reference",
}


def replayed_keys() -> set[str]:
    """The keys a replay passes to a task function: every :class:`FitConfig` field and :data:`TASK_KEYWORDS`."""
    return {field.name for field in fields(FitConfig)} | set(TASK_KEYWORDS)


def replay_keywords(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Keywords for a task function from a result's settings: the descriptive entries dropped."""
    keys = replayed_keys()
    return {key: value for key, value in settings.items() if key in keys}


def unknown_keys(settings: Mapping[str, Any]) -> list[str]:
    """The keys of ``settings`` that no result records, sorted (a typo, or a file of something else)."""
    return sorted(set(settings) - replayed_keys() - set(DESCRIPTIVE))
