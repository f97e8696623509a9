"""Running any widget leaves every input layer exactly as it was: data, scale, translate, name and metadata."""

from __future__ import annotations

import copy

import numpy as np

from napari_dip._qt.prior_explorer import PriorExplorerWidget
from napari_dip._qt.widgets import (
    DenoiseWidget,
    EnhanceWidget,
    FlashWidget,
    InpaintWidget,
    JpegWidget,
    SuperResolutionWidget,
)

SCALE, TRANSLATE = (0.5, 2.0), (10.0, -4.0)


def _state(layer):
    return (layer.data.copy(), layer.scale.copy(), layer.translate.copy(), layer.name, copy.deepcopy(layer.metadata))


def _assert_unchanged(layer, state):
    data, scale, translate, name, metadata = state
    np.testing.assert_array_equal(layer.data, data)
    np.testing.assert_array_equal(layer.scale, scale)
    np.testing.assert_array_equal(layer.translate, translate)
    assert layer.name == name
    assert layer.metadata == metadata


def test_every_widget_leaves_its_inputs_alone(make_napari_viewer, dock, run_widget, qtbot, tiny_image, configure):
    viewer = make_napari_viewer()
    meta = {"origin": {"lab": "x"}}
    src = viewer.add_image(tiny_image((16, 16)), name="src", scale=SCALE, translate=TRANSLATE, metadata=meta)
    flash = viewer.add_image(tiny_image((16, 16), seed=3), name="flash", scale=SCALE, translate=TRANSLATE)
    labels = np.zeros((16, 16), dtype=np.uint8)
    labels[4:8, 2:12] = 1
    mask = viewer.add_labels(labels, name="mask", scale=SCALE, translate=TRANSLATE)
    stack = viewer.add_image(np.stack([tiny_image((16, 16), seed=s) for s in range(3)]), name="stack",
                             scale=(3.0, *SCALE), translate=(1.0, *TRANSLATE), metadata={"z": 1})
    viewer.dims.set_current_step(0, 1)
    layers = [src, flash, mask, stack]
    states = [_state(layer) for layer in layers]

    for widget_class in (DenoiseWidget, JpegWidget, SuperResolutionWidget, SuperResolutionWidget, InpaintWidget,
                         EnhanceWidget, FlashWidget):
        _, widget = dock(widget_class, viewer)
        widget.image.value = src
        if widget_class is InpaintWidget:
            widget.mask.value = mask
        if widget_class is FlashWidget:
            widget.flash.value = flash
        if widget_class is SuperResolutionWidget:
            widget.factor_box.value = 2
        configure(widget, iterations=2, preview_every=1)
        run_widget(widget)
        if widget_class is DenoiseWidget:  # and a slice of a 3D stack
            widget.image.value = stack
            run_widget(widget)
    first, second = (layer for layer in viewer.layers if layer.name.startswith("src [super-resolved x2]"))
    np.testing.assert_allclose(second.scale, first.scale)  # the second run lands where the first did
    np.testing.assert_allclose(second.translate, first.translate)

    _, explorer = dock(PriorExplorerWidget, viewer)
    explorer.height_box.value = explorer.width_box.value = 16
    explorer.n_samples.value, explorer.sample_preset.value = 1, "fast"
    with qtbot.waitSignal(explorer.job_finished, timeout=60_000):
        explorer._on_samples()
    explorer.image.value, explorer.iterations.value, explorer.device.value = src, 2, "cpu"
    with qtbot.waitSignal(explorer.job_finished, timeout=60_000):
        explorer._on_curves()

    for layer, state in zip(layers, states, strict=True):
        _assert_unchanged(layer, state)
