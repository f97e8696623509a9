"""Faults users met through the Python API: each refused in the user's words, or combined as they expect.

Every case here uses the public API only (``napari_dip.*``), as a user's script would.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import napari_dip

FAST = {"preset": "fast", "threads": 1, "device": "cpu"}


def image(side: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((side, side)).astype(np.float32)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: napari_dip.denoise(np.stack([image()] * 2), stack_axis=True, iterations=1, **FAST),
     r"stack_axis=True is not an axis"),
    (lambda: napari_dip.denoise(np.stack([image()] * 2), stack_axis=0, warm_start="no", iterations=1, **FAST),
     r"warm_start='no': pass True or False"),
    (lambda: napari_dip.denoise(image(), iterations=1, preset="fast", threads=1000),
     r"threads=1000: this machine runs \d+ thread\(s\) at once"),
    (lambda: napari_dip.denoise(image(), stack_axis=0, iterations=1, **FAST),
     r"stack_axis=0 restores the slices of a stack, but the image has shape \(32, 32\)"),
    (lambda: napari_dip.denoise(np.stack([image()] * 8), spatial_dims=3, preset="sure", iterations=1, threads=1),
     r"preset='sure' cannot fit a volume.*Use preset='fast'"),
    (lambda: napari_dip.denoise(np.stack([image()] * 8), spatial_dims=3, memory_format="channels_last",
                                iterations=1, **FAST),
     r"memory_format='channels_last' lays out 2D fits.*use 'auto'"),
    (lambda: napari_dip.flash_no_flash(np.stack([image()] * 3, axis=-1), image(), iterations=1, threads=1),
     r"flash image .* 1 channel\(s\) but the no-flash image .* 3: pass an aligned pair of the same size and channels"),
    (lambda: napari_dip.denoise(np.full((32, 32), 0.5, np.float32), preset="sure", iterations=1, threads=1),
     r"shows no noise.*preset='sure' fits the\s+noise it estimates: use preset='fast'"),
    (lambda: napari_dip.denoise((image().astype(np.float64) - 0.5) * 1.7e308 * 2, iterations=1, **FAST),
     r"values span more than a float64 can hold"),
])
def test_a_bad_setting_or_image_is_refused_naming_what_the_user_gave(call, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=message):
            call()


def test_a_constant_image_is_denoised_by_the_default_without_a_word_about_a_noise_level():
    flat = np.full((32, 32), 0.5, np.float32)
    out, history = napari_dip.denoise(flat, iterations=3, threads=1, return_history=True)
    assert out.shape == flat.shape and np.isfinite(out).all()


def test_an_image_of_a_tiny_range_keeps_its_range_and_does_not_diverge():
    tiny = (image() * 1e-30).astype(np.float32)
    out = napari_dip.denoise(tiny, iterations=30, **FAST)
    assert np.isfinite(out).all() and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1e-30 and np.ptp(out) > 0


def test_tiles_combine_with_stacks_and_count_iterations_per_tile():
    rng = np.random.default_rng(0)
    stack = rng.random((2, 40, 40)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "fitted in tiles"
        out, histories = napari_dip.denoise(stack, stack_axis=0, context=0, tile=16, iterations=4, warm_iterations=2,
                                            auto_stop=False, return_history=True, **FAST)
        single, history = napari_dip.denoise(stack[0], tile=16, iterations=4, auto_stop=False,
                                             return_history=True, **FAST)
    assert out.shape == stack.shape and np.isfinite(out).all()
    assert [h.stop_iteration for h in histories] == [4, 2]
    assert history.stop_iteration == 4  # per tile, not summed over the tiles


def test_a_volume_too_large_for_the_device_is_refused_with_what_works_for_volumes(monkeypatch):
    from napari_dip.core.runtime import devices

    monkeypatch.setattr(devices, "free_memory", lambda device: 2**20)  # 1 MiB free
    volume = np.random.default_rng(0).random((8, 32, 32)).astype(np.float32)
    with pytest.raises(ValueError, match=r"volume's fit needs about .* crop the volume, restore it slice by slice") as error:
        napari_dip.denoise(volume, spatial_dims=3, iterations=1, **FAST)
    assert "tile" not in str(error.value)  # volumes are never tiled
