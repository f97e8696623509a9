"""Prior explorer: images drawn by untrained networks, and noise-impedance curves.

"Samples" adds the outputs of randomly initialised networks (one per seed) as
an image stack: what each architecture "likes" before seeing data.
"Noise impedance" fits the chosen image, the image plus noise, its shuffled
pixels and pure noise, and plots the four loss curves: natural images are
fitted fastest, noise slowest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from magicgui.widgets import ComboBox, Container, SpinBox
from napari.layers import Image
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import QGroupBox, QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from napari_dip._qt.controls import device_choices, layer_picker
from napari_dip._qt.live import Lifeline, make_worker
from napari_dip._qt.plot import CurvePlot
from napari_dip.core.model.networks import ARCHITECTURES
from napari_dip.core.tasks.presets import CASE_PRESETS
from napari_dip.core.validation import InputError
from napari_dip.gui.layers import channel_axis, check_image, current_index
from napari_dip.gui.messages import RunFailed
from napari_dip.gui.prior import CurvesReady, ImpedanceMonitor, SampleDrawn, SamplesReady, draw_samples, fit_curves


class PriorExplorerWidget(QWidget):
    """Samples from the prior and noise-impedance curves."""

    #: Emitted when a samples or curves job has ended.
    job_finished = Signal()

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.curves: dict[str, np.ndarray] = {}
        self._worker: Any = None
        self._monitor: ImpedanceMonitor | None = None
        self._lifeline = Lifeline()
        self.destroyed.connect(self._lifeline.cut)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._on_tick)

        self.height_box = SpinBox(label="height", min=16, max=1024, step=16, value=128)
        self.width_box = SpinBox(label="width", min=16, max=1024, step=16, value=128)
        self.channels = ComboBox(label="channels", choices=[("grey", 1), ("RGB", 3)], value=3)
        self.architecture = ComboBox(label="architecture", choices=ARCHITECTURES, value="skip")
        self.n_samples = SpinBox(label="samples", min=1, max=64, value=4)
        self.seed = SpinBox(label="seed", min=0, max=2**31 - 1, value=0)
        self.sample_preset = ComboBox(label="preset", choices=CASE_PRESETS, value="fast")
        self.samples_form = Container(widgets=[self.height_box, self.width_box, self.channels, self.architecture,
                                               self.n_samples, self.seed, self.sample_preset])
        self.image = layer_picker(napari_viewer, Image, "image")
        self.iterations = SpinBox(label="iterations", min=2, max=100_000, step=100, value=500)
        self.curve_preset = ComboBox(label="preset", choices=CASE_PRESETS, value="fast")
        self.device = ComboBox(label="device", choices=device_choices(), value="auto")
        self.curves_form = Container(widgets=[self.image, self.iterations, self.curve_preset, self.device])
        self._build_layout()
        events = napari_viewer.layers.events
        for event in (events.inserted, events.removed, events.reordered):
            event.connect(self.reset_choices)
        self.reset_choices()

    def _build_layout(self) -> None:
        layout = QVBoxLayout(self)
        samples = QGroupBox("Samples from the prior")
        box = QVBoxLayout(samples)
        box.addWidget(self.samples_form.native)
        self.samples_button = QPushButton("Draw samples")
        self.samples_button.clicked.connect(self._on_samples)
        box.addWidget(self.samples_button)
        self.samples_progress = QProgressBar()
        self.samples_progress.setRange(0, 1000)
        self.samples_progress.setFormat("ready")
        box.addWidget(self.samples_progress)
        layout.addWidget(samples)
        curves = QGroupBox("Noise impedance")
        box = QVBoxLayout(curves)
        box.addWidget(self.curves_form.native)
        buttons = QHBoxLayout()
        self.curves_button, self.stop_button = QPushButton("Fit curves"), QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.curves_button.clicked.connect(self._on_curves)
        self.stop_button.clicked.connect(self._on_stop)
        buttons.addWidget(self.curves_button)
        buttons.addWidget(self.stop_button)
        box.addLayout(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("ready")
        box.addWidget(self.progress)
        self.plot = CurvePlot(title="MSE")
        self.plot.placeholder = "Loss curves: image (fastest) ... noise (slowest)."
        box.addWidget(self.plot)
        layout.addWidget(curves)
        layout.addStretch(1)

    def reset_choices(self, *_: Any) -> None:
        if self._lifeline.alive:
            self.curves_form.reset_choices()

    def _start(self, func: Any, *args: Any) -> None:
        worker = make_worker(func, *args)
        worker.returned.connect(self._lifeline.guard(self._on_returned))
        if hasattr(worker, "yielded"):
            worker.yielded.connect(self._lifeline.guard(self._on_sample))
        worker.finished.connect(self._lifeline.guard(self._on_finished))
        self._worker = self._lifeline.worker = worker
        self.samples_button.setEnabled(False)
        self.curves_button.setEnabled(False)
        worker.start()

    def _on_samples(self) -> None:
        """Draw samples from the prior of the chosen architecture (added as an image stack)."""
        if self._worker is not None:
            return
        channels = int(self.channels.value)
        shape = (self.height_box.value, self.width_box.value) + ((channels,) if channels > 1 else ())
        self.samples_progress.setValue(0)
        self.samples_progress.setFormat(f"sample 0/{self.n_samples.value}")
        self._start(draw_samples, shape, self.architecture.value, self.n_samples.value, self.seed.value,
                    self.sample_preset.value)

    def _on_curves(self) -> None:
        """Fit the four noise-impedance curves on the current slice of the chosen image."""
        if self._worker is not None:
            return
        image = self.image.value
        try:
            check_image(image)
        except InputError as exc:
            show_error(str(exc))
            return
        data = np.array(image.data[current_index(image, self.viewer)])
        from napari_dip.core.extras.diagnostics import IMPEDANCE_CURVES

        self._monitor = ImpedanceMonitor(self.iterations.value, IMPEDANCE_CURVES)
        self.plot.clear()
        self.curves = {}
        self.stop_button.setEnabled(True)
        self._start(fit_curves, data, channel_axis(image), self.iterations.value, self.curve_preset.value,
                    self.device.value, self._monitor)
        self._lifeline.worker = self._monitor  # closing the widget stops the curves
        self._timer.start()

    def _on_stop(self) -> None:
        if self._monitor is not None:
            self._monitor.quit()
            self.stop_button.setEnabled(False)

    def _on_tick(self) -> None:
        monitor = self._monitor
        if monitor is None:
            return
        for name, iteration, loss in monitor.drain():
            self.plot.add_points(name, [iteration], [loss])
        done = monitor.curve * monitor.iterations + monitor.iteration
        self.progress.setValue(int(1000 * done / (len(monitor.names) * monitor.iterations)))
        self.progress.setFormat(f"{monitor.names[monitor.curve]}: {monitor.iteration}/{monitor.iterations} it")

    def _on_sample(self, drawn: SampleDrawn) -> None:
        self.samples_progress.setFormat(f"sample {drawn.done}/{drawn.count}")
        self.samples_progress.setValue(int(1000 * drawn.done / drawn.count))

    def _beside_layers(self, shape: tuple[int, ...]) -> tuple[float, ...]:
        """Translate of an (n, H, W[, C]) stack that puts it to the right of every layer, top-aligned."""
        if not len(self.viewer.layers):
            return (0.0, 0.0, 0.0)
        low, high = self.viewer.layers.extent.world
        gap = 0.05 * shape[2]
        return (0.0, float(low[-2]), float(high[-1]) + gap)

    def _on_returned(self, result: Any) -> None:
        if isinstance(result, RunFailed):
            show_error(result.message)
        elif isinstance(result, SamplesReady):
            s = result.settings
            self.viewer.add_image(result.samples, name=f"prior samples [{s['architecture']}]",
                                  rgb=result.samples.ndim == 4, metadata={"napari_dip": s},
                                  translate=self._beside_layers(result.samples.shape))
        elif isinstance(result, CurvesReady):
            self._on_tick()
            self.curves = {name: np.asarray(curve) for name, curve in result.curves.items()}
            self.plot.clear()
            for name, curve in self.curves.items():
                self.plot.add_points(name, list(range(1, len(curve) + 1)), curve.tolist())
            if result.stopped:
                show_info("Stopped: the curves so far are shown.")

    def _on_finished(self) -> None:
        self._timer.stop()
        self._worker = self._lifeline.worker = self._monitor = None
        self.samples_button.setEnabled(True)
        self.curves_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.progress.setFormat("ready")
        self.job_finished.emit()
