"""Every restoration widget runs a tiny fit and adds correctly named outputs with the source's geometry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_dip._qt.widgets import (
    DenoiseWidget,
    EnhanceWidget,
    FlashWidget,
    InpaintWidget,
    JpegWidget,
    SuperResolutionWidget,
)
from napari_dip.core.tasks.presets import preset_choices

SCALE, TRANSLATE = (0.5, 2.0), (10.0, -4.0)


@pytest.fixture
def add_source(tiny_image):
    def add(viewer, shape=(32, 32)):
        return viewer.add_image(tiny_image(shape), name="src", scale=SCALE, translate=TRANSLATE)

    return add


def _check_output(layer, shape, widget, scale=SCALE, translate=TRANSLATE):
    assert layer.data.shape == shape
    np.testing.assert_allclose(layer.scale, scale)
    np.testing.assert_allclose(layer.translate, translate)
    meta = layer.metadata["napari_dip"]
    assert meta["task"].startswith(widget.task)  # inpaint: "inpaint_text", ...
    assert meta["source"] == "src"
    assert meta["seed"] == 0 and meta["iterations"] == 20 and meta["preset"] == "fast"
    assert meta["stopped_at"] == 20 and meta["stop_reason"] == "completed"
    assert meta["memory_estimate_bytes"] > 0
    json.dumps(meta)  # every setting is JSON-serialisable


@pytest.mark.parametrize("widget_class, suffix", [(DenoiseWidget, "denoised"), (JpegWidget, "restored")])
def test_single_output_tasks(dock, run_widget, add_source, configure, widget_class, suffix):
    viewer, widget = dock(widget_class)
    source = add_source(viewer)
    before = source.data.copy()
    assert widget.reference.value is None  # the reference is optional and off by default
    configure(widget)
    run_widget(widget)
    output = viewer.layers[f"src [{suffix}]"]
    assert output.data.dtype == np.uint8
    _check_output(output, (32, 32), widget)
    np.testing.assert_array_equal(source.data, before)
    assert "src [preview]" not in viewer.layers
    assert widget.plot.series("loss")[1]  # the live plot received losses


def test_super_resolution_overlays_input(dock, run_widget, add_source, configure):
    viewer, widget = dock(SuperResolutionWidget)
    add_source(viewer, (16, 16))
    widget.factor_box.value = 2
    configure(widget)
    run_widget(widget)
    output = viewer.layers["src [super-resolved x2]"]
    # Output pixels are half as large; input pixel 0 (centre 10, edges 9.75..10.25) holds output pixels 0 and 1.
    translate = (TRANSLATE[0] - SCALE[0] / 4, TRANSLATE[1] - SCALE[1] / 4)
    _check_output(output, (32, 32), widget, scale=(SCALE[0] / 2, SCALE[1] / 2), translate=translate)
    assert output.metadata["napari_dip"]["factor"] == 2


def add_mask(viewer, name: str):
    """A Labels layer marking a 4 x 20 strip of the 32 x 32 source as missing."""
    labels = np.zeros((32, 32), dtype=np.uint8)
    labels[10:14, 5:25] = 1
    return viewer.add_labels(labels, name=name)


def test_inpaint(dock, run_widget, add_source, configure):
    viewer, widget = dock(InpaintWidget)
    add_source(viewer)
    widget.mask.value = add_mask(viewer, "mask")
    configure(widget)
    run_widget(widget)
    output = viewer.layers["src [inpainted]"]
    _check_output(output, (32, 32), widget)
    assert output.metadata["napari_dip"]["kind"] == "text"


def test_enhance_adds_three_layers(dock, run_widget, add_source, configure):
    viewer, widget = dock(EnhanceWidget)
    add_source(viewer)
    configure(widget)
    run_widget(widget)
    for suffix in ("coarse", "fine", "enhanced"):
        _check_output(viewer.layers[f"src [{suffix}]"], (32, 32), widget)
    assert viewer.layers["src [enhanced]"].visible
    assert not viewer.layers["src [fine]"].visible


def test_flash(dock, run_widget, add_source, configure, tiny_image):
    viewer, widget = dock(FlashWidget)
    add_source(viewer)
    viewer.add_image(tiny_image(seed=1), name="flash")
    widget.image.value = viewer.layers["src"]
    assert widget.flash.value is viewer.layers["flash"]  # not the no-flash image itself
    configure(widget)
    run_widget(widget)
    _check_output(viewer.layers["src [flash-guided]"], (32, 32), widget)


def test_reference_adds_a_psnr_curve(dock, run_widget, add_source, configure, tiny_image):
    viewer, widget = dock(DenoiseWidget)
    add_source(viewer)
    viewer.add_image(tiny_image(seed=5), name="clean")
    widget.image.value = viewer.layers["src"]
    widget.reference.value = viewer.layers["clean"]
    configure(widget)
    run_widget(widget)
    iterations, psnr = widget.plot.series("PSNR (dB)")
    assert iterations and all(np.isfinite(psnr))
    assert viewer.layers["src [denoised]"].metadata["napari_dip"]["reference"] == "clean"


def test_inpaint_metadata_names_the_mask(dock, run_widget, add_source, configure):
    viewer, widget = dock(InpaintWidget)
    add_source(viewer)
    widget.image.value, widget.mask.value = viewer.layers["src"], add_mask(viewer, "scratches")
    configure(widget, iterations=2)
    run_widget(widget)
    assert viewer.layers["src [inpainted]"].metadata["napari_dip"]["mask"] == "scratches"


def test_preset_choice_shows_its_defaults_auto_stop_included(dock):
    _, denoise = dock(DenoiseWidget)
    denoise.fit.preset.value = "fast"
    assert denoise.fit.auto_stop.value and denoise.fit.patience.value == 200
    denoise.fit.preset.value = "paper"
    assert not denoise.fit.auto_stop.value
    assert (denoise.fit.iterations.value, denoise.fit.patience.value) == (1800, 500)
    denoise.fit.tv_weight.value, denoise.fit.optimize.value = 0.5, "both"
    denoise.fit.preset.value = "fast"
    assert denoise.fit.auto_stop.value
    assert (denoise.fit.tv_weight.value, denoise.fit.optimize.value) == (0.0, "net")  # the preset's, again
    _, sr = dock(SuperResolutionWidget)
    assert not sr.fit.auto_stop.value and sr.fit.iterations.value == 2000
    assert "drp" not in sr.fit.preset.choices


def test_denoising_offers_the_drp_preset_with_its_settings(dock, run_widget, add_source, configure):
    viewer, denoise = dock(DenoiseWidget)
    assert denoise.fit.preset.choices == preset_choices("denoise")  # the command line's and the API's names
    assert {"auto", "fast", "paper", "drp", "sure"} <= set(denoise.fit.preset.choices)
    denoise.fit.preset.value = "drp"
    fit = denoise.fit
    assert (fit.iterations.value, fit.lr.value, fit.optimize.value, fit.tv_weight.value) == (300, 0.001, "both", 0.2)
    assert not fit.auto_stop.value
    add_source(viewer)
    configure(denoise, iterations=3)  # the fast preset, for a tiny fit
    denoise.fit.preset.value = "drp"
    denoise.fit.iterations.value = 3
    run_widget(denoise)
    meta = viewer.layers["src [denoised]"].metadata["napari_dip"]
    assert meta["preset"] == "drp" and meta["optimize"] == "both" and meta["tv_weight"] == pytest.approx(0.2)
    assert viewer.layers["src [denoised]"].data.shape == viewer.layers["src"].data.shape  # the networks' average


def test_advanced_tv_weight_and_auto_precision(dock, run_widget, add_source, configure):
    from napari_dip.core.runtime.devices import resolve_precision

    viewer, widget = dock(DenoiseWidget)
    add_source(viewer)
    assert widget.fit.precision.value == "auto" and "auto" in widget.fit.precision.choices
    assert widget.fit.tv_weight.value == 0.0 and widget.fit.tv_weight in widget.fit.advanced
    configure(widget, iterations=2)
    widget.fit.tv_weight.value = 0.05
    run_widget(widget)
    meta = viewer.layers["src [denoised]"].metadata["napari_dip"]
    assert meta["tv_weight"] == pytest.approx(0.05)
    assert meta["precision"] == resolve_precision("auto", "cpu")  # recorded as resolved


def test_denoising_can_hold_pixels_out_for_the_automatic_stop(dock, run_widget, add_source, configure):
    viewer, widget = dock(DenoiseWidget)
    add_source(viewer)
    configure(widget, iterations=3)
    assert widget.holdout.value == 0.0
    widget.holdout.value, widget.fit.auto_stop.value = 0.05, True
    run_widget(widget)
    meta = viewer.layers["src [denoised]"].metadata["napari_dip"]
    assert meta["holdout"] == pytest.approx(0.05) and meta["auto_stop"]


def test_the_sure_preset_warns_in_the_viewer_about_a_clipped_image_and_still_fits_it(dock, run_widget, configure,
                                                                                      notes):
    viewer, widget = dock(DenoiseWidget)
    clean = np.full((32, 32), 0.3, np.float32)
    clean[:, 16:] = 0.97
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.08, clean.shape), 0, 1).astype(np.float32)
    viewer.add_image(noisy, name="bright")
    configure(widget, iterations=3)
    widget.fit.preset.value = "sure"
    widget.fit.iterations.value = 3
    run_widget(widget)
    warned = [message for severity, message in notes() if "clipped" in message]
    assert warned and "preset='fast'" in warned[0]
    assert viewer.layers["bright [denoised]"].metadata["napari_dip"]["preset"] == "sure"
    np.testing.assert_array_equal(viewer.layers["bright"].data, noisy)


def test_the_sure_preset_shows_its_blind_spots_and_fits_the_noisy_image(dock, run_widget, add_source, configure):
    viewer, widget = dock(DenoiseWidget)
    add_source(viewer)
    configure(widget, iterations=3)  # (it picks the fast preset)
    widget.fit.preset.value = "sure"
    assert widget.holdout.value == pytest.approx(0.05) and widget.fit.auto_stop.value
    widget.fit.iterations.value = 3
    run_widget(widget)
    meta = viewer.layers["src [denoised]"].metadata["napari_dip"]
    assert meta["preset"] == "sure" and meta["holdout"] == pytest.approx(0.05) and meta["sure_sigma"] > 0
    widget.fit.preset.value = "fast"
    assert widget.holdout.value == 0.0


def test_the_auto_preset_shows_its_choice_for_the_chosen_image_and_runs_it(dock, run_widget, configure):
    viewer, widget = dock(DenoiseWidget)
    fit = widget.fit
    assert fit.preset.value == "auto" and fit.preset.choices[0] == "auto"
    clean = np.full((32, 32), 0.3, np.float32)
    clean[:, 16:] = 0.7
    noise = np.random.default_rng(0).normal(0, 0.08, clean.shape).astype(np.float32)
    viewer.add_image(np.clip(clean + noise, 0, 1), name="gauss")
    clean[:, 16:] = 0.97  # half the bright half clips at 1
    viewer.add_image(np.clip(clean + noise, 0, 1), name="clipped")
    widget.image.value = viewer.layers["gauss"]
    assert widget.auto_note.value.startswith("sure (") and not widget.auto_note.native.isHidden()
    assert (fit.iterations.value, fit.patience.value, widget.holdout.value) == (1000, 50, pytest.approx(0.05))
    widget.image.value = viewer.layers["clipped"]
    assert widget.auto_note.value.startswith("fast (") and "clipped" in widget.auto_note.value
    assert (fit.patience.value, widget.holdout.value) == (200, 0.0)  # the fast preset's settings
    viewer.add_image(np.zeros((3, 32, 32), np.float32), name="stack")
    widget.image.value = viewer.layers["stack"]
    assert widget.auto_note.value == "fast (a stack)"
    assert widget.holdout.value == pytest.approx(0.05)  # the slices stop on held-out pixels
    viewer.add_image(np.full((32, 32), 1000, np.uint16), name="camera")
    widget.image.value = viewer.layers["camera"]
    assert widget.auto_note.value == "fast (16-bit camera data)" and widget.holdout.value == pytest.approx(0.05)
    widget.image.value = viewer.layers["gauss"]
    fit.iterations.value, fit.device.value, widget.preview_interval = 3, "cpu", 0.0
    viewer.add_points()  # a new layer refreshes the pickers but keeps the edited settings
    assert fit.iterations.value == 3
    run_widget(widget)
    meta = viewer.layers["gauss [denoised]"].metadata["napari_dip"]
    assert meta["preset"] == "sure" and meta["auto_preset"] == "unclipped 2D image, even noise"
    assert meta["iterations"] == 3 and meta["holdout"] == pytest.approx(0.05)
    fit.preset.value = "paper"
    assert widget.auto_note.native.isHidden() and widget.holdout.value == 0.0


def test_denoising_averaged_with_bm3d_picks_sure_and_records_the_share(dock, run_widget, configure):
    pytest.importorskip("bm3d")
    viewer, widget = dock(DenoiseWidget)
    clean = np.full((32, 32), 0.3, np.float32)
    clean[:, 16:] = 0.97  # clipped: 'auto' alone picks 'fast'
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.08, clean.shape), 0, 1).astype(np.float32)
    viewer.add_image(noisy, name="bright")
    assert widget.classic.value == "none" and widget.classic.enabled
    assert widget.auto_note.value.startswith("fast (")
    widget.classic.value = "bm3d"
    assert widget.auto_note.value.startswith("sure (") and "bm3d" in widget.auto_note.value
    configure(widget, iterations=3)
    widget.fit.preset.value = "auto"
    widget.fit.iterations.value = 3
    run_widget(widget)
    meta = viewer.layers["bright [denoised]"].metadata["napari_dip"]
    assert meta["preset"] == "sure" and meta["classic"] == "bm3d" and 0 <= meta["classic_share"] <= 1
    np.testing.assert_array_equal(viewer.layers["bright"].data, noisy)


def test_photon_noise_averaged_with_bm3d_in_the_widget(dock, run_widget, configure, notes):
    pytest.importorskip("bm3d")
    viewer, widget = dock(DenoiseWidget)
    rng = np.random.default_rng(1)
    cells = (rng.poisson(5 + 40 * np.outer(np.hanning(32), np.hanning(32))) + 100).astype(np.uint16)
    viewer.add_image(cells, name="cells")
    widget.noise.value = "poisson"
    assert widget.auto_note.value.startswith("fast (")  # the Poisson likelihood alone
    widget.classic.value = "bm3d"
    assert widget.auto_note.value.startswith("sure (")
    configure(widget, iterations=3)
    widget.fit.preset.value = "auto"
    widget.fit.iterations.value = 3
    run_widget(widget)
    layer = viewer.layers["cells [denoised]"]
    meta = layer.metadata["napari_dip"]
    assert meta["noise"] == "poisson" and meta["classic"] == "bm3d" and meta["anscombe_scale"] > 0
    assert layer.data.dtype == np.uint16 and abs(float(layer.data.mean()) - float(cells.mean())) < 5
    assert any(f"DIP share {meta['classic_share']:.2f}" in message for _, message in notes())
    np.testing.assert_array_equal(viewer.layers["cells"].data, cells)


def test_float_output_of_a_16_bit_layer(dock, run_widget, configure):
    viewer, widget = dock(DenoiseWidget)
    rng = np.random.default_rng(2)
    cells = (rng.poisson(5 + 20 * np.outer(np.hanning(32), np.hanning(32))) + 100).astype(np.uint16)
    viewer.add_image(cells, name="cells")
    widget.output_dtype.value = "float32"
    configure(widget, iterations=3)
    run_widget(widget)
    layer = viewer.layers["cells [denoised]"]
    assert layer.data.dtype == np.float32 and layer.metadata["napari_dip"]["output_dtype"] == "float32"
    assert 100 <= float(layer.data.mean()) <= 125  # the layer's units
    np.testing.assert_array_equal(viewer.layers["cells"].data, cells)


def test_averaging_with_bm3d_is_offered_only_where_it_is_installed(dock, monkeypatch):
    from napari_dip.core.extras import classic

    monkeypatch.setattr(classic, "bm3d_available", lambda: False)
    _, widget = dock(DenoiseWidget)
    assert not widget.classic.enabled and "pip install bm3d" in widget.classic.tooltip
