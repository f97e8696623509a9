import numpy as np
import pytest

from napari_dip.core.images import pad_to_multiple, prepare_image, restore_image


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_keeps_dtype_shape_and_range(dtype):
    rng = np.random.default_rng(0)
    image = (rng.uniform(-100 if np.issubdtype(dtype, np.signedinteger) else 0, 200, (20, 30))).astype(dtype)
    chw, info = prepare_image(image)
    assert chw.dtype == np.float32 and chw.shape == (1, 20, 30)
    assert chw.min() >= 0 and chw.max() <= 1
    back = restore_image(chw, info)
    assert back.dtype == image.dtype and back.shape == image.shape
    # No fitting: every value inside the mapped range comes back, the few beyond it are clipped to it.
    expected = np.clip(image.astype(np.float64), info.low[0], info.high[0])
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(back, np.rint(expected).astype(dtype))
    else:
        np.testing.assert_allclose(back, expected.astype(dtype), rtol=1e-6, atol=1e-4)


def test_uint8_and_unit_floats_map_exactly():
    image = np.arange(256, dtype=np.uint8).reshape(16, 16)
    chw, info = prepare_image(image)
    np.testing.assert_allclose(chw[0], image / 255.0, atol=1e-7)
    np.testing.assert_array_equal(restore_image(chw, info), image)
    unit = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    np.testing.assert_allclose(prepare_image(unit)[0][0], unit)


def test_uint16_microscopy_uses_robust_percentiles():
    rng = np.random.default_rng(1)
    image = rng.normal(1000, 50, (64, 64)).clip(0).astype(np.uint16)
    image[0, 0] = 65000  # a hot pixel must not squash the range
    chw, info = prepare_image(image)
    assert info.high[0] < 2000
    assert np.median(chw) == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize(
    "shape, axis, expected",
    [((10, 12, 3), 2, (3, 10, 12)), ((10, 12, 4), -1, (4, 10, 12)), ((5, 10, 12), 0, (5, 10, 12)),
     ((10, 12, 2), -1, (2, 10, 12)), ((16, 20, 3), None, (3, 16, 20)), ((8, 32, 4), -1, (4, 8, 32))],
)
def test_channel_axes(shape, axis, expected):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    chw, info = prepare_image(image, channel_axis=axis)
    assert chw.shape == expected
    np.testing.assert_allclose(restore_image(chw, info), image, atol=1e-6)


def test_pad_to_multiple_keeps_every_pixel():
    chw = np.random.default_rng(0).random((2, 37, 53)).astype(np.float32)
    padded, crop = pad_to_multiple(chw, 32)
    assert padded.shape == (2, 64, 64)
    np.testing.assert_array_equal(padded[:, crop[0], crop[1]], chw)
    assert pad_to_multiple(chw[:, :5, :5], 32, minimum=64)[0].shape == (2, 64, 64)


@pytest.mark.parametrize("shape", [(8, 32, 4), (32, 8, 3), (15, 64, 3), (4, 4, 4)])
def test_a_short_side_with_3_or_4_last_entries_needs_channel_axis(shape):
    with pytest.raises(ValueError, match=r"channel_axis=-1.*RGB.*channel_axis=0"):
        prepare_image(np.zeros(shape, np.float32))


def test_an_8bit_rgb_image_comes_back_exactly():
    image = np.random.default_rng(2).integers(0, 256, (16, 24, 3)).astype(np.uint8)
    chw, info = prepare_image(image)
    np.testing.assert_array_equal(restore_image(chw, info), image)
