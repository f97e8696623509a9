"""Planning a run from a widget's form, with napari's Qt-free viewer model and layers."""

from __future__ import annotations

import numpy as np
import pytest
from napari.components import ViewerModel

from napari_dip.core.validation import InputError
from napari_dip.gui.compare import CompareRequest, compare_methods
from napari_dip.gui.form import SLICE_MODES, preset_tips, shown_settings
from napari_dip.gui.layers import SliceSource
from napari_dip.gui.plan import Form, compare_request, plan_run
from napari_dip.gui.session import OutputSpec

KWARGS = {"preset": "fast", "iterations": 30, "preview_every": 10, "device": "cpu"}


def _form(layer, task="denoise", mode=SLICE_MODES[0], **extra):
    return Form(task, layer, [], None, dict(KWARGS), (OutputSpec("denoised"),), mode=mode, **extra)


def test_a_run_on_the_current_slice_fits_a_copy_of_that_slice_and_lands_on_it(tiny_image):
    viewer = ViewerModel()
    stack = np.stack([tiny_image(seed=k) for k in range(3)])
    layer = viewer.add_image(stack, scale=(2.0, 0.5, 0.5), translate=(1.0, 0.0, 0.0))
    viewer.dims.set_current_step(0, 2)
    request, session = plan_run(_form(layer), viewer)
    assert request.indices == ((2,),) and not request.warm_start
    np.testing.assert_array_equal(request.sources[0].take((2,)), stack[2])
    stack[2] += 1  # edited after Run: the run keeps the slice as it was
    assert not np.array_equal(request.sources[0].take((2,)), stack[2])
    assert session.plan.translate == (5.0, 0.0, 0.0) and session.plan.stack_shape == (1,)
    assert session.plan.metadata["stack_mode"] == SLICE_MODES[0]


def test_every_slice_warm_starts_and_a_volume_runs_only_for_the_volume_tasks(tiny_image):
    viewer = ViewerModel()
    layer = viewer.add_image(np.stack([tiny_image(seed=k) for k in range(4)]), scale=(3.0, 1.0, 1.0))
    request, session = plan_run(_form(layer, mode=SLICE_MODES[1]), viewer)
    assert request.indices == ((0,), (1,), (2,), (3,)) and request.warm_start and session.count == 4
    request, _ = plan_run(_form(layer, mode=SLICE_MODES[2]), viewer)
    assert request.kwargs["spatial_dims"] == 3 and request.kwargs["spacing"] == (3.0, 1.0, 1.0)
    with pytest.raises(InputError, match="restores 2D images only"):
        plan_run(_form(layer, task="enhance", mode=SLICE_MODES[2]), viewer)


def test_no_image_is_refused_with_what_to_do():
    with pytest.raises(InputError, match="Choose an image layer first"):
        plan_run(_form(None), ViewerModel())


def test_super_resolved_outputs_overlay_the_input(tiny_image):
    viewer = ViewerModel()
    layer = viewer.add_image(tiny_image((8, 8)), scale=(2.0, 2.0))
    _, session = plan_run(_form(layer, task="super_resolution", factor=4), viewer)
    assert session.plan.scale == (0.5, 0.5) and session.plan.translate == (-0.75, -0.75)


def test_compare_scores_the_classic_methods_and_the_dip_result(tiny_image):
    viewer = ViewerModel()
    clean = tiny_image((24, 24), seed=3)
    layer = viewer.add_image(tiny_image((24, 24)))
    form = _form(layer)
    form.reference = SliceSource(clean)
    request, plan = compare_request(form, viewer, ("tv", "wavelet"), dip=clean.astype(np.uint8))
    assert isinstance(request, CompareRequest) and set(request.others) == {"DIP"}
    steps = compare_methods(request)
    done = [next(steps), next(steps)]
    assert [d.name for d in done] == ["tv", "wavelet"] and all(d.output.shape == clean.shape for d in done)
    with pytest.raises(StopIteration) as end:
        next(steps)
    scores = end.value.value
    assert [s.name for s in scores] == ["DIP"] and scores[0].psnr == np.inf  # the reference itself


def test_the_form_shows_a_presets_settings_and_names_every_preset():
    from napari_dip.core.tasks.presets import PRESET_NOTES, task_preset

    shown = shown_settings(task_preset("denoise", preset="paper"))
    assert shown["iterations"] == 1800 and shown["lr"] == 0.01 and not shown["auto_stop"]
    assert preset_tips(("auto", "paper")) == f"auto: {PRESET_NOTES['auto']}\npaper: {PRESET_NOTES['paper']}"


def test_the_verdict_names_a_classic_method_that_beats_dip():
    from napari_dip.core.extras.classic import Score
    from napari_dip.gui.compare import verdict

    scores = [Score("bm3d", 30.4, 0.9), Score("tv", 27.0, 0.8), Score("DIP", 25.17, 0.7)]
    assert verdict(scores) == ("bm3d beats the DIP result on this image: 30.40 dB against 25.17 (PSNR to the "
                               "reference); its layer is in the grid.")
    scores[2] = Score("DIP", 31.0, 0.9)
    assert verdict(scores) == "The DIP result is the closest to the reference: 31.00 dB, bm3d 30.40 dB."
    assert verdict(scores[:2]) == "" and verdict(scores[2:]) == ""
