"""Fixtures for the widget tests: a viewer with a docked widget and tiny, fast fits."""

from __future__ import annotations

import pytest
from napari.utils.notifications import notification_manager

#: Long enough for a 20-iteration fit on a busy 2-core machine.
RUN_TIMEOUT_MS = 90_000


def _configure(widget, iterations: int = 20, preview_every: int = 5) -> None:
    """Settings for tiny fits: fast preset, CPU, frequent previews."""
    widget.fit.preset.value = "fast"
    widget.fit.device.value = "cpu"
    widget.fit.iterations.value = iterations
    widget.fit.preview_every.value = preview_every
    widget.preview_interval = 0.0


@pytest.fixture
def configure():
    """``configure(widget, iterations=20, preview_every=5)``: settings for tiny CPU fits."""
    return _configure


@pytest.fixture
def dock(make_napari_viewer):
    """``dock(WidgetClass, **layers)`` -> (viewer, widget): a viewer with the widget docked."""

    def factory(widget_class, viewer=None):
        viewer = viewer or make_napari_viewer()
        widget = widget_class(viewer)
        viewer.window.add_dock_widget(widget)
        return viewer, widget

    return factory


@pytest.fixture
def run_widget(qtbot):
    """Press Run and wait until the run has ended."""

    def run(widget, timeout: int = RUN_TIMEOUT_MS):
        with qtbot.waitSignal(widget.run_finished, timeout=timeout):
            widget._on_run()

    return run


@pytest.fixture
def notes():
    """The notifications shown since the test started: ``notes()`` -> list of (severity, message)."""
    start = len(notification_manager.records)

    def new():
        return [(str(n.severity), n.message) for n in notification_manager.records[start:]]

    return new
