"""Prior explorer: samples become an image stack; noise-impedance curves are fitted, plotted and stoppable."""

from __future__ import annotations

import numpy as np

from napari_dip._qt.prior_explorer import PriorExplorerWidget
from napari_dip.core.extras.diagnostics import IMPEDANCE_CURVES


def test_samples_layer(dock, qtbot):
    viewer, widget = dock(PriorExplorerWidget)
    widget.height_box.value, widget.width_box.value = 64, 96
    widget.channels.value = 1
    widget.n_samples.value = 2
    widget.sample_preset.value = "fast"
    widget.architecture.value = "deep_decoder"
    with qtbot.waitSignal(widget.job_finished, timeout=60_000):
        widget._on_samples()
    layer = viewer.layers["prior samples [deep_decoder]"]
    assert layer.data.shape == (2, 64, 96)
    assert layer.metadata["napari_dip"]["architecture"] == "deep_decoder"
    assert not np.array_equal(layer.data[0], layer.data[1])  # one sample per seed


def test_noise_impedance_curves(dock, qtbot, tiny_image):
    viewer, widget = dock(PriorExplorerWidget)
    viewer.add_image(tiny_image((64, 64)), name="src")
    widget.iterations.value = 3
    widget.device.value = "cpu"
    with qtbot.waitSignal(widget.job_finished, timeout=90_000):
        widget._on_curves()
    assert list(widget.curves) == list(IMPEDANCE_CURVES)
    assert all(len(curve) == 3 for curve in widget.curves.values())
    assert all(widget.plot.series(name)[1] for name in IMPEDANCE_CURVES)


def test_noise_impedance_stop(dock, qtbot, tiny_image, notes):
    viewer, widget = dock(PriorExplorerWidget)
    viewer.add_image(tiny_image((64, 64)), name="src")
    widget.iterations.value = 5000
    widget.device.value = "cpu"
    with qtbot.waitSignal(widget.job_finished, timeout=90_000):
        widget._on_curves()
        qtbot.waitUntil(lambda: widget._monitor is not None and widget._monitor.iteration >= 12, timeout=60_000)
        widget._on_stop()
    # Stop ends the current curve (keeping every loss so far) and skips the others.
    assert list(widget.curves) == ["image"]
    assert 12 <= len(widget.curves["image"]) < 5000
    assert any("Stopped" in message for _, message in notes())


def test_curves_need_an_image(dock, notes):
    _, widget = dock(PriorExplorerWidget)
    widget._on_curves()
    assert widget._worker is None
    assert any(severity == "error" and "Choose an image layer" in m for severity, m in notes())


def test_both_parts_default_to_the_same_preset(dock):
    _, widget = dock(PriorExplorerWidget)
    assert widget.sample_preset.value == widget.curve_preset.value


def test_samples_show_progress_and_sit_beside_the_image(dock, qtbot, tiny_image):
    viewer, widget = dock(PriorExplorerWidget)
    image = viewer.add_image(tiny_image((32, 32)), name="src", scale=(2.0, 2.0), translate=(5.0, 3.0))
    widget.height_box.value = widget.width_box.value = 32
    widget.channels.value, widget.n_samples.value, widget.sample_preset.value = 1, 3, "fast"
    formats = []
    widget.samples_progress.valueChanged.connect(lambda _: formats.append(widget.samples_progress.format()))
    with qtbot.waitSignal(widget.job_finished, timeout=60_000):
        widget._on_samples()
    assert any(text.startswith("sample 2/3") for text in formats), formats
    layer = viewer.layers["prior samples [skip]"]
    image_right = image.extent.world[1][-1]
    assert layer.extent.world[0][-1] > image_right  # to the right of the image, not on top of it
