"""Labels become the engine's mask; bad input becomes a notification that says what to do, and adds no layer."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip._qt.widgets import DenoiseWidget, FlashWidget, InpaintWidget, SuperResolutionWidget
from napari_dip.core.tasks import prepare as tasks


def _errors(notes):
    return [message for severity, message in notes() if severity == "error"]


def _labels(shape=(32, 32)):
    labels = np.zeros(shape, dtype=np.uint8)
    labels[4:8, 4:20] = 1
    labels[12:14, 2:30] = 2
    labels[-3, -3] = 7
    return labels


def test_any_positive_label_is_a_missing_pixel(dock, run_widget, monkeypatch, tiny_image, configure):
    received = {}

    def spy(image, mask, **kwargs):
        received["image"], received["mask"], received["kwargs"] = image, mask, kwargs
        return tasks.prepare_inpaint(image, mask, **kwargs)

    monkeypatch.setitem(tasks.TASKS, "inpaint", spy)
    viewer, widget = dock(InpaintWidget)
    viewer.add_image(tiny_image(), name="src")
    labels = _labels()
    viewer.add_labels(labels, name="mask")
    widget.image.value = viewer.layers["src"]
    widget.mask.value = viewer.layers["mask"]
    widget.kind.value = "hole"
    configure(widget, iterations=2)
    run_widget(widget)
    assert received["mask"].dtype == bool
    np.testing.assert_array_equal(received["mask"], labels > 0)
    np.testing.assert_array_equal(received["image"], viewer.layers["src"].data)
    assert received["kwargs"]["kind"] == "hole" and received["kwargs"]["region"] == "mask"
    assert "src [inpainted]" in viewer.layers


def test_inpainting_around_the_mask_changes_only_painted_pixels(dock, run_widget, tiny_image, configure):
    viewer, widget = dock(InpaintWidget)
    image = viewer.add_image(tiny_image(), name="src").data.copy()
    labels = _labels()
    viewer.add_labels(labels, name="mask")
    widget.image.value, widget.mask.value = viewer.layers["src"], viewer.layers["mask"]
    configure(widget, iterations=2)
    run_widget(widget)
    result = viewer.layers["src [inpainted]"]
    np.testing.assert_array_equal(result.data[labels == 0], image[labels == 0])
    assert result.metadata["napari_dip"]["region"] == "mask"
    assert result.metadata["napari_dip"]["classic"] == "biharmonic"  # averaged by default
    assert 0 <= result.metadata["napari_dip"]["classic_share"] <= 1
    widget.region.value = "whole"
    run_widget(widget)
    assert viewer.layers[-1].metadata["napari_dip"]["region"] == "whole"
    assert "classic" not in viewer.layers[-1].metadata["napari_dip"]  # a whole-image fit is not averaged
    widget.region.value, widget.classic.value = "mask", "none"
    run_widget(widget)
    assert "classic" not in viewer.layers[-1].metadata["napari_dip"]


def _layer_names(viewer):
    return [layer.name for layer in viewer.layers]


def test_no_image_chosen(dock, notes):
    viewer, widget = dock(DenoiseWidget)
    widget._on_run()
    assert widget._worker is None
    assert any("Choose an image layer" in m for m in _errors(notes))
    assert _layer_names(viewer) == []


@pytest.mark.parametrize(
    "widget_class, setup, expected",
    [
        (InpaintWidget, "no_mask", "Choose a Labels layer"),
        (InpaintWidget, "mask_shape", "has shape (16, 16)"),
        (FlashWidget, "same_flash", "as both the no-flash and the flash image"),
        (DenoiseWidget, "reference_shape", "The reference 'ref' has shape (8, 8)"),
        (FlashWidget, "flash_shape", "flash image"),
        (InpaintWidget, "mask_3d", "mask"),
    ],
)
def test_refused_before_running(dock, notes, tiny_image, widget_class, setup, expected):
    viewer, widget = dock(widget_class)
    viewer.add_image(tiny_image(), name="src")
    if setup == "mask_shape":
        viewer.add_labels(_labels((16, 16)), name="mask")
        widget.mask.value = viewer.layers["mask"]
    if setup == "reference_shape":
        viewer.add_image(tiny_image((8, 8)), name="ref")
        widget.reference.value = viewer.layers["ref"]
    if setup == "flash_shape":
        viewer.add_image(tiny_image((16, 32)), name="flash")
    if setup == "mask_3d":
        viewer.add_labels(np.zeros((2, 16, 16), np.uint8), name="mask")
        widget.mask.value = viewer.layers["mask"]
    widget.image.value = viewer.layers["src"]
    if setup == "same_flash":
        widget.flash.value = viewer.layers["src"]
    if setup == "flash_shape":
        widget.flash.value = viewer.layers["flash"]
    names = _layer_names(viewer)
    widget._on_run()
    assert widget._worker is None
    errors = _errors(notes)
    assert any(expected in m for m in errors), errors
    assert _layer_names(viewer) == names


def test_empty_mask_is_reported_from_the_worker(dock, run_widget, notes, tiny_image, configure):
    viewer, widget = dock(InpaintWidget)
    viewer.add_image(tiny_image(), name="src")
    viewer.add_labels(np.zeros((32, 32), dtype=np.uint8), name="mask")
    widget.image.value, widget.mask.value = viewer.layers["src"], viewer.layers["mask"]
    configure(widget)
    run_widget(widget)
    assert any("The mask is empty" in m for m in _errors(notes))
    assert _layer_names(viewer) == ["src", "mask"]


def test_image_too_large_for_the_device(dock, run_widget, notes, monkeypatch, tiny_image, configure):
    from napari_dip.core.runtime import devices
    monkeypatch.setattr(devices, "free_memory", lambda device: 1024)  # 1 KiB free
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image(), name="src")
    configure(widget)
    run_widget(widget)
    errors = _errors(notes)
    assert any("GiB free" in m and "'fast' preset" in m for m in errors), errors
    assert _layer_names(viewer) == ["src"]
    assert widget.run_button.isEnabled()


def test_drp_with_photon_noise_is_refused(dock, run_widget, notes, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    viewer.add_image(tiny_image(), name="src")
    configure(widget, iterations=2)
    widget.noise.value = "poisson"
    widget.fit.preset.value = "drp"
    run_widget(widget)
    errors = _errors(notes)
    assert any("root of the data term" in m and "preset='fast'" in m for m in errors), errors
    assert _layer_names(viewer) == ["src"]
    assert widget.run_button.isEnabled()


def test_defaults_follow_the_core_rule_for_factor_and_kind(dock):
    from napari_dip.core.tasks.presets import PRESETS

    _, sr = dock(SuperResolutionWidget)
    sr.factor_box.value = 8
    assert sr.fit.iterations.value == PRESETS["sr8"].iterations == 4000
    sr.factor_box.value = 4
    assert sr.fit.iterations.value == PRESETS["sr4"].iterations
    _, inpaint = dock(InpaintWidget)
    inpaint.kind.value = "sparse"
    assert (inpaint.fit.iterations.value, inpaint.fit.lr.value) == (11000, 0.001)
    inpaint.kind.value = "hole"
    assert inpaint.fit.iterations.value == PRESETS["large_hole"].iterations
