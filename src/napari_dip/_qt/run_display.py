"""What a task widget shows while it runs: the progress bar, the loss / PSNR plot, the preview and the history."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QProgressBar

from napari_dip._qt.history_panel import AUTO_STOP, HistoryPanel
from napari_dip._qt.live import PreviewLayer
from napari_dip._qt.plot import CurvePlot
from napari_dip.gui.form import progress_text
from napari_dip.gui.messages import FitUpdate, RunFailed, SliceFinished, SliceStarted


class RunDisplay:
    """The parts of a widget that follow a run, updated from the worker's messages."""

    def __init__(self, viewer: Any, guard: Any, task: str):
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        self.progress.setTextVisible(True)
        self.plot = CurvePlot(title="loss / PSNR")
        self.plot.placeholder = "Loss (and PSNR with a reference) appear here during a run."
        self.history = HistoryPanel(viewer, self.plot, guard, task)
        self.preview = PreviewLayer(viewer)
        self.later: int | None = None  # iterations of each slice after the first (warm-started: fewer)

    def show(self, message: Any, session: Any) -> None:
        """Follow one message of the worker (``session`` collects the run's results)."""
        if isinstance(message, FitUpdate):
            self._update(message, session)
        elif isinstance(message, SliceStarted):
            session.started(message)
            self.plot.clear()
            fit = message.run.fit
            self.history.begin(session, message.index, getattr(fit, "total", fit.config.iterations))  # tiles: all
        elif isinstance(message, SliceFinished):
            session.finished(message)
            if message.stop_reason == "auto_stop" or message.chosen_at != message.stopped_at:
                self.history.add(message.chosen_at, message.outputs, pin=True)
                self.history.mark(AUTO_STOP, message.chosen_at)
        elif isinstance(message, RunFailed):
            session.failed(message)

    def _update(self, message: FitUpdate, session: Any) -> None:
        fraction, text = progress_text(message.position, message.count, message.iteration, message.total,
                                       message.elapsed, self.later)
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(text)
        self.plot.add_points("loss", message.iterations, message.losses)
        if message.psnr:
            self.plot.add_points("PSNR (dB)", message.psnr_iterations, message.psnr, right=True)
            self.history.psnr_updated("PSNR (dB)")
        if message.preview is not None:
            self.preview.show(message.preview, session.plan)
        if message.snapshot is not None:
            self.history.add(message.iteration, message.snapshot)
