"""Compare: the classic methods' results beside the DIP result, in napari's grid, with a PSNR / SSIM table.

:class:`ComparePanel` runs :func:`napari_dip.gui.compare.compare_methods` in
a worker, adds each result as a ``name [method]`` layer, switches the grid
view on and fills the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from napari.utils.notifications import show_error, show_warning
from qtpy.QtCore import Signal
from qtpy.QtWidgets import QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from napari_dip._qt.live import make_worker
from napari_dip.gui.compare import CompareRequest, MethodDone, compare_methods, verdict
from napari_dip.gui.session import LayerPlan


class ComparePanel(QWidget):
    """The Compare button, its progress line and the PSNR / SSIM table."""

    #: Emitted when a comparison has ended.
    compare_finished = Signal()

    def __init__(self, viewer: Any, inputs: Callable[[], tuple[CompareRequest, LayerPlan]],
                 guard: Callable[[Any], Any] = lambda handler: handler, parent: QWidget | None = None):
        super().__init__(parent)
        self._guard = guard  # drops the worker's late signals once the widget is gone
        self.viewer = viewer
        self.layers: list[Any] = []
        self.scores: list[Any] = []
        self._inputs = inputs
        self._worker: Any = None
        self._plan: LayerPlan | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton("Compare with classic methods")
        self.button.setToolTip("Runs the usual non-DIP methods on the current slice and shows them in a grid.")
        self.button.clicked.connect(self._on_compare)
        self.status = QLabel("")
        self.status.setWordWrap(True)  # the verdict is a sentence: it wraps, the widget keeps its width
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["method", "PSNR (dB)", "SSIM"])
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(170)  # room for the usual 4 methods and the DIP result
        self.table.setVisible(False)
        for widget in (self.button, self.status, self.table):
            layout.addWidget(widget)

    def _on_compare(self) -> None:
        if self._worker is not None:
            return
        try:
            request, self._plan = self._inputs()
        except ValueError as exc:
            show_error(str(exc))
            return
        self.layers, self.scores = [], []
        self.table.setRowCount(0)
        self.table.setVisible(request.reference is not None)
        worker = make_worker(compare_methods, request)
        worker.yielded.connect(self._guard(self._on_done))
        worker.returned.connect(self._guard(self._on_returned))
        worker.finished.connect(self._guard(self._on_finished))
        self._worker = worker
        self.button.setEnabled(False)
        self.status.setText(f"running {request.methods[0]} (1/{len(request.methods)})…")
        worker.start()

    def _on_done(self, done: MethodDone) -> None:
        following = done.position + 1 < done.count
        self.status.setText(f"{done.position + 1}/{done.count} done" + (" …" if following else ""))
        if done.output is None:
            show_warning(done.error)
            return
        plan = self._plan
        data = done.output.reshape(tuple(plan.stack_shape) + done.output.shape)
        meta = {"method": done.name, "source": plan.source, **plan.metadata}
        if done.score is not None:
            meta.update(psnr=done.score.psnr, ssim=done.score.ssim)
            self._add_score(done.score)
        self.layers.append(self.viewer.add_image(
            data, name=f"{plan.source} [{done.name}]", scale=plan.scale, translate=plan.translate, rgb=plan.rgb,
            contrast_limits=plan.contrast_limits, metadata={"napari_dip": meta},
        ))

    def _add_score(self, rated: Any) -> None:
        self.scores.append(rated)
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate((rated.name, f"{rated.psnr:.2f}", f"{rated.ssim:.3f}")):
            self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()

    def _on_returned(self, others: list[Any]) -> None:
        for rated in others:
            self._add_score(rated)
        line = verdict(self.scores)
        if line:
            self.status.setText(line)

    def _on_finished(self) -> None:
        self._worker = None
        self.button.setEnabled(True)
        if self.layers:
            self.viewer.grid.enabled = True
            self.viewer.reset_view()  # the grid's tiles are laid out anew: frame them all
        self.compare_finished.emit()
