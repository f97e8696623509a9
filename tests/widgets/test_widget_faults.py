"""Faults users met in the widgets: a mask range read at open, a short screen, the grid after Compare, an input
deleted mid-run, the end of an all-slices run."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip._qt.widgets import DenoiseWidget, InpaintWidget, SuperResolutionWidget
from napari_dip.gui.form import SLICE_MODES


def test_the_inpaint_widget_opened_on_a_loaded_image_proposes_its_valid_range(dock, make_napari_viewer, notes):
    viewer = make_napari_viewer()
    data = np.full((64, 64), 2000, np.uint16)
    data[5, 7] = 0  # one dead pixel
    viewer.add_image(data, name="cells")
    _, widget = dock(InpaintWidget, viewer)  # the README's flow: the image first, then the widget
    assert (widget.valid_low.value, widget.valid_high.value) == (1, 65534)
    widget.intensity_button.changed.emit(True)
    mask = viewer.layers["cells [mask]"].data
    assert mask.sum() == 1 and mask[5, 7] == 1


@pytest.mark.parametrize("widget_class", [DenoiseWidget, InpaintWidget, SuperResolutionWidget])
def test_every_widget_fits_a_1000_pixel_screen_with_everything_unfolded(dock, widget_class):
    viewer, widget = dock(widget_class)
    widget.compare and widget.compare.table.setVisible(True)
    for child in widget.findChildren(type(widget.findChild(__import__("superqt").QCollapsible))):
        child.expand(animate=False)
    assert widget.minimumSizeHint().height() < 600  # napari's window chrome and the layer list need the rest


def test_compare_frames_its_grid(dock, qtbot, tiny_image):
    viewer, widget = dock(SuperResolutionWidget)
    viewer.add_image(tiny_image((16, 16)), name="small")
    viewer.camera.zoom, viewer.camera.center = 40.0, (0.0, 500.0, 500.0)  # far from the grid's tiles
    with qtbot.waitSignal(widget.compare.compare_finished, timeout=60_000):
        widget.compare.button.click()
    assert viewer.grid.enabled
    framed = (viewer.camera.zoom, *viewer.camera.center)
    viewer.reset_view()
    assert framed == pytest.approx((viewer.camera.zoom, *viewer.camera.center))


def test_an_all_slices_run_ends_counting_slices_and_plans_the_warm_slices_time(dock, run_widget, tiny_image,
                                                                               configure, notes):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(np.stack([tiny_image(seed=k) for k in range(3)]), name="stack")
    configure(widget, iterations=8, preview_every=2)
    widget.slices.value = SLICE_MODES[1]
    run_widget(widget)
    assert widget.progress.format() == "done: 3 of 3 slices"
    assert any("Done: 3 of 3 slices" in message for _, message in notes())
    assert widget.display.later == 4  # the warm-started slices run half the first's iterations


def test_deleting_the_input_mid_run_never_offers_the_runs_own_layers(dock, qtbot, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image((48, 48)), name="src")
    configure(widget, iterations=3000, preview_every=1)
    widget._on_run()
    qtbot.waitUntil(lambda: "src [preview]" in [layer.name for layer in viewer.layers], timeout=60_000)
    viewer.layers.remove("src")
    assert widget.image.value is None and not [name for name, _ in widget.image.choices if "[" in name]
    with qtbot.waitSignal(widget.run_finished, timeout=60_000):
        widget._on_stop()
