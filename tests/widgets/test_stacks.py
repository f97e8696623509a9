"""3D / time-lapse layers: the current slice by default, or every slice into an output stack; grey and RGB."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip._qt.task_widgets import DenoiseWidget
from napari_dip.core import tasks


@pytest.fixture
def spy_denoise(monkeypatch):
    """Record the images the engine receives."""
    received = []

    def spy(image, **kwargs):
        received.append((image.copy(), kwargs))
        return tasks.prepare_denoise(image, **kwargs)

    monkeypatch.setitem(tasks.TASKS, "denoise", spy)
    return received


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
    viewer.add_image(stack, name="stack")
    widget.slices.value = "all slices"
    configure(widget, iterations=5)
    formats = []
    monkeypatch.setattr(widget.progress, "setFormat", lambda text: formats.append(text))
    run_widget(widget)
    assert len(spy_denoise) == 2
    for (received, _), expected in zip(spy_denoise, stack, strict=True):
        np.testing.assert_array_equal(received, expected)
    output = viewer.layers["stack [denoised]"]
    assert output.data.shape == stack.shape
    assert all(output.data[k].any() for k in range(2))
    meta = output.metadata["napari_dip"]
    assert meta["slices_done"] == meta["slices_total"] == 2
    assert [s["index"] for s in meta["slices"]] == [[0], [1]]
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
