"""Stack slices fitted together with their neighbours (``context``): the windows, their layouts and the runs."""

from __future__ import annotations

import numpy as np
import pytest

import napari_dip
from napari_dip.core.extras.synthetic import fluorescence_volume
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.stacks import restore_stack
from napari_dip.core.tasks.windows import camera_sample, context_window, stack_camera, window_image, window_run

FAST = dict(preset="fast", device="cpu")


@pytest.mark.parametrize(
    "position, count, context, window",
    [(3, 8, 2, range(1, 6)), (0, 8, 2, range(0, 5)), (7, 8, 2, range(3, 8)), (1, 3, 2, range(0, 3)),
     (0, 1, 2, range(0, 1)), (4, 8, 0, range(4, 5))],
)
def test_a_window_is_centred_and_shifted_inward_at_the_ends(position, count, context, window):
    assert context_window(position, count, context) == window


@pytest.mark.parametrize("channel_axis, shape", [(None, (6, 7)), (2, (6, 7, 3)), (0, (3, 6, 7))])
def test_a_window_keeps_every_slice_and_gives_back_its_centre(channel_axis, shape):
    slices = [np.random.default_rng(k).random(shape) for k in range(3)]
    window = window_image(slices, range(4, 7), channel_axis)
    channels = 1 if channel_axis is None else shape[channel_axis]
    assert window.image.shape[window.channel_axis] == 3 * channels
    for k in range(3):
        np.testing.assert_array_equal(window.keep(4 + k)(window.image), slices[k])


def _prepare_spy(calls):
    def prepare(image, **kwargs):
        calls.append((image.shape, kwargs.get("channel_axis")))
        return prepare_denoise(image, **kwargs)
    return prepare


def test_each_slice_is_fitted_with_its_neighbours_and_keeps_its_own():
    stack = fluorescence_volume((4, 24, 24), photons=20, seed=1)[0]
    calls = []
    output, histories = restore_stack(_prepare_spy(calls), stack, context=1, warm_start=False, iterations=2,
                                      threads=1, **FAST)
    assert output.shape == stack.shape and output.dtype == stack.dtype
    assert calls == [((3, 24, 24), 0)] * 2  # windows 0-2 (slices 0 and 1) and 1-3 (slices 2 and 3)
    first = prepare_denoise(stack[0:3], channel_axis=0, iterations=2, threads=1, **FAST).run()[0]
    np.testing.assert_array_equal(output[:2], first[:2])
    alone = []
    restore_stack(_prepare_spy(alone), stack, context=0, iterations=2, **FAST)
    assert alone == [((24, 24), None)] * 4


@pytest.mark.parametrize("preset, later", [("sure", 4), ("fast", 8)])
def test_only_fits_of_the_window_itself_warm_start(monkeypatch, preset, later):
    import napari_dip.core.tasks.stacks as stacks

    stack = fluorescence_volume((5, 24, 24), photons=20, seed=1)[0].astype(np.float32) / 200
    started = []
    monkeypatch.setattr(stacks, "start_from", lambda run, previous: started.append(run))
    _, histories = restore_stack(prepare_denoise, stack, context=1, preset=preset, iterations=8, auto_stop=False,
                                 device="cpu")
    assert [h.stop_iteration for h in histories] == [8, 8, later, later, later]  # slice 1 shares slice 0's window
    assert len(started) == (2 if preset == "sure" else 0)


def test_the_run_of_a_window_returns_and_previews_the_slice_only():
    stack = fluorescence_volume((3, 24, 24), photons=20, seed=1)[0]
    output, histories = napari_dip.denoise(stack, stack_axis=0, context=1, iterations=2, return_history=True,
                                           **FAST)
    assert output.shape == stack.shape
    run = window_run(prepare_denoise, lambda j: stack[j], 0, 3, 1, None, {"iterations": 1, **FAST})
    assert run.settings["context"] == 1 and run.settings["window"] == [0, 3]
    result, fitted = run.run()
    assert result.shape == (24, 24) and fitted.image.shape[0] == 3
    assert run.to_image(fitted.image).shape == (24, 24)


def test_rgb_slices_keep_their_channels():
    rng = np.random.default_rng(0)
    frames = rng.random((3, 20, 20, 3)).astype(np.float32)
    output = napari_dip.denoise(frames, stack_axis=0, channel_axis=3, context=1, iterations=2, **FAST)
    assert output.shape == frames.shape


def test_photon_windows_share_one_camera_estimate_and_fit_sure_on_the_anscombe_transform():
    stack = fluorescence_volume((4, 32, 32), photons=20, seed=2)[0]
    given = stack_camera(stack.__getitem__, len(stack), None, {"noise": "poisson"})
    assert len(given["gain"]) == 1 and given["gain"][0] > 0  # one camera for the stack's one channel
    runs = []

    def prepare(image, **kwargs):
        run = prepare_denoise(image, **kwargs)
        runs.append(run)
        return run

    restore_stack(prepare, stack, context=1, noise="poisson", iterations=2, device="cpu")
    assert [run.settings["preset"] for run in runs] == ["sure"] * 2  # windows 0-2 and 1-3
    assert all(run.units is not None for run in runs)  # fitted on the Anscombe transform
    assert all(run.settings["gain"] == given["gain"] * 3 for run in runs)  # the stack's camera, for every slice


def test_the_camera_is_estimated_from_evenly_spaced_slices():
    assert camera_sample(5) == [0, 1, 2, 3, 4]
    sample = camera_sample(100)
    assert len(sample) == 16 and sample[0] == 0 and sample[-1] == 99


def test_sure_fits_photon_noise_on_the_anscombe_transform():
    plane = fluorescence_volume((40, 40), photons=20, seed=3)[0]
    run = prepare_denoise(plane, preset="sure", noise="poisson", iterations=2, device="cpu")
    assert run.units is not None and run.fit.config.sure_sigma == pytest.approx(run.units.sigma)
    out, _ = run.run()
    assert out.shape == plane.shape and out.dtype == plane.dtype


def test_the_default_stack_denoising_uses_two_neighbours_and_volumes_none(monkeypatch):
    import napari_dip.core.api as api

    stack = fluorescence_volume((5, 24, 24), photons=20, seed=1)[0]
    calls = []
    monkeypatch.setattr(api, "prepare_denoise", _prepare_spy(calls))
    napari_dip.denoise(stack, stack_axis=0, iterations=1, **FAST)
    napari_dip.denoise(np.stack([stack, stack]), stack_axis=0, spatial_dims=3, iterations=1, **FAST)
    assert calls == [((5, 24, 24), 0)] + [((5, 24, 24), None)] * 2  # one window of 5 slices; each volume alone


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda s: napari_dip.denoise(s, stack_axis=0, context=-1), "context=-1"),
        (lambda s: napari_dip.denoise(s, stack_axis=0, context=1.5), "context=1.5"),
        (lambda s: napari_dip.denoise(s, stack_axis=0, context="many"), "context='many'"),
        (lambda s: napari_dip.denoise(s, context=1), "stack_axis"),
        (lambda s: napari_dip.restore_jpeg(s, stack_axis=0, context=1), "denoising only"),
        (lambda s: napari_dip.inpaint(s, s > 1200, stack_axis=0, context=1), "denoising only"),
    ],
)
def test_bad_context_is_refused_with_its_fix(call, words):
    stack = fluorescence_volume((3, 24, 24), photons=20, seed=1)[0]
    with pytest.raises(ValueError, match=words):
        call(stack)


def test_a_stack_whose_own_slices_show_no_gain_is_denoised_with_the_stack_camera():
    stack = fluorescence_volume((16, 64, 64), photons=10, read_noise=2.0, offset=100.0, seed=0)[0]
    with pytest.raises(ValueError, match="no photon gain can be estimated"):  # some slice alone shows none
        for k in range(16):
            prepare_denoise(stack[k], noise="poisson", iterations=1, device="cpu")
    output = napari_dip.denoise(stack, stack_axis=0, context=0, noise="poisson", iterations=1, device="cpu")
    assert output.shape == stack.shape
