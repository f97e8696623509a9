"""Form pieces shared by the widgets: layer pickers, fit settings and advanced options, a folded section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, SpinBox
from qtpy.QtWidgets import QWidget
from superqt import QCollapsible

from napari_dip.gui.form import preset_tips, shown_settings
from napari_dip.gui.layers import is_input


def layer_choices(viewer: Any, layer_type: type) -> Callable[[Any], list[tuple[str, Any]]]:
    """A magicgui ``choices`` callable listing the viewer's layers of ``layer_type`` (not the plugin's own
    preview and history layers)."""

    def choices(_widget: Any = None) -> list[tuple[str, Any]]:
        return [(layer.name, layer) for layer in viewer.layers if isinstance(layer, layer_type) and is_input(layer)]

    return choices


def layer_picker(viewer: Any, layer_type: type, label: str, *, nullable: bool = False, tooltip: str = "") -> ComboBox:
    """A drop-down of the viewer's layers of one type."""
    return ComboBox(label=label, choices=layer_choices(viewer, layer_type), nullable=nullable, tooltip=tooltip)


def device_choices() -> list[str]:
    """"auto" and the devices torch can use here (imports torch)."""
    from napari_dip.core.runtime.devices import available_devices

    return ["auto", *available_devices()]


class FitControls:
    """The settings every fit shares, as magicgui widgets (``basic`` shown, ``advanced`` folded away)."""

    def __init__(self, presets: tuple[str, ...]) -> None:
        from napari_dip.core.fitting.config import OPTIMIZE
        from napari_dip.core.runtime.devices import PRECISIONS

        self.preset = ComboBox(label="preset", choices=presets, value=presets[0], tooltip=preset_tips(presets))
        self.iterations = SpinBox(label="iterations", min=1, max=100_000, step=50, value=1800)
        self.lr = FloatSpinBox(label="learning rate", min=1e-5, max=1.0, step=0.001, value=0.01)
        self.lr.native.setDecimals(4)
        self.seed = SpinBox(label="seed", min=0, max=2**31 - 1, value=0)
        self.device = ComboBox(label="device", choices=device_choices(), value="auto")
        self.auto_stop = CheckBox(
            label="auto-stop", value=False,
            tooltip="Stop by itself once the picture is as good as it gets (no clean image needed) and keep that "
                    "picture. On by default where the preset stops by itself; untick to run all iterations.",
        )
        self.use_ema = CheckBox(label="average outputs (EMA)", value=True,
                                tooltip="Return the exponential moving average of the outputs rather than the last.")
        self.patience = SpinBox(label="auto-stop patience", min=10, max=100_000, step=50, value=500)
        self.precision = ComboBox(
            label="precision", choices=PRECISIONS, value="auto",
            tooltip="auto: bfloat16 where the device computes it natively (recent GPUs; CPUs with AVX512-BF16 or "
                    "AMX, 2D fits only), else float32.",
        )
        self.tv_weight = FloatSpinBox(
            label="TV weight", min=0.0, max=10.0, step=0.001, value=0.0,
            tooltip="Adds this weight x the total variation of the output to the loss (DIP-TV); 0: off.",
        )
        self.tv_weight.native.setDecimals(4)
        self.optimize = ComboBox(label="optimize", choices=OPTIMIZE, value="net",
                                 tooltip="Which parameters Adam updates: the network, the input code or both.")
        self.backtrack = CheckBox(label="backtrack on loss jumps", value=True)
        self.preview_every = SpinBox(label="preview every (it)", min=1, max=10_000, value=10,
                                     tooltip="Iterations between previews (they are also limited to 4 per second).")
        #: The preset the shown settings belong to: the chosen one, or what "auto" picked (set by the task widget).
        self.resolved = presets[0]
        self.basic = [self.preset, self.iterations, self.lr, self.seed, self.device, self.auto_stop]
        self.advanced = Container(
            widgets=[self.use_ema, self.patience, self.precision, self.tv_weight, self.optimize, self.backtrack,
                     self.preview_every]
        )

    def show(self, name: str, settings: Any) -> None:
        """Show the settings of the preset ``name`` resolves to (a :class:`~napari_dip.core.tasks.presets.Preset`)."""
        self.resolved = name
        for field, value in shown_settings(settings).items():
            getattr(self, field).value = value

    def kwargs(self) -> dict[str, Any]:
        """Keywords for a ``prepare_*`` function."""
        return {
            "preset": self.resolved,
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
