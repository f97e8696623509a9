"""Compare with classic methods (layers in a grid, PSNR / SSIM table); New mask and Mask from intensities."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from napari_dip._qt.widgets import DenoiseWidget, InpaintWidget, SuperResolutionWidget
from napari_dip.core.extras.classic import methods_for

SCALE, TRANSLATE = (0.5, 2.0), (10.0, -4.0)


def _compare(qtbot, widget):
    with qtbot.waitSignal(widget.compare.compare_finished, timeout=90_000):
        widget.compare.button.click()


def _clean(shape=(32, 32)):
    y, x = np.mgrid[: shape[0], : shape[1]]
    return np.clip(128 + 60 * np.sin(x / 5.0) * np.cos(y / 7.0), 0, 255).astype(np.uint8)


def test_compare_denoisers_with_a_table(dock, run_widget, qtbot, configure):
    viewer, widget = dock(DenoiseWidget)
    clean = _clean()
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    viewer.add_image(noisy, name="src", scale=SCALE, translate=TRANSLATE)
    viewer.add_image(clean, name="clean", scale=SCALE, translate=TRANSLATE)
    widget.image.value, widget.reference.value = viewer.layers["src"], viewer.layers["clean"]
    configure(widget, iterations=2)
    run_widget(widget)  # a DIP result to score as well
    before = [layer.name for layer in viewer.layers]
    _compare(qtbot, widget)
    methods = methods_for("denoise")
    assert [layer.name for layer in viewer.layers] == before + [f"src [{m}]" for m in methods]
    assert viewer.grid.enabled
    noisy_psnr = peak_signal_noise_ratio(clean, noisy)
    table = widget.compare.table
    rows = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text()) for r in range(table.rowCount())}
    assert set(rows) == {*methods, "DIP"}
    for method in methods:
        layer = viewer.layers[f"src [{method}]"]
        assert layer.data.shape == (32, 32) and layer.data.dtype == np.uint8
        np.testing.assert_allclose(layer.scale, SCALE)
        np.testing.assert_allclose(layer.translate, TRANSLATE)
        meta = layer.metadata["napari_dip"]
        assert meta["reference"] == "clean" and meta["method"] == method
        psnr = peak_signal_noise_ratio(clean, layer.data)
        assert rows[method][0] == f"{psnr:.2f}" and psnr > noisy_psnr  # each classic method does denoise
        assert 0 < float(rows[method][1]) <= 1
    # two DIP iterations: a classic method is closer to the reference, and the widget says which
    best = max(methods, key=lambda m: float(rows[m][0]))
    assert float(rows[best][0]) > float(rows["DIP"][0])
    assert widget.compare.status.text().startswith(f"{best} beats the DIP result on this image: {rows[best][0]} dB")


def test_compare_photon_noise_adds_the_anscombe_pipeline(dock, qtbot):
    pytest.importorskip("bm3d")
    viewer, widget = dock(DenoiseWidget)
    rng = np.random.default_rng(0)
    clean = 100 + 5 + 30 * np.outer(np.hanning(40), np.hanning(40))
    viewer.add_image((rng.poisson(clean - 100) + 100).astype(np.uint16), name="cells")
    viewer.add_image(clean.astype(np.float32), name="truth")
    widget.reference.value = viewer.layers["truth"]
    widget.noise.value = "poisson"
    _compare(qtbot, widget)
    layer = viewer.layers["cells [anscombe-bm3d]"]
    assert layer.data.dtype == np.uint16 and layer.metadata["napari_dip"]["method"] == "anscombe-bm3d"
    table = widget.compare.table
    assert "anscombe-bm3d" in {table.item(r, 0).text() for r in range(table.rowCount())}


def test_compare_upscalers_overlay_like_dip(dock, qtbot, tiny_image):
    viewer, widget = dock(SuperResolutionWidget)
    viewer.add_image(tiny_image((16, 16)), name="src", scale=SCALE, translate=TRANSLATE)
    widget.factor_box.value = 2
    _compare(qtbot, widget)
    for method in ("bicubic", "lanczos"):
        layer = viewer.layers[f"src [{method}]"]
        assert layer.data.shape == (32, 32)
        np.testing.assert_allclose(layer.scale, (SCALE[0] / 2, SCALE[1] / 2))
        np.testing.assert_allclose(layer.translate, (TRANSLATE[0] - SCALE[0] / 4, TRANSLATE[1] - SCALE[1] / 4))
    assert not widget.compare.table.isVisibleTo(widget)  # no reference, no table


def test_new_mask_then_biharmonic(dock, qtbot, tiny_image):
    viewer, widget = dock(InpaintWidget)
    image = viewer.add_image(tiny_image((40, 40)), name="src", scale=SCALE, translate=TRANSLATE)
    widget.new_mask_button.native.click()
    mask = viewer.layers["src [mask]"]
    assert mask.data.shape == (40, 40) and not mask.data.any()
    np.testing.assert_allclose(mask.scale, SCALE)
    np.testing.assert_allclose(mask.translate, TRANSLATE)
    assert viewer.layers.selection.active is mask and mask.mode == "paint" and mask.brush_size == 1
    assert widget.mask.value is mask
    mask.data[10:14, 5:30] = 1
    _compare(qtbot, widget)
    filled = viewer.layers["src [biharmonic]"]
    assert filled.metadata["napari_dip"]["mask"] == "src [mask]"
    known = mask.data == 0
    np.testing.assert_array_equal(filled.data[known], image.data[known])


def test_mask_from_intensities(dock, notes, tiny_image):
    viewer, widget = dock(InpaintWidget)
    data = tiny_image((4, 32, 32, 3)[1:])
    data[3, 4], data[7, 8, 1], data[20, 21] = 0, 255, 255  # a dead pixel, a saturated channel, a hot pixel
    data[(data == 0) | (data == 255)] = 1
    data[3, 4], data[7, 8, 1], data[20, 21] = 0, 255, 255
    viewer.add_image(data, name="rgb")
    assert (widget.valid_low.value, widget.valid_high.value) == (1, 254)
    widget.intensity_button.native.click()
    mask = viewer.layers["rgb [mask]"]
    assert mask.data.shape == (32, 32)
    assert sorted(zip(*np.nonzero(mask.data), strict=True)) == [(3, 4), (7, 8), (20, 21)]
    assert widget.mask.value is mask and viewer.layers.selection.active is mask
    widget.valid_low.value, widget.valid_high.value = 0, 255
    widget.intensity_button.native.click()
    assert any("No pixel of 'rgb' is outside 0 .. 255" in m for _, m in notes())
    assert [layer.name for layer in viewer.layers] == ["rgb", "rgb [mask]"]
