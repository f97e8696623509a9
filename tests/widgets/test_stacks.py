"""3D / time-lapse layers: the current slice by default, every slice (warm-started) into an output stack, or the
whole volume in one 3D fit; grey and RGB; the outputs keep the layer's scale and translate."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip._qt.widgets import DenoiseWidget, SuperResolutionWidget
from napari_dip.core.tasks import prepare as tasks
from napari_dip.core.tasks.windows import AUTO_CONTEXT
from napari_dip.gui.form import SLICE_MODES


@pytest.fixture
def spy_denoise(monkeypatch):
    """Record the images the engine receives."""
    received = []

    def spy(image, **kwargs):
        received.append((image.copy(), kwargs))
        return tasks.prepare_denoise(image, **kwargs)

    monkeypatch.setitem(tasks.TASKS, "denoise", spy)
    return received


def test_all_slices_are_fitted_with_their_neighbours_by_default(dock, run_widget, spy_denoise, tiny_image,
                                                                 configure):
    viewer, widget = dock(DenoiseWidget)
    stack = np.stack([tiny_image(seed=s) for s in range(4)])
    original = stack.copy()
    viewer.add_image(stack[0], name="plane")
    widget.image.value = viewer.layers["plane"]
    assert not widget.context.enabled  # a 2D image has no neighbours
    viewer.add_image(stack, name="stack")
    widget.image.value = viewer.layers["stack"]
    assert not widget.context.enabled  # the current slice is fitted alone
    widget.slices.value = "all slices (warm start)"
    assert widget.context.enabled
    configure(widget, iterations=4)
    assert widget.context.value == AUTO_CONTEXT
    run_widget(widget)
    windows = [received for received, _ in spy_denoise]
    assert [w.shape for w in windows] == [(4, 32, 32)]  # 7 wanted, the stack has 4: one window holds every slice
    assert spy_denoise[0][1]["channel_axis"] == 0
    np.testing.assert_array_equal(windows[0], stack)
    output = viewer.layers["stack [denoised]"]
    assert output.data.shape == stack.shape
    assert output.metadata["napari_dip"]["context"] == AUTO_CONTEXT
    np.testing.assert_array_equal(viewer.layers["stack"].data, original)


def test_current_slice_of_a_stack(dock, run_widget, spy_denoise, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    stack = np.stack([tiny_image(seed=s) for s in range(3)])
    viewer.add_image(stack, name="stack", scale=(2.0, 1.0, 1.0), translate=(5.0, 0.0, 0.0))
    viewer.dims.set_current_step(0, 1)
    configure(widget, iterations=5)
    assert widget.slices.enabled and widget.slices.value == "current slice"
    run_widget(widget)
    assert len(spy_denoise) == 1
    np.testing.assert_array_equal(spy_denoise[0][0], stack[1])
    output = viewer.layers["stack [denoised]"]
    assert output.data.shape == (1, 32, 32)
    np.testing.assert_allclose(output.translate, (7.0, 0.0, 0.0))  # placed on slice 1
    np.testing.assert_allclose(output.scale, (2.0, 1.0, 1.0))
    assert output.metadata["napari_dip"]["slice_index"] == [1]


def test_all_slices_into_an_output_stack(dock, run_widget, monkeypatch, spy_denoise, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    stack = np.stack([tiny_image(seed=s) for s in range(2)])
    viewer.add_image(stack, name="stack", scale=(3.0, 0.5, 0.5), translate=(1.0, 2.0, 3.0))
    widget.slices.value = "all slices (warm start)"
    widget.context.value = 0  # each slice alone
    configure(widget, iterations=8)
    formats = []
    monkeypatch.setattr(widget.progress, "setFormat", lambda text: formats.append(text))
    run_widget(widget)
    assert len(spy_denoise) == 2
    for (received, _), expected in zip(spy_denoise, stack, strict=True):
        np.testing.assert_array_equal(received, expected)
    assert [kwargs["iterations"] for _, kwargs in spy_denoise] == [8, 4]  # the second slice starts warm
    output = viewer.layers["stack [denoised]"]
    assert output.data.shape == stack.shape
    np.testing.assert_allclose(output.scale, (3.0, 0.5, 0.5))
    np.testing.assert_allclose(output.translate, (1.0, 2.0, 3.0))
    assert all(output.data[k].any() for k in range(2))
    meta = output.metadata["napari_dip"]
    assert meta["slices_done"] == meta["slices_total"] == 2
    assert [s["index"] for s in meta["slices"]] == [[0], [1]]
    assert meta["stack_mode"] == "all slices (warm start)"
    assert any(text.startswith("slice 2/2") for text in formats), formats


@pytest.mark.parametrize("shape", [(32, 32, 3), (2, 32, 32, 3)], ids=["rgb", "rgb-stack"])
def test_rgb(dock, run_widget, spy_denoise, tiny_image, configure, shape):
    viewer, widget = dock(DenoiseWidget)
    data = tiny_image(shape[-3:]) if len(shape) == 3 else np.stack([tiny_image(shape[-3:], seed=s) for s in range(2)])
    layer = viewer.add_image(data, name="rgb")
    assert layer.rgb
    configure(widget, iterations=5)
    run_widget(widget)
    assert spy_denoise[0][0].shape == (32, 32, 3) and spy_denoise[0][1]["channel_axis"] == 2
    output = viewer.layers["rgb [denoised]"]
    assert output.rgb
    assert output.data.shape == (shape if len(shape) == 3 else (1, 32, 32, 3))


def test_whole_volume_in_one_3d_fit(dock, run_widget, spy_denoise, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    volume = np.stack([tiny_image(seed=s) for s in range(4)])
    viewer.add_image(volume, name="volume", scale=(2.0, 0.5, 0.5), translate=(4.0, 1.0, -1.0))
    assert SLICE_MODES[2] == "whole volume (3D)"
    widget.slices.value = "whole volume (3D)"
    configure(widget, iterations=3)
    run_widget(widget)
    assert len(spy_denoise) == 1
    received, kwargs = spy_denoise[0]
    np.testing.assert_array_equal(received, volume)
    assert kwargs["spatial_dims"] == 3 and kwargs["spacing"] == (2.0, 0.5, 0.5) and kwargs["channel_axis"] is None
    output = viewer.layers["volume [denoised]"]
    assert output.data.shape == volume.shape and output.data.dtype == volume.dtype
    np.testing.assert_allclose(output.scale, (2.0, 0.5, 0.5))
    np.testing.assert_allclose(output.translate, (4.0, 1.0, -1.0))
    assert output.metadata["napari_dip"]["spatial_dims"] == 3


def test_whole_volume_of_the_current_time_point(dock, run_widget, spy_denoise, tiny_image, configure):
    viewer, widget = dock(DenoiseWidget)
    series = np.stack([np.stack([tiny_image(seed=4 * t + z) for z in range(2)]) for t in range(2)])  # (T, Z, Y, X)
    viewer.add_image(series, name="series", scale=(10.0, 2.0, 1.0, 1.0), translate=(0.0, 3.0, 0.0, 0.0))
    viewer.dims.set_current_step(0, 1)
    widget.slices.value = "whole volume (3D)"
    configure(widget, iterations=2)
    run_widget(widget)
    np.testing.assert_array_equal(spy_denoise[0][0], series[1])
    output = viewer.layers["series [denoised]"]
    assert output.data.shape == (1, 2, 32, 32)
    np.testing.assert_allclose(output.scale, (10.0, 2.0, 1.0, 1.0))
    np.testing.assert_allclose(output.translate, (10.0, 3.0, 0.0, 0.0))  # placed on time point 1


def test_a_2d_only_task_refuses_the_volume_mode(dock, tiny_image, notes):
    viewer, widget = dock(SuperResolutionWidget)
    viewer.add_image(np.stack([tiny_image(seed=s) for s in range(3)]), name="volume")
    widget.slices.value = "whole volume (3D)"
    widget._on_run()
    assert widget._worker is None
    assert any("2D images only" in message and "all slices (warm start)" in message for _, message in notes())
