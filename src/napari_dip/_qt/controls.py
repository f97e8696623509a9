"""Form pieces shared by the widgets: layer pickers, fit settings, advanced options, progress text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, SpinBox
from qtpy.QtWidgets import QWidget
from superqt import QCollapsible

PRESETS = ("fast", "paper")
PRESET_TIPS = {
    "auto": "auto: sure for Gaussian noise on an unclipped 2D image (the fastest to the best picture), fast otherwise "
            "(the choice is shown below the preset).",
    "drp": "drp: two light networks fitted with their codes and averaged, 300 iterations: about 10x sooner on "
           "smooth photos, smooths fine texture away.",
    "fast": "fast: a lighter network for CPUs.",
    "sure": "sure: the network maps the noisy image itself, fitted to an estimate of its error that needs no clean "
            "image (Gaussian noise only).",
    "paper": "paper: the network and settings of the DIP paper (best on a GPU).",
}
#: How a layer with more than two dimensions is restored: one 2D slice, every slice in turn, or its last 3 axes
#: (Z, Y, X) as one volume.
SLICE_MODES = ("current slice", "all slices (warm start)", "whole volume (3D)")


def layer_choices(viewer: Any, layer_type: type) -> Callable[[Any], list[tuple[str, Any]]]:
    """A magicgui ``choices`` callable listing the viewer's layers of ``layer_type``."""

    def choices(_widget: Any = None) -> list[tuple[str, Any]]:
        return [(layer.name, layer) for layer in viewer.layers if isinstance(layer, layer_type)]

    return choices


def layer_picker(viewer: Any, layer_type: type, label: str, *, nullable: bool = False, tooltip: str = "") -> ComboBox:
    """A drop-down of the viewer's layers of one type."""
    return ComboBox(label=label, choices=layer_choices(viewer, layer_type), nullable=nullable, tooltip=tooltip)


def device_choices() -> list[str]:
    """"auto" and the devices torch can use here (imports torch)."""
    from napari_dip.core.runtime.devices import available_devices

    return ["auto", *available_devices()]


def preset_defaults(case: str, preset: str) -> dict[str, Any]:
    """Iterations, learning rate, EMA use, automatic stop, what is optimised and the TV weight of ``preset``
    ("fast", "paper" or a named preset such as "drp") for a paper case (a key of
    :data:`napari_dip.core.tasks.presets.PRESETS`)."""
    from napari_dip.core.tasks.presets import PRESETS as NAMED, case_preset

    chosen = case_preset(case, preset) if preset in PRESETS else NAMED[preset]
    return {"iterations": chosen.iterations, "lr": chosen.lr, "use_ema": chosen.use_ema,
            "auto_stop": chosen.auto_stop, "patience": chosen.patience, "optimize": chosen.optimize,
            "tv_weight": chosen.tv_weight}


class FitControls:
    """The settings every fit shares, as magicgui widgets (``basic`` shown, ``advanced`` folded away)."""

    def __init__(self, presets: tuple[str, ...] = PRESETS) -> None:
        self.preset = ComboBox(
            label="preset", choices=presets, value=presets[0],
            tooltip="\n".join(PRESET_TIPS[name] for name in presets),
        )
        self.iterations = SpinBox(label="iterations", min=1, max=100_000, step=50, value=1800)
        self.lr = FloatSpinBox(label="learning rate", min=1e-5, max=1.0, step=0.001, value=0.01)
        self.lr.native.setDecimals(4)
        self.seed = SpinBox(label="seed", min=0, max=2**31 - 1, value=0)
        self.device = ComboBox(label="device", choices=device_choices(), value="auto")
        self.auto_stop = CheckBox(
            label="auto-stop", value=False,
            tooltip="Stop when the outputs stop settling (no clean image needed) and keep the best one. On by default "
                    "for denoising and JPEG with the fast preset; untick to run all iterations.",
        )
        self.use_ema = CheckBox(label="average outputs (EMA)", value=True,
                                tooltip="Return the running average of the outputs rather than the last one.")
        self.patience = SpinBox(label="auto-stop patience", min=10, max=100_000, step=50, value=500)
        self.precision = ComboBox(
            label="precision", choices=("auto", "float32", "bfloat16", "float16"), value="auto",
            tooltip="auto: bfloat16 where the device computes it natively (recent GPUs; CPUs with AVX512-BF16 or "
                    "AMX, 2D fits only), else float32.",
        )
        self.tv_weight = FloatSpinBox(
            label="TV weight", min=0.0, max=10.0, step=0.001, value=0.0,
            tooltip="Adds this weight x the total variation of the output to the loss (DIP-TV); 0: off.",
        )
        self.tv_weight.native.setDecimals(4)
        self.optimize = ComboBox(label="optimize", choices=("net", "code", "both"), value="net",
                                 tooltip="Which parameters Adam updates: the network, the input code or both.")
        self.backtrack = CheckBox(label="backtrack on loss jumps", value=True)
        self.preview_every = SpinBox(label="preview every (it)", min=1, max=10_000, value=10,
                                     tooltip="Iterations between previews (they are also limited to 4 per second).")
        self._case = ""
        #: The preset "auto" stands for with the chosen inputs (set by the denoising widget; None: "fast").
        self.auto_choice: str | None = None
        self.preset.changed.connect(lambda *_: self._case and self.apply_defaults(self._case))
        self.basic = [self.preset, self.iterations, self.lr, self.seed, self.device, self.auto_stop]
        self.advanced = Container(
            widgets=[self.use_ema, self.patience, self.precision, self.tv_weight, self.optimize, self.backtrack,
                     self.preview_every]
        )

    def apply_defaults(self, case: str) -> None:
        """Show the defaults of the chosen preset for a paper case (again whenever the preset changes)."""
        self._case = case
        for name, value in preset_defaults(case, self.chosen_preset()).items():
            getattr(self, name).value = value

    def chosen_preset(self) -> str:
        """The preset the shown settings belong to: the chosen one, or what "auto" picked."""
        if self.preset.value == "auto":
            return self.auto_choice or "fast"
        return self.preset.value

    def kwargs(self) -> dict[str, Any]:
        """Keywords for a ``prepare_*`` function."""
        return {
            "preset": self.chosen_preset(),
            "iterations": int(self.iterations.value),
            "lr": float(self.lr.value),
            "seed": int(self.seed.value),
            "device": self.device.value,
            "auto_stop": bool(self.auto_stop.value),
            "use_ema": bool(self.use_ema.value),
            "patience": int(self.patience.value),
            "precision": self.precision.value,
            "tv_weight": float(self.tv_weight.value),
            "optimize": self.optimize.value,
            "backtrack": bool(self.backtrack.value),
            "preview_every": int(self.preview_every.value),
            "check_every": min(10, int(self.preview_every.value)),
        }


def collapsible(title: str, content: QWidget) -> QCollapsible:
    """A folded section holding ``content``."""
    section = QCollapsible(title, expandedIcon="▾", collapsedIcon="▸")
    section.addWidget(content)
    section.collapse(animate=False)
    return section


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else f"{seconds // 3600}h{seconds % 3600 // 60:02d}"


def progress_text(position: int, count: int, iteration: int, total: int, elapsed: float) -> tuple[float, str]:
    """Overall fraction done and a line: slice, iteration, iterations per second, time left."""
    rate = iteration / elapsed if elapsed > 0 else 0.0
    fraction = (position + iteration / max(total, 1)) / max(count, 1)
    left = ((total - iteration) + (count - position - 1) * total) / rate if rate > 0 else None
    parts = [f"slice {position + 1}/{count}"] if count > 1 else []
    parts.append(f"{iteration}/{total} it")
    parts.append(f"{rate:.1f} it/s")
    parts.append(f"{_clock(left)} left" if left is not None else "-- left")
    return fraction, " · ".join(parts)
