"""One core function maps (task, factor, inpainting kind, preset) to the settings; API, CLI and widgets use it."""

import numpy as np
import pytest

from napari_dip.core.tasks.prepare import prepare_inpaint, prepare_super_resolution
from napari_dip.core.tasks.presets import PRESETS, paper_key, task_preset

IMAGE = np.random.default_rng(0).random((16, 16)).astype(np.float32)


@pytest.mark.parametrize(
    "task, options, key",
    [
        ("denoise", {}, "denoise"),
        ("super_resolution", {"factor": 2}, "sr4"),
        ("super_resolution", {"factor": 4}, "sr4"),
        ("super_resolution", {"factor": 8}, "sr8"),
        ("super_resolution", {"factor": 16}, "sr8"),
        ("inpaint", {"kind": "text"}, "text_inpainting"),
        ("inpaint", {"kind": "hole"}, "large_hole"),
        ("inpaint", {"kind": "sparse"}, "sparse_pixels"),
        ("flash", {}, "flash"),
    ],
)
def test_paper_key_of_each_case(task, options, key):
    assert paper_key(task, **options) == key


@pytest.mark.parametrize("preset", ["paper", "fast"])
def test_x8_uses_the_x8_case_in_both_presets(preset):
    x8 = task_preset("super_resolution", factor=8, preset=preset)
    x4 = task_preset("super_resolution", factor=4, preset=preset)
    assert x8.code_noise_std == pytest.approx(1 / 20) and x8.iterations == 4000
    assert x4.code_noise_std == pytest.approx(1 / 30) and x4.iterations == 2000
    if preset == "fast":
        assert x8.network == x4.network != PRESETS["sr8"].network


def test_the_engine_uses_the_same_rule():
    fast_x8 = prepare_super_resolution(IMAGE, 8, preset="fast", iterations=1, device="cpu")
    assert fast_x8.fit.config.code_noise_std == pytest.approx(1 / 20)
    hole = prepare_inpaint(IMAGE, IMAGE > 0.5, kind="hole", region="whole", preset="fast", iterations=1, device="cpu")
    assert hole.fit.code.shape[1] == 2  # the meshgrid code of the large-hole case


def test_fast_keeps_the_per_scale_upsampling_of_flash():
    assert task_preset("flash", preset="fast").network.upsample == PRESETS["flash"].network.upsample


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: task_preset("colourise"), "Unknown task 'colourise'"),
        (lambda: task_preset("inpaint", kind="blob"), "kind='blob'"),
        (lambda: task_preset("super_resolution", factor=0), "factor=0"),
        (lambda: task_preset("denoise", preset=None), "preset=None"),
    ],
)
def test_bad_choices_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_default_preset_is_fast_and_stops_by_itself_for_denoise_jpeg_and_inpainting():
    inpaintings = [("inpaint", {"kind": kind}) for kind in ("text", "hole", "sparse")]
    for task, options in (("denoise", {}), ("jpeg", {}), *inpaintings):
        default = task_preset(task, **options)
        assert default == task_preset(task, preset="fast", **options)
        assert default.auto_stop and not task_preset(task, preset="paper", **options).auto_stop
    # inpainting: on held-out known pixels, whose error stops falling rather than rises
    for _, options in inpaintings:
        inpainting = task_preset("inpaint", **options)
        assert inpainting.holdout > 0 and inpainting.min_gain > 0
    # Tasks whose result keeps improving run their iterations.
    for task, options in (("super_resolution", {"factor": 4}), ("enhance", {})):
        assert not task_preset(task, **options).auto_stop


def test_paper_preset_keeps_the_paper_settings():
    paper = task_preset("denoise", preset="paper")
    assert (paper.code_noise_std, paper.iterations, paper.auto_stop) == (1 / 30, 1800, False)
