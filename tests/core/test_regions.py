"""Inpainting around the mask: the boxes planned from the mask, the seamless paste, and what comes back."""

import numpy as np
import pytest

import napari_dip
from napari_dip.core.fitting.regions import HarmonicFill, plan_regions, seamless_paste
from napari_dip.core.tasks.prepare import prepare_inpaint

FAST = {"preset": "fast", "device": "cpu", "seed": 0}


def _two_scratches(size: int = 256) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[20:23, 20:60] = True
    mask[size - 56:size - 53, size - 76:size - 16] = True
    return mask


def test_plan_boxes_each_scratch_with_its_context():
    mask = _two_scratches()
    plan = plan_regions(mask, multiple=32)
    assert len(plan.boxes) == 2 and plan.share < 0.3
    for box in plan.boxes:
        assert all((part.stop - part.start) % 32 == 0 and part.stop - part.start >= 64 for part in box)
    covered = np.zeros_like(mask)
    for box in plan.boxes:
        covered[box] = True
    assert covered[mask].all()
    # every painted pixel has at least the context margin of known pixels around it inside its box (or the border)
    for y, x in zip(*np.nonzero(mask)):
        box = next(b for b in plan.boxes if b[0].start <= y < b[0].stop and b[1].start <= x < b[1].stop)
        for part, at, side in zip(box, (y, x), mask.shape):
            assert (at - part.start >= plan.context or part.start == 0)
            assert (part.stop - 1 - at >= plan.context or part.stop == side)


def test_plan_is_the_whole_image_when_the_mask_is_everywhere():
    rng = np.random.default_rng(0)
    plan = plan_regions(rng.random((128, 128)) < 0.5)
    assert plan.boxes == ((slice(0, 128), slice(0, 128)),)


def test_harmonic_fill_keeps_a_linear_ramp_and_a_constant():
    region = np.zeros((40, 50), bool)
    region[10:30, 15:35] = True
    ramp = np.add.outer(np.arange(40.0), 2 * np.arange(50.0))[None].astype(np.float32)
    filled = HarmonicFill(region)(np.where(region[None], 0.0, ramp).astype(np.float32))
    np.testing.assert_allclose(filled, ramp, atol=1e-3)


def test_seamless_paste_removes_a_constant_misfit_and_keeps_known_pixels():
    rng = np.random.default_rng(1)
    original = rng.random((3, 64, 64)).astype(np.float32) * 0.5 + 0.25
    missing = np.zeros((64, 64), bool)
    missing[20:30, 10:50] = True
    output = original + 0.1  # what a fit that has not yet matched the brightness returns
    pasted = seamless_paste(original, output, missing)
    np.testing.assert_allclose(pasted, original, atol=1e-5)
    assert np.array_equal(pasted[:, ~missing], original[:, ~missing])


def test_inpaint_changes_only_the_painted_pixels_of_a_16_bit_image():
    rng = np.random.default_rng(2)
    image = (rng.random((192, 192)) * 60000).astype(np.uint16)
    mask = _two_scratches(192)
    out, history = napari_dip.inpaint(image, mask, iterations=4, return_history=True, **FAST)
    assert out.dtype == np.uint16
    assert np.array_equal(out[~mask], image[~mask])
    assert not np.array_equal(out[mask], image[mask])
    whole = napari_dip.inpaint(image, mask, iterations=4, region="whole", **FAST)
    assert not np.array_equal(whole[~mask], image[~mask])  # the paper's way: every pixel from the network


def test_settings_record_the_regions_and_replay():
    image = np.random.default_rng(3).random((192, 192, 3)).astype(np.float32)
    run = prepare_inpaint(image, _two_scratches(192), channel_axis=-1, iterations=2, **FAST)
    assert run.settings["region"] == "mask" and run.settings["region_count"] == 2
    whole = prepare_inpaint(image, _two_scratches(192), channel_axis=-1, iterations=2, region="whole", **FAST)
    assert whole.settings["region"] == "whole" and "region_count" not in whole.settings
    with pytest.raises(ValueError, match="region='box'.*mask, whole"):
        prepare_inpaint(image, _two_scratches(192), channel_axis=-1, region="box", **FAST)


def test_a_stopped_run_keeps_the_input_where_no_box_was_fitted():
    image = np.random.default_rng(4).random((192, 192)).astype(np.float32)
    mask = _two_scratches(192)
    run = prepare_inpaint(image, mask, iterations=3, **FAST)
    first, second = run.fit.plan.boxes
    steps = run.steps()
    for _ in range(2):  # two iterations of the first box
        next(steps)
    out = run.result()
    assert np.array_equal(out[~mask], image[~mask])
    in_second = mask & np.pad(np.ones((second[0].stop - second[0].start, second[1].stop - second[1].start), bool),
                              ((second[0].start, 192 - second[0].stop), (second[1].start, 192 - second[1].stop)))
    in_first = mask & ~in_second
    assert np.array_equal(out[in_second], image[in_second])  # not fitted yet: as it was
    assert not np.array_equal(out[in_first], image[in_first])


def test_a_stack_warm_starts_its_regions():
    stack = np.random.default_rng(5).random((2, 192, 192)).astype(np.float32)
    mask = np.stack([_two_scratches(192), np.roll(_two_scratches(192), 30, axis=1)])
    out = napari_dip.inpaint(stack, mask, stack_axis=0, iterations=2, **FAST)
    assert np.array_equal(out[~mask], stack[~mask])


def test_a_volume_changes_only_its_painted_voxels():
    volume = np.random.default_rng(6).random((16, 64, 64)).astype(np.float32)
    mask = np.zeros(volume.shape, bool)
    mask[4:8, 20:30, 20:40] = True
    out = napari_dip.inpaint(volume, mask, spatial_dims=3, iterations=2, **FAST)
    assert np.array_equal(out[~mask], volume[~mask]) and not np.array_equal(out[mask], volume[mask])


def test_a_run_whose_boxes_all_stopped_by_themselves_says_so():
    image = np.random.default_rng(5).random((192, 192)).astype(np.float32)
    mask = _two_scratches(192)
    quick_stop = {"iterations": 400, "patience": 10, "min_gain": 0.9, "check_every": 10, **FAST}
    run = prepare_inpaint(image, mask, **quick_stop)
    records = []
    run.run(records.append)
    assert run.settings["region_count"] == 2 and records[-1].iteration < 2 * 400
    assert run.history.stop_reason == "auto_stop"
    assert run.fit.auto_stop_iteration == records[-1].iteration  # the end of the run, counted across the boxes
    ran_on = prepare_inpaint(image, mask, **{**quick_stop, "iterations": 20})  # both boxes reach their last one
    ran_on.run()
    assert ran_on.history.stop_reason == "completed" and ran_on.fit.auto_stop_iteration is None
