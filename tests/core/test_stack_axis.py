"""Stacks and time-lapses: every slice along stack_axis, warm-started from the previous fit."""

from __future__ import annotations

import numpy as np
import pytest

import napari_dip
from napari_dip.core.tasks.prepare import prepare_denoise, prepare_inpaint
from napari_dip.core.tasks.stacks import restore_stack, start_from

FAST = dict(preset="fast", device="cpu")


def _stack(count=3, shape=(32, 32), seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    frames = [1000 + 400 * np.sin(x / 4.0 + k / 2) * np.cos(y / 6.0) for k in range(count)]
    return np.clip(np.stack(frames) + rng.normal(0, 60, (count, *shape)), 0, 65535).astype(np.uint16)


def test_every_slice_is_restored_and_later_slices_run_warm_iterations():
    stack = _stack()
    before = stack.copy()
    output, histories = napari_dip.denoise(stack, stack_axis=0, context=0, iterations=4, warm_iterations=2,
                                           return_history=True, **FAST)
    np.testing.assert_array_equal(stack, before)  # the input is never modified
    assert output.shape == stack.shape and output.dtype == stack.dtype
    assert [h.stop_iteration for h in histories] == [4, 2, 2]
    assert all(h.stop_reason == "completed" for h in histories)
    assert not np.array_equal(output, stack)


def test_default_warm_iterations_are_half_the_first_fit():
    _, histories = napari_dip.denoise(_stack(2), stack_axis=0, context=0, iterations=8, return_history=True, **FAST)
    assert [h.stop_iteration for h in histories] == [8, 4]


def test_without_warm_start_each_slice_is_an_independent_fit():
    stack = _stack(2)
    together = napari_dip.denoise(stack, stack_axis=0, warm_start=False, context=0, iterations=3, **FAST)
    for k in range(2):
        np.testing.assert_array_equal(together[k], napari_dip.denoise(stack[k], iterations=3, **FAST))


def test_the_stack_axis_can_be_any_axis():
    stack = _stack(2)
    moved = np.ascontiguousarray(np.moveaxis(stack, 0, 1))  # (Y, T, X)
    along_1 = napari_dip.denoise(moved, stack_axis=1, iterations=3, warm_iterations=2, **FAST)
    along_0 = napari_dip.denoise(stack, stack_axis=0, iterations=3, warm_iterations=2, **FAST)
    np.testing.assert_array_equal(np.moveaxis(along_1, 1, 0), along_0)


def test_warm_start_copies_the_previous_weights():
    image = _stack(1)[0]
    first = prepare_denoise(image, iterations=20, **FAST)
    first.run()
    warm, cold = prepare_denoise(image, iterations=1, **FAST), prepare_denoise(image, iterations=1, **FAST)
    start_from(warm, first)
    for name, value in first.fit.network.state_dict().items():
        assert np.array_equal(warm.fit.network.state_dict()[name].numpy(), value.numpy()), name
    _, warm_result = warm.run()
    _, cold_result = cold.run()
    assert warm_result.history.losses[0] < cold_result.history.losses[0]  # starts where the last fit ended
    assert warm.settings["warm_start"] is True


def test_channels_count_in_the_whole_stack():
    rgb_stack = np.stack([np.stack([_stack(1, seed=s)[0] // 257] * 3, axis=-1).astype(np.uint8) for s in range(2)])
    output = napari_dip.denoise(rgb_stack, stack_axis=0, channel_axis=-1, iterations=2, **FAST)
    assert output.shape == rgb_stack.shape and output.dtype == np.uint8


def test_other_tasks_take_stacks_too():
    stack = _stack(2)
    mask = np.zeros((32, 32), bool)
    mask[10:14, :] = True
    filled = napari_dip.inpaint(stack, mask, stack_axis=0, iterations=2, **FAST)  # one mask for every slice
    assert filled.shape == stack.shape
    masks = np.stack([mask, np.roll(mask, 5, axis=0)])
    assert napari_dip.inpaint(stack, masks, stack_axis=0, iterations=2, **FAST).shape == stack.shape
    large = napari_dip.super_resolve(stack[:, :16, :16], 2, stack_axis=0, iterations=2, **FAST)
    assert large.shape == (2, 32, 32)
    coarse, fine, enhanced = napari_dip.enhance(stack, stack_axis=0, iterations=2, **FAST)
    assert coarse.shape == fine.shape == enhanced.shape == stack.shape


def test_stopping_keeps_the_slices_done():
    calls = []

    def callback(record):
        calls.append(record.iteration)
        return len(calls) < 6  # stop on the second slice

    output, histories = napari_dip.denoise(_stack(3), stack_axis=0, context=0, iterations=4, warm_iterations=4,
                                           callback=callback, return_history=True, **FAST)
    assert output.shape == (2, 32, 32)
    assert [h.stop_reason for h in histories] == ["completed", "interrupted"]


def test_a_time_series_of_volumes():
    series = np.stack([_stack(3, seed=s) for s in range(2)])  # (T, Z, Y, X)
    output, histories = napari_dip.denoise(series, stack_axis=0, spatial_dims=3, iterations=2, warm_iterations=1,
                                           return_history=True, **FAST)
    assert output.shape == series.shape
    assert [h.stop_iteration for h in histories] == [2, 1]


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(stack_axis=3), "stack_axis=3"),
        (dict(stack_axis=0, warm_iterations=0), "warm_iterations=0"),
        (dict(stack_axis=0, warm_iterations=2.5), "warm_iterations"),
        (dict(warm_iterations=5), "stack_axis"),
        (dict(warm_start=False), "stack_axis"),
        (dict(stack_axis=0, channel_axis=0), "channel_axis=0 is also the stack_axis"),
    ],
)
def test_bad_stack_settings_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        napari_dip.denoise(_stack(2), iterations=1, **kwargs, **FAST)


def test_a_mask_per_slice_must_match_the_stack():
    with pytest.raises(ValueError, match="one for every slice"):
        restore_stack(prepare_inpaint, _stack(3), np.zeros((2, 32, 32), bool), stack_axis=0, iterations=1, **FAST)


def test_warm_started_slices_hold_out_pixels_and_may_stop_early():
    from napari_dip.core.fitting.stopping import MIN_WARMUP, WARM_WARMUP
    from napari_dip.core.tasks.preset_choice import AUTO_HOLDOUT, choose_preset

    runs = []

    def prepare(*args, **kwargs):
        runs.append(prepare_denoise(*args, **kwargs))
        return runs[-1]

    restore_stack(prepare, _stack(2), stack_axis=0, iterations=3, preset="fast", device="cpu")
    assert [run.settings["holdout"] for run in runs] == [AUTO_HOLDOUT] * 2
    assert runs[0].fit._auto.stopper.warmup == MIN_WARMUP  # the first slice's picture takes shape as usual
    assert runs[1].fit._auto.stopper.warmup == WARM_WARMUP  # a warm start may find its best picture at once
    runs.clear()
    restore_stack(prepare, _stack(2), stack_axis=0, iterations=3, holdout=0.0, **FAST)
    assert [run.settings["holdout"] for run in runs] == [0.0, 0.0]  # given: kept
    runs.clear()
    restore_stack(prepare, _stack(2), stack_axis=0, iterations=3, warm_start=False, **FAST)
    assert [run.settings["holdout"] for run in runs] == [0.0, 0.0]  # independent fits: the preset's
    assert choose_preset("denoise", "auto", stack=True).settings.holdout == AUTO_HOLDOUT
    assert choose_preset("denoise", "fast", stack=True).settings.holdout == AUTO_HOLDOUT  # as the slices get it
    assert choose_preset("super_resolution", "auto", factor=2, stack=True).settings.holdout == 0.0


def test_a_warm_started_super_resolution_stack_holds_nothing_out():
    stack = _stack(2, shape=(16, 16))
    _, histories = napari_dip.super_resolve(stack, 2, stack_axis=0, iterations=2, return_history=True, device="cpu")
    assert len(histories) == 2
