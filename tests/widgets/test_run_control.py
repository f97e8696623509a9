"""Live preview, Stop keeps the result, and a run survives deleted layers and a closed viewer."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtWidgets import QDockWidget

from napari_dip._qt.widgets import DenoiseWidget

LONG = 5000  # iterations: far more than a test waits for; these runs end by Stop or close


def _started(widget):
    return bool(widget.plot.series("loss")[0])


def test_preview_layer_updates_in_place(dock, run_widget, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image(), name="src")
    configure(widget, iterations=20, preview_every=5)
    snapshots = []

    def on_inserted(event):
        layer = event.value
        if layer.name == "src [preview]":
            snapshots.append(layer.data.copy())
            layer.events.data.connect(lambda e: snapshots.append(e.source.data.copy()))

    viewer.layers.events.inserted.connect(on_inserted)
    run_widget(widget)
    assert len(snapshots) >= 2
    assert any(not np.array_equal(snapshots[0], s) for s in snapshots[1:])
    assert "src [preview]" not in viewer.layers  # replaced by the output
    assert "src [denoised]" in viewer.layers


def test_stop_keeps_result_and_input_unchanged(dock, qtbot, tiny_image, configure, notes):
    viewer, widget = dock(DenoiseWidget)
    source = viewer.add_image(tiny_image(), name="src")
    before = source.data.copy()
    configure(widget, iterations=LONG)
    widget._on_run()
    worker = widget._worker
    assert not widget.run_button.isEnabled() and widget.stop_button.isEnabled()
    widget._on_run()  # ignored while a run is going
    assert widget._worker is worker
    qtbot.waitUntil(lambda: _started(widget), timeout=60_000)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000):
        widget._on_stop()
    assert worker.abort_requested and not worker.is_running
    output = viewer.layers["src [denoised]"]
    meta = output.metadata["napari_dip"]
    assert meta["stop_reason"] == "stopped"
    assert 1 <= meta["stopped_at"] < LONG
    assert output.data.shape == before.shape
    np.testing.assert_array_equal(source.data, before)
    assert widget.run_button.isEnabled() and not widget.stop_button.isEnabled()
    assert any("Stopped at" in message for _, message in notes())


def test_deleting_layers_during_a_run(dock, run_widget, qtbot, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image(), name="src")
    configure(widget, iterations=40, preview_every=2)
    with qtbot.waitSignal(widget.run_finished, timeout=90_000):
        widget._on_run()
        qtbot.waitUntil(lambda: "src [preview]" in viewer.layers, timeout=60_000)
        viewer.layers.remove("src [preview]")
        viewer.layers.remove("src")
    assert [layer.name for layer in viewer.layers] == ["src [history]", "src [denoised]"]
    assert [layer.name for layer in widget.image.choices] == ["src [denoised]"]  # not the run's own history


def test_closing_the_viewer_during_a_run(dock, qtbot, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image(), name="src")
    configure(widget, iterations=LONG)
    widget._on_run()
    worker = widget._worker
    qtbot.waitUntil(lambda: _started(widget), timeout=60_000)
    viewer.close()
    qtbot.waitUntil(lambda: not worker.is_running, timeout=60_000)
    assert worker.abort_requested


NOTE_LIMIT = 70  # characters napari shows on one line of a notification before eliding the rest


def _stop_by(viewer, widget, how):
    if how == "remove":  # the dock widget's "close this panel" (x) button
        viewer.window.remove_dock_widget(widget)
    else:  # its "hide this panel" button closes the QDockWidget, which hides it
        dock_widget = widget.parentWidget()
        while not isinstance(dock_widget, QDockWidget):
            dock_widget = dock_widget.parentWidget()
        dock_widget.close()


@pytest.mark.parametrize("how", ["remove", "hide"])
def test_closing_or_hiding_the_widget_stops_and_keeps_the_result(make_napari_viewer, dock, qtbot, tiny_image, configure, notes, how):
    viewer, widget = dock(DenoiseWidget, make_napari_viewer(show=True))
    viewer.add_image(tiny_image(), name="a source layer with a rather long and descriptive name")
    qtbot.waitUntil(widget.isVisible, timeout=10_000)
    configure(widget, iterations=LONG)
    widget._on_run()
    worker = widget._worker
    qtbot.waitUntil(lambda: _started(widget), timeout=60_000)
    with qtbot.waitSignal(widget.run_finished, timeout=60_000):
        _stop_by(viewer, widget, how)
    assert worker.abort_requested
    output = viewer.layers["a source layer with a rather long and descriptive name [denoised]"]
    meta = output.metadata["napari_dip"]
    assert meta["stop_reason"] == "stopped" and 1 <= meta["stopped_at"] < LONG
    assert widget.progress.format() == f"stopped at {meta['stopped_at']} / {LONG}"
    stops = [m for _, m in notes() if "Stopped" in m]
    assert stops and all(len(m) <= NOTE_LIMIT for m in stops), stops


def test_completed_run_gets_a_short_notification(dock, run_widget, tiny_image, configure, notes):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image(), name="a source layer with a rather long and descriptive name")
    configure(widget, iterations=3)
    run_widget(widget)
    infos = [m for severity, m in notes() if severity == "info"]
    assert len(infos) == 1 and "3 iterations" in infos[0] and len(infos[0]) <= NOTE_LIMIT, infos
    assert widget.progress.format() == "done: 3 / 3"
