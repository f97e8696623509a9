"""denoise(output_dtype="float32"): an integer image's estimate comes back unrounded, in the input's units."""

import numpy as np
import pytest

import napari_dip
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.settings import replay_keywords

TINY = {"iterations": 4, "device": "cpu", "seed": 0}


def _counts(size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.poisson(5 + 20 * np.outer(np.hanning(size), np.hanning(size))) + 100).astype(np.uint16)


def test_float_output_keeps_the_units_and_skips_the_rounding():
    counts = _counts()
    task = prepare_denoise(counts, output_dtype="float32", **TINY)
    out, _ = task.run()
    rounded = napari_dip.denoise(counts, **TINY)
    assert out.dtype == np.float32 and rounded.dtype == np.uint16
    np.testing.assert_array_equal(np.rint(out).astype(np.uint16), rounded)  # the same fit, not rounded
    assert not np.array_equal(out, np.rint(out))
    # 'auto' still reads the input's dtype, and the setting replays
    assert task.settings["auto_preset"] == "16-bit camera data" and task.settings["output_dtype"] == "float32"
    np.testing.assert_array_equal(napari_dip.denoise(counts, **replay_keywords(task.settings)), out)
    assert "output_dtype" not in prepare_denoise(counts, **TINY).settings


def test_float_output_of_a_stack_and_a_volume():
    stack = np.stack([_counts(), _counts()])
    assert napari_dip.denoise(stack, stack_axis=0, output_dtype="float32", **TINY).dtype == np.float32
    volume = np.stack([_counts(16)] * 8)
    out = napari_dip.denoise(volume, spatial_dims=3, output_dtype="float32", **TINY)
    assert out.dtype == np.float32 and out.shape == volume.shape


def test_an_unknown_output_dtype_is_refused():
    with pytest.raises(ValueError, match=r"output_dtype='float64': choose one of input, float32"):
        napari_dip.denoise(_counts(), output_dtype="float64", **TINY)
