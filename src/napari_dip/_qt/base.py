"""The base of the restoration widgets: layer pickers, fit settings, Run / Stop, progress and a live plot.

A task widget reads its inputs when Run is pressed, runs
:func:`~napari_dip.gui.runner.run_request` in a napari thread worker, shows a
preview layer updated in place, and adds the output layers when the run ends,
is stopped (the result so far is kept) or fails (a notification says what
to do). Subclasses only declare the task and add their own inputs.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
from magicgui.widgets import ComboBox, Container, Widget
from napari.layers import Image
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QEvent, Qt, Signal
from qtpy.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from napari_dip._qt.compare import ComparePanel
from napari_dip._qt.controls import FitControls, collapsible, layer_picker
from napari_dip._qt.live import Lifeline, make_worker
from napari_dip._qt.run_display import RunDisplay
from napari_dip.core.extras.classic import methods_for
from napari_dip.gui.compare import CompareRequest
from napari_dip.gui.form import SLICE_MODES
from napari_dip.gui.layers import (
    SliceSource,
    check_image,
    companion,
    image_shape,
    leading_shape,
)
from napari_dip.gui.plan import Form, compare_request, plan_run
from napari_dip.gui.runner import RunRequest, run_request
from napari_dip.gui.session import LayerPlan, OutputSpec, RunSession


class TaskWidget(QWidget):
    """One restoration task. Subclasses set ``task``, ``preset_key``, ``outputs`` and the hooks below."""

    #: Emitted in the GUI thread when a run has ended and its outputs (if any) were added.
    run_finished = Signal()

    task: ClassVar[str] = ""
    outputs: ClassVar[tuple[OutputSpec, ...]] = ()
    image_label: ClassVar[str] = "image"
    help_text: ClassVar[str] = ""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.preview_interval = 0.25  # seconds between previews
        self.last_outputs: list[Any] = []
        self._worker: Any = None
        self._session: RunSession | None = None
        self._stopping = False
        self._started_at = 0.0
        self._lifeline = Lifeline()
        self.destroyed.connect(self._lifeline.cut)

        self.image = layer_picker(napari_viewer, Image, self.image_label)
        self.reference = layer_picker(
            napari_viewer, Image, "reference", nullable=True,
            tooltip="Optional clean image of the output's size: adds a PSNR curve.",
        )
        from napari_dip.core.tasks.presets import preset_choices

        self.fit = FitControls(preset_choices(self.task))
        self.slices = ComboBox(label="stack", choices=SLICE_MODES, value=SLICE_MODES[0],
                               tooltip="For 3D / time-lapse layers: the slice shown now; every slice in turn, each "
                                       "fit starting from the previous one's; or the last three axes as one volume.")
        self.form = Container(widgets=[self.image, *self._task_widgets(), self.reference, *self.fit.basic, self.slices])
        self.fit.preset.changed.connect(lambda *_: self.refresh_preset(force=True))
        self._shown_choice: Any = None
        self.refresh_preset(force=True)
        self._build_layout()
        self.image.changed.connect(self._on_image_changed)
        self.run_button.clicked.connect(self._on_run)
        self.stop_button.clicked.connect(self._on_stop)
        events = napari_viewer.layers.events
        for event in (events.inserted, events.removed, events.reordered):
            event.connect(self.reset_choices)
        self.reset_choices()

    # -- hooks for subclasses -----------------------------------------------------------------
    def _task_widgets(self) -> list[Widget]:
        """Extra form widgets, shown after the image picker."""
        return []

    def _task_inputs(self, image: Any) -> list[SliceSource]:
        """Positional inputs after the image (a mask, a flash image); raise InputError when unusable."""
        return []

    def _task_kwargs(self) -> dict[str, Any]:
        """Task keywords (factor, kind)."""
        return {}

    def _choice_options(self) -> dict[str, Any]:
        """What the preset's choice depends on besides its name (factor, kind, the image)."""
        return {}

    def preset_choice(self) -> Any:
        """The preset the chosen name runs (:func:`~napari_dip.core.tasks.preset_choice.choose_preset`)."""
        from napari_dip.core.tasks.preset_choice import choose_preset

        return choose_preset(self.task, self.fit.preset.value, **self._choice_options(), refuse=False)

    def refresh_preset(self, force: bool = False) -> None:
        """Show the settings of the preset that runs: when the preset is set (``force``), or when what it resolves
        to changes (so adding layers does not reset edited settings)."""
        choice = self.preset_choice()
        if not force and choice == self._shown_choice:
            return
        self._shown_choice = choice
        self.fit.show(choice.name, choice.settings)
        self._preset_shown(choice)

    def _preset_shown(self, choice: Any) -> None:
        """A hook for subclasses: the preset ``choice`` is shown now."""

    def _outputs(self) -> tuple[OutputSpec, ...]:
        return self.outputs

    def _task_metadata(self) -> dict[str, Any]:
        """Extra metadata entries naming the companion layers (mask, flash image)."""
        return {}

    @property
    def factor(self) -> int:
        """How many times larger the output is per side."""
        return 1

    # -- layout -------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        """Everything in a scroll area: the widget fits a short screen whatever is unfolded."""
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fit the dock's width
        content = QWidget()
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        if self.help_text:
            label = QLabel(self.help_text)
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addWidget(self.form.native)
        layout.addWidget(collapsible("Advanced options", self.fit.advanced.native))
        buttons = QHBoxLayout()
        self.run_button, self.stop_button = QPushButton("Run"), QPushButton("Stop")
        self.stop_button.setEnabled(False)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        layout.addLayout(buttons)
        self.display = RunDisplay(self.viewer, self._lifeline.guard, self.task)
        self.progress, self.plot, self.history = self.display.progress, self.display.plot, self.display.history
        for part in (self.progress, self.plot, self.history):
            layout.addWidget(part)
        self.compare = None
        if methods_for(self.task):
            self.compare = ComparePanel(self.viewer, self._compare_inputs, self._lifeline.guard)
            layout.addWidget(self.compare)
        layout.addStretch(1)
        # As wide as the content and its scroll bar: only the height scrolls.
        scroll.setMinimumWidth(content.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())

    def reset_choices(self, *_: Any) -> None:
        """Refresh the layer pickers (connected to the viewer's layer list)."""
        if self._lifeline.alive:
            self.form.reset_choices()
            self._on_image_changed()

    def _on_image_changed(self, *_: Any) -> None:
        image = self.image.value
        self.slices.enabled = image is not None and bool(leading_shape(image))

    # -- run ----------------------------------------------------------------------------------
    def _output_shape(self, image: Any) -> tuple[int, ...]:
        shape = image_shape(image)
        return (shape[0] * self.factor, shape[1] * self.factor, *shape[2:])

    def _form(self) -> Form:
        """The form's values (the companion layers checked against the image: may raise InputError)."""
        image = self.image.value
        check_image(image)
        reference = None
        if self.reference.value is not None:
            reference = companion(self.reference.value, image, self._output_shape(image), "reference",
                                  "choose a clean image of the output's size, or no reference.")
        return Form(self.task, image, self._task_inputs(image), reference,
                    {**self.fit.kwargs(), **self._task_kwargs()}, self._outputs(), self._layer_metadata(),
                    self.slices.value, self.factor, self.preview_interval)

    def _plan(self) -> tuple[RunRequest, RunSession]:
        """Read the form into a request for the worker and a session for the outputs (may raise InputError)."""
        return plan_run(self._form(), self.viewer)

    def _layer_metadata(self) -> dict[str, Any]:
        extra = self._task_metadata()
        if self.reference.value is not None:
            extra["reference"] = self.reference.value.name
        return extra

    def _compare_inputs(self) -> tuple[CompareRequest, LayerPlan]:
        """The current slice and the geometry of its outputs, for the classic methods (may raise InputError)."""
        dip = np.asarray(self.last_outputs[-1].data) if self.last_outputs else None
        return compare_request(self._form(), self.viewer, self._compare_methods(), dip)

    def _compare_methods(self) -> tuple[str, ...]:
        """The classic methods Compare runs for this widget's settings."""
        return methods_for(self.task)

    def _on_run(self) -> None:
        """Start a run with the current settings (does nothing while one is going)."""
        if self._worker is not None:
            return
        try:
            request, session = self._plan()
        except ValueError as exc:
            show_error(str(exc))
            return
        self.display.later = request.later_iterations()
        worker = make_worker(run_request, request)
        worker.yielded.connect(self._lifeline.guard(self._on_message))
        worker.finished.connect(self._lifeline.guard(self._on_finished))
        self._worker, self._session, self._lifeline.worker = worker, session, worker
        self.display.preview.remove()
        self._stopping = False
        self._started_at = time.monotonic()
        self.plot.clear()
        self._set_running(True)
        worker.start()

    def _on_stop(self) -> None:
        """Stop at the next iteration and keep the result so far."""
        if self._worker is None:
            return
        self._stopping = True
        self._worker.quit()
        self.stop_button.setEnabled(False)
        self.progress.setFormat("stopping…")

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        """Hiding the widget (title-bar button) stops its run; the result so far is kept."""
        super().hideEvent(event)
        if not event.spontaneous():
            self._stop_quietly()

    def changeEvent(self, event: Any) -> None:  # noqa: N802 - Qt naming
        """Closing the widget (title-bar x: napari takes it out of its dock) stops its run, like Stop."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.ParentChange and self.parentWidget() is None:
            self._stop_quietly()

    def _stop_quietly(self) -> None:
        if self._worker is not None and not self._stopping:
            self._on_stop()

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        if running:
            self.progress.setValue(0)
            self.progress.setFormat("preparing…")

    # -- messages from the worker ---------------------------------------------------------------
    def _on_message(self, message: Any) -> None:
        if message is not None and self._session is not None:
            self.display.show(message, self._session)

    def _on_finished(self) -> None:
        session, stopped = self._session, self._stopping
        self._worker = self._session = self._lifeline.worker = None
        self._stopping = False
        self.display.preview.remove()
        self._set_running(False)
        self.progress.setFormat("ready")
        self.progress.setValue(0)
        if session is not None:
            self._report(session, stopped)
        self.run_finished.emit()

    def _report(self, session: RunSession, stopped: bool) -> None:
        """Add the outputs and tell the user, briefly, how the run ended (the details are in the metadata)."""
        if session.failure is None and stopped and not session.complete:
            session.keep_current()
        self.last_outputs = [self.viewer.add_image(data, **kwargs) for data, kwargs, _ in session.layers()]
        if session.failure is not None:
            if self.last_outputs:
                show_warning(f"{session.failure.message} The slices restored before are kept.")
            else:
                show_error(session.failure.message)
        elif not self.last_outputs:
            show_warning("Stopped before the first iteration: no result to keep.")
        else:
            text, note = session.summary(stopped, time.monotonic() - self._started_at)
            self.progress.setFormat(text)
            self.progress.setValue(1000)
            show_info(note)
