import numpy as np
import pytest

from napari_dip.core.inputs.images import pad_to_multiple, prepare_image, restore_image


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64])
def test_round_trip_keeps_dtype_shape_and_range(dtype):
    rng = np.random.default_rng(0)
    image = (rng.uniform(-100 if np.issubdtype(dtype, np.signedinteger) else 0, 200, (20, 30))).astype(dtype)
    chw, info = prepare_image(image)
    assert chw.dtype == np.float32 and chw.shape == (1, 20, 30)
    assert chw.min() >= 0 and chw.max() <= 1
    back = restore_image(chw, info)
    assert back.dtype == image.dtype and back.shape == image.shape
    # No fitting happens: the full-range mapping gives every value back.
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(back, image)
    else:
        np.testing.assert_allclose(back, image, rtol=1e-6, atol=1e-4)


def test_uint8_and_unit_floats_map_exactly():
    image = np.arange(256, dtype=np.uint8).reshape(16, 16)
    chw, info = prepare_image(image)
    np.testing.assert_allclose(chw[0], image / 255.0, atol=1e-7)
    np.testing.assert_array_equal(restore_image(chw, info), image)
    unit = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    np.testing.assert_allclose(prepare_image(unit)[0][0], unit)


def spots_image() -> np.ndarray:
    """96x96 uint16, background near 1000, two 2x2 spots at 60000 and 52000 (rarer than 0.1 % of the pixels)."""
    image = np.random.default_rng(1).normal(1000, 30, (96, 96)).clip(0).astype(np.uint16)
    image[20:22, 30:32] = 60000
    image[70:72, 60:62] = 52000
    return image


def test_uint16_sparse_bright_spots_keep_their_height():
    image = spots_image()
    chw, info = prepare_image(image)
    assert info.low[0] == image.min() and info.high[0] == 60000
    np.testing.assert_array_equal(restore_image(chw, info), image)


@pytest.mark.parametrize(
    "dtype, values",
    [
        (np.int16, [-30000, -5, 7, 12, 32767, -32768, 1]),
        (np.uint16, [1, 65535, 4, 9, 300, 2, 65534]),
        (np.int8, [-128, 127, -3, 5]),
        (np.int32, [3, 70000, -5000, 1, 9]),
    ],
    ids=["int16", "uint16", "int8", "int32"],
)
def test_integer_round_trip_is_exact(dtype, values):
    image = np.zeros((8, 8), dtype)  # every extreme value occurs once
    image.flat[: len(values)] = values
    chw, info = prepare_image(image)
    assert chw.min() == 0 and chw.max() == 1
    back = restore_image(chw, info)
    assert back.dtype == image.dtype
    np.testing.assert_array_equal(back, image)


def test_float_above_one_keeps_its_range():
    rng = np.random.default_rng(2)
    image = rng.normal(5, 1, (32, 32)).astype(np.float32)
    image[3, 4] = 250.0  # a single bright pixel: the data range, not a percentile
    image[9, 9] = -12.5
    chw, info = prepare_image(image)
    back = restore_image(chw, info)
    assert back.dtype == np.float32 and back.max() == 250.0 and back.min() == -12.5
    # float32 keeps 24 bits: the round trip is exact to the precision of the data range
    np.testing.assert_allclose(back, image, rtol=0, atol=(250 + 12.5) * 2**-23)


def test_unit_float_round_trip_is_exact():
    image = np.random.default_rng(3).random((16, 16)).astype(np.float32)
    chw, info = prepare_image(image)
    np.testing.assert_array_equal(restore_image(chw, info), image)


def test_bool_is_zero_one_data_and_comes_back_as_bool():
    image = np.random.default_rng(4).random((12, 20)) > 0.7
    chw, info = prepare_image(image)
    assert chw.dtype == np.float32 and set(np.unique(chw)) == {0.0, 1.0}
    np.testing.assert_array_equal(chw[0], image)
    back = restore_image(chw, info)
    assert back.dtype == bool
    np.testing.assert_array_equal(back, image)
    assert restore_image(np.full((1, 12, 20), 0.6, np.float32), info).all()


def test_each_channel_keeps_its_own_full_range():
    image = np.zeros((16, 16, 3), np.uint16)
    image[..., 0] = np.arange(256).reshape(16, 16)
    image[..., 1] = 40000 + np.arange(256).reshape(16, 16) * 100
    image[..., 2] = 7
    image[0, 0, 2] = 65535
    chw, info = prepare_image(image)
    np.testing.assert_array_equal(info.low, [0, 40000, 7])
    np.testing.assert_array_equal(info.high, [255, 65500, 65535])
    np.testing.assert_array_equal(restore_image(chw, info), image)


def test_constant_image_round_trips():
    image = np.full((8, 8), 1234, np.uint16)
    chw, info = prepare_image(image)
    np.testing.assert_array_equal(restore_image(chw, info), image)


def test_input_is_not_modified():
    image = spots_image()
    copy = image.copy()
    prepare_image(image)
    np.testing.assert_array_equal(image, copy)


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
def test_a_denoising_run_maps_back_to_the_full_range():
    from napari_dip.core.tasks.prepare import prepare_denoise

    image = spots_image()
    task = prepare_denoise(image, preset="fast", iterations=1)
    chw, _ = prepare_image(image)
    np.testing.assert_array_equal(task.finish(chw), image)  # an ideal fit gives every intensity back

