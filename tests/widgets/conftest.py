"""Fixtures for the widget tests: a viewer with a docked widget and tiny, fast fits."""

from __future__ import annotations

import numpy as np
import pytest
from napari.utils.notifications import notification_manager

#: Long enough for a 20-iteration fit on a busy 2-core machine.
RUN_TIMEOUT_MS = 90_000


def _tiny_image(shape=(32, 32), seed=0) -> np.ndarray:
    """A smooth grey image with noise, as uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    clean = 128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0)
    extra = shape[2:]
    if extra:
        clean = np.stack([clean * (0.6 + 0.2 * c) for c in range(extra[0])], axis=-1)
    return np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)


def _configure(widget, iterations: int = 20, preview_every: int = 5) -> None:
    """Settings for tiny fits: fast preset, CPU, frequent previews."""
    widget.fit.preset.value = "fast"
    widget.fit.device.value = "cpu"
    widget.fit.iterations.value = iterations
    widget.fit.preview_every.value = preview_every
    widget.preview_interval = 0.0


@pytest.fixture
def tiny_image():
    """``tiny_image(shape=(32, 32), seed=0)``: a small noisy uint8 image (channels last if 3D)."""
    return _tiny_image


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
