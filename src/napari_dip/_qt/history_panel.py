"""The history scrubber: a ``name [history]`` layer whose first axis is the iteration, and "Keep this iteration".

The panel owns the :class:`~napari_dip.gui.snapshots.Snapshots` of the current
fit and shows them as one image layer (axis 0 labelled "iteration" in the
viewer's dims). The user scrubs the slider back to the best-looking moment
and presses **Keep this iteration**; the auto-stop's choice and the
best-PSNR iteration are offered as jump targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from napari.utils.notifications import show_info
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from napari_dip.gui.snapshots import HISTORY_LIMIT, Snapshots

AUTO_STOP, BEST_PSNR = "auto-stop", "best PSNR"


class HistoryPanel(QWidget):
    """Snapshots of one fit as a scrubbable layer; jump targets are also marked on ``plot``."""

    def __init__(self, viewer: Any, plot: Any, guard: Any = lambda handler: handler,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = viewer
        self.plot = plot
        self.snapshots = Snapshots()
        self.layer: Any = None
        self.targets: dict[str, int] = {}
        self.kept: list[Any] = []  # layers made by "Keep this iteration"
        self._session: Any = None  # RunSession of the fit, and the slice's index
        self._index: tuple[int, ...] = ()
        self._output = 0
        self._geometry: tuple[tuple[float, ...], tuple[float, ...], bool] = ((), (), False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.info = QLabel(f"History: up to {HISTORY_LIMIT} snapshots of the output, kept during a run.")
        self.info.setWordWrap(True)
        self.position = QLabel("")
        layout.addWidget(self.info)
        layout.addWidget(self.position)
        row = QHBoxLayout()
        self.keep_button = QPushButton("Keep this iteration")
        self.keep_button.setToolTip("Add the output at the iteration shown by the 'iteration' slider as a layer.")
        self.auto_button, self.best_button = QPushButton(f"Go to {AUTO_STOP}"), QPushButton(f"Go to {BEST_PSNR}")
        for button in (self.keep_button, self.auto_button, self.best_button):
            button.setEnabled(False)
            row.addWidget(button)
        layout.addLayout(row)
        self.keep_button.clicked.connect(self._on_keep)
        self.auto_button.clicked.connect(lambda: self.jump(AUTO_STOP))
        self.best_button.clicked.connect(lambda: self.jump(BEST_PSNR))
        viewer.dims.events.current_step.connect(guard(self._on_step))  # guard: not once the widget is gone

    # -- a new fit ------------------------------------------------------------------------------
    def begin(self, session: Any, index: tuple[int, ...]) -> None:
        """A new fit (slice ``index`` of ``session``'s run): forget the previous snapshots and their layer."""
        if self.layer is not None and self.layer in self.viewer.layers:
            self.viewer.layers.remove(self.layer)
        self.layer, self.snapshots, self.targets = None, Snapshots(), {}
        self._session, self._index = session, tuple(index)
        plan = session.plan
        self._output = max(k for k, spec in enumerate(plan.outputs) if spec.visible)  # shown: the main output
        self._geometry = ((1.0, *plan.scale), (0.0, *session.slice_translate(index)), plan.rgb)
        self._refresh()

    def add(self, iteration: int, outputs: tuple[np.ndarray, ...], *, pin: bool = False) -> None:
        """Store a snapshot and show it; the slider follows the newest unless the user scrubbed back."""
        following = self.layer is None or self.current() == len(self.snapshots) - 1
        self.snapshots.add(iteration, outputs, pin=pin)
        scale, translate, rgb = self._geometry
        frame = outputs[self._output]
        ones = (1,) * (len(scale) - 1 - (frame.ndim - (1 if rgb else 0)))
        data = self.snapshots.stack(self._output).reshape((len(self.snapshots), *ones, *frame.shape))
        if self.layer is None or self.layer not in self.viewer.layers:
            self.layer = self.viewer.add_image(data, name=f"{self._session.plan.source} [history]", scale=scale,
                                               translate=translate, rgb=rgb)
            self._label_axis()
        else:
            self.layer.data = data
        self.layer.metadata["napari_dip"] = {"iterations": list(self.snapshots.iterations)}
        if following:
            self.show_position(len(self.snapshots) - 1)
        self._refresh()

    def mark(self, name: str, iteration: int | None) -> None:
        """Mark ``iteration`` on the plot and offer it as the jump target ``name`` (auto-stop or best PSNR)."""
        self.plot.set_marker(name, iteration)
        if iteration is None:
            self.targets.pop(name, None)
        else:
            self.targets[name] = int(iteration)
        self._refresh()

    def psnr_updated(self, series: str) -> None:
        """Mark the iteration of the best PSNR so far (from the plot's ``series``)."""
        iterations, psnr = self.plot.series(series)
        self.mark(BEST_PSNR, int(iterations[int(np.argmax(psnr))]) if psnr else None)

    # -- scrubbing ------------------------------------------------------------------------------
    def _axis(self) -> int:
        return self.viewer.dims.ndim - self.layer.ndim

    def _label_axis(self) -> None:
        labels = list(self.viewer.dims.axis_labels)
        labels[self._axis()] = "iteration"
        self.viewer.dims.axis_labels = labels

    def current(self) -> int:
        """Position of the snapshot the viewer shows (-1 without snapshots)."""
        if self.layer is None or self.layer not in self.viewer.layers or not len(self.snapshots):
            return -1
        step = self.viewer.dims.current_step[self._axis()]
        return int(np.clip(step, 0, len(self.snapshots) - 1))

    def show_position(self, position: int) -> None:
        """Move the iteration slider to snapshot ``position``."""
        if self.layer is not None and self.layer in self.viewer.layers:
            self.viewer.dims.set_current_step(self._axis(), position)

    def jump(self, name: str) -> None:
        """Show the snapshot nearest to a jump target."""
        if name in self.targets and len(self.snapshots):
            self.show_position(self.snapshots.nearest(self.targets[name]))

    def _on_step(self, *_: Any) -> None:
        self._refresh()

    def _on_keep(self) -> None:
        """Keep this iteration: output layers from the snapshot shown, with its iteration in the metadata."""
        position = self.current()
        if position < 0:
            return
        iteration = self.snapshots.iterations[position]
        tuples = self._session.snapshot_layers(self.snapshots.frames[position], iteration, self._index)
        self.kept = [self.viewer.add_image(data, **kwargs) for data, kwargs, _ in tuples]
        show_info(f"Kept iteration {iteration}.")

    def _refresh(self) -> None:
        count = len(self.snapshots)
        position = self.current()
        self.keep_button.setEnabled(position >= 0)
        self.auto_button.setEnabled(AUTO_STOP in self.targets and count > 0)
        self.best_button.setEnabled(BEST_PSNR in self.targets and count > 0)
        if count:
            self.info.setText(f"History: {count} snapshots ({self.snapshots.nbytes / 2**20:.1f} MiB, "
                              f"at most {HISTORY_LIMIT})")
        marks = ", ".join(f"{name} {it}" for name, it in self.targets.items())
        shown = f"iteration {self.snapshots.iterations[position]}" if position >= 0 else ""
        self.position.setText(" · ".join(part for part in (shown, marks) if part))
