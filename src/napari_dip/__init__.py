"""napari-dip: Deep Image Prior restoration for napari and for scripts.

The restoration functions are loaded on first use, so ``import napari_dip``
imports neither torch nor Qt.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "denoise": "napari_dip.core.api",
    "restore_jpeg": "napari_dip.core.api",
    "super_resolve": "napari_dip.core.api",
    "inpaint": "napari_dip.core.api",
    "enhance": "napari_dip.core.api",
    "flash_no_flash": "napari_dip.core.api",
    "prior_samples": "napari_dip.core.extras.diagnostics",
    "noise_impedance": "napari_dip.core.extras.diagnostics",
    "invert_features": "napari_dip.core.extras.features",
    "maximize_activation": "napari_dip.core.extras.features",
    "FitConfig": "napari_dip.core.fitting.config",
    "Progress": "napari_dip.core.fitting.records",
    "History": "napari_dip.core.fitting.records",
    "PRESETS": "napari_dip.core.tasks.presets",
    "map_blocks": "napari_dip.batch.arrays",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from napari_dip.batch.arrays import map_blocks
    from napari_dip.core.api import denoise, enhance, flash_no_flash, inpaint, restore_jpeg, super_resolve
    from napari_dip.core.extras.diagnostics import noise_impedance, prior_samples
    from napari_dip.core.extras.features import invert_features, maximize_activation
    from napari_dip.core.fitting.config import FitConfig
    from napari_dip.core.fitting.records import History, Progress
    from napari_dip.core.tasks.presets import PRESETS


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'napari_dip' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
