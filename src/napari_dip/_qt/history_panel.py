"""The history scrubber: a ``name [history]`` layer whose first axis is the iteration, and "Keep this iteration".

The panel keeps the :class:`~napari_dip.gui.snapshots.Snapshots` of every
slice a run fits and shows those of the slice in view as one image layer,
indexed by iteration (:class:`~napari_dip.gui.snapshots.IterationView`), on an
axis of its own labelled "<task> iteration" (two widgets' histories never share
a slider). The layer stays hidden until the user scrubs it or jumps to a
target. The user scrubs back to the best-looking moment and presses **Keep this
iteration**; the auto-stop's choice and the best-PSNR iteration are offered as
jump targets.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np
from napari.utils.notifications import show_info
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from napari_dip.gui.layers import WORKING
from napari_dip.gui.snapshots import HISTORY_LIMIT, IterationView, Snapshots

AUTO_STOP, BEST_PSNR = "auto-stop", "best PSNR"
#: Per viewer, a counter giving every history panel an iteration axis of its own.
_AXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class HistoryPanel(QWidget):
    """Snapshots of a run's fits as a scrubbable layer; jump targets are also marked on ``plot``."""

    def __init__(self, viewer: Any, plot: Any, guard: Any = lambda handler: handler, name: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer, self.plot, self.name = viewer, plot, name
        self.by_slice: dict[tuple[int, ...], Snapshots] = {}
        self._totals: dict[tuple[int, ...], int] = {}  # iterations of each slice's fit: its slider's range
        self.snapshots = Snapshots()
        self.layer: Any = None
        self.targets: dict[str, int] = {}
        self.kept: list[Any] = []  # layers made by "Keep this iteration"
        self._session: Any = None  # RunSession of the run, and the index of the slice shown
        self._index: tuple[int, ...] = ()  # the slice whose snapshots are shown
        self._fitting: tuple[int, ...] = ()  # the slice being fitted
        self._output = 0
        self._moving = False  # the panel itself moves the slider (not the user)
        self._steps = tuple(viewer.dims.current_step)  # to tell which slider moved
        self._own_axes = next(_AXES.setdefault(viewer, itertools.count()))  # extra axes: one slider per panel
        self._build()
        viewer.dims.events.current_step.connect(guard(self._on_step))  # guard: not once the widget is gone

    def _build(self) -> None:
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

    # -- a run and its fits ---------------------------------------------------------------------
    def begin(self, session: Any, index: tuple[int, ...], total: int) -> None:
        """A new fit of ``total`` iterations (slice ``index`` of ``session``'s run); the first fit of a run forgets
        the previous run."""
        if session is not self._session:
            self.remove_layer()
            self.by_slice, self.targets, self._session = {}, {}, session
        plan = session.plan
        self._output = max(k for k, spec in enumerate(plan.outputs) if spec.visible)  # shown: the main output
        limit = HISTORY_LIMIT if session.count == 1 else max(8, HISTORY_LIMIT // session.count)
        self._fitting = tuple(index)
        self.by_slice[self._fitting] = Snapshots(limit)
        self._totals[self._fitting] = total
        self.targets = {}
        self._show_slice(self._fitting)

    def remove_layer(self) -> None:
        if self.layer is not None and self.layer in self.viewer.layers:
            self.viewer.layers.remove(self.layer)
        self.layer = None

    def add(self, iteration: int, outputs: tuple[np.ndarray, ...], *, pin: bool = False) -> None:
        """Store a snapshot of the slice being fitted and show it; the slider follows the newest unless the user
        scrubbed back."""
        shown = self._index == self._fitting
        following = self.layer is None or self.current() == len(self.snapshots) - 1
        self.by_slice[self._fitting].add(iteration, outputs, pin=pin)
        if shown:
            self._update_layer()
            if following:
                self.show_position(len(self.snapshots) - 1)
        self._refresh()

    def _show_slice(self, index: tuple[int, ...]) -> None:
        """Show the snapshots of slice ``index`` (where it lies in the viewer), in a layer of its own range."""
        self._index, self.snapshots = index, self.by_slice[index]
        visible = self.layer is not None and self.layer in self.viewer.layers and self.layer.visible
        self.remove_layer()  # napari sets a layer's range when it is added: each slice's has its own
        self._update_layer(visible)
        self._refresh()

    def _geometry(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        plan, extra = self._session.plan, (1.0,) * self._own_axes
        return (1.0, *extra, *plan.scale), (0.0, *(0.0,) * self._own_axes, *self._session.slice_translate(self._index))

    def _update_layer(self, visible: bool = False) -> None:
        if not len(self.snapshots):
            return
        scale, translate = self._geometry()
        plan = self._session.plan
        frame = self.snapshots.frames[0][self._output]
        ones = (1,) * (len(scale) - 1 - (frame.ndim - (1 if plan.rgb else 0)))
        frames = self.snapshots.stack(self._output).reshape((len(self.snapshots), *ones, *frame.shape))
        data = IterationView(frames, self.snapshots.iterations, self._totals[self._index] + 1)
        if self.layer is None or self.layer not in self.viewer.layers:
            self.layer = self.viewer.add_image(
                data, name=f"{plan.source} [history]", scale=scale, translate=translate, rgb=plan.rgb,
                contrast_limits=plan.contrast_limits, visible=visible, metadata={WORKING: True},
            )  # hidden until the user scrubs: the input stays what the viewer draws
            self._label_axis()
        else:
            self.layer.data = data  # same shape: the range the layer was added with holds
        self.layer.metadata["napari_dip"] = {"iterations": list(self.snapshots.iterations)}

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
        labels[self._axis()] = f"{self.name} iteration".strip()
        self.viewer.dims.axis_labels = labels

    def current(self) -> int:
        """Position of the snapshot the viewer shows (-1 without snapshots)."""
        if self.layer is None or self.layer not in self.viewer.layers or not len(self.snapshots):
            return -1
        step = int(np.clip(self.viewer.dims.current_step[self._axis()], 0, self.layer.data.shape[0] - 1))
        return int(self.layer.data.lookup[step])

    def show_position(self, position: int) -> None:
        """Move the iteration slider to snapshot ``position``."""
        if self.layer is not None and self.layer in self.viewer.layers:
            self._moving = True
            try:
                self.viewer.dims.set_current_step(self._axis(), self.snapshots.iterations[position])
            finally:
                self._moving = False

    def jump(self, name: str) -> None:
        """Show the snapshot nearest to a jump target."""
        if name in self.targets and len(self.snapshots):
            self.show_position(self.snapshots.nearest(self.targets[name]))
            self.layer.visible = True

    def _slice_in_view(self) -> tuple[int, ...] | None:
        """The index of the run's slice the viewer shows (None when the run fitted one slice)."""
        plan = self._session.plan if self._session is not None else None
        if plan is None or not plan.all_slices:
            return None
        lead = len(plan.stack_shape)
        point = self.viewer.dims.point[self.viewer.dims.ndim - len(plan.scale):][:lead]
        index = tuple(int(np.clip(round((p - t) / s), 0, n - 1))
                      for p, t, s, n in zip(point, plan.translate[:lead], plan.scale[:lead], plan.stack_shape,
                                            strict=True))
        return index if index in self.by_slice else None

    def _on_step(self, *_: Any) -> None:
        old, self._steps = self._steps, tuple(self.viewer.dims.current_step)
        if self.layer is None or self.layer not in self.viewer.layers:
            return
        in_view = self._slice_in_view()
        if in_view is not None and in_view != self._index:
            self._show_slice(in_view)
        if not self._moving and _changed_axis(old, self._steps) == self._axis():
            self.layer.visible = True  # the user scrubs
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
            slices = f", {len(self.by_slice)} slices" if len(self.by_slice) > 1 else ""
            total = sum(s.nbytes for s in self.by_slice.values())
            self.info.setText(f"History: {count} snapshots of this slice{slices} ({total / 2**20:.1f} MiB)")
        marks = ", ".join(f"{name} {it}" for name, it in self.targets.items())
        shown = f"iteration {self.snapshots.iterations[position]}" if position >= 0 else ""
        self.position.setText(" · ".join(part for part in (shown, marks) if part))


def _changed_axis(old: tuple[int, ...], new: tuple[int, ...]) -> int | None:
    """The one axis whose step changed from ``old`` to ``new`` (None when none, several, or the axes changed)."""
    if len(old) != len(new):
        return None
    changed = [axis for axis, (a, b) in enumerate(zip(old, new)) if a != b]
    return changed[0] if len(changed) == 1 else None
