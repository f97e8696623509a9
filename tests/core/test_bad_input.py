import numpy as np
import pytest

import napari_dip

IMAGE = np.random.default_rng(0).random((32, 32)).astype(np.float32)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: napari_dip.inpaint(IMAGE, np.zeros((16, 16), bool)), r"mask has shape \(16, 16\).*image's size"),
        (lambda: napari_dip.denoise(np.zeros((0, 5))), "empty.*pass an image"),
        (lambda: napari_dip.denoise(np.where(IMAGE > 0.5, np.nan, IMAGE)), "NaN or Inf.*replace them"),
        (lambda: napari_dip.denoise(np.where(IMAGE > 0.5, np.inf, IMAGE)), "NaN or Inf"),
        (lambda: napari_dip.inpaint(IMAGE, np.ones((32, 32), bool)), "covers every pixel.*leave some"),
        (lambda: napari_dip.inpaint(IMAGE, np.zeros((32, 32), bool)), "mask is empty"),
        (lambda: napari_dip.super_resolve(IMAGE, 1), "factor=1.*2 or more"),
        (lambda: napari_dip.denoise(IMAGE, channel_axis=2), "channel_axis=2 does not exist"),
        (lambda: napari_dip.denoise(np.zeros((8, 8, 5)), channel_axis=5), "channel_axis=5 does not exist"),
        (lambda: napari_dip.denoise(np.zeros((8, 8, 5))), "pass channel_axis"),
        (lambda: napari_dip.denoise(IMAGE, device="tpu"), "Unknown device"),
        (lambda: napari_dip.denoise(IMAGE, iterations=0), "at least 1 iteration"),
        (lambda: napari_dip.denoise(IMAGE, lr=0), "must be positive"),
        (lambda: napari_dip.denoise(IMAGE, preset="slow"), "Unknown preset"),
        (lambda: napari_dip.denoise(IMAGE, iterations=5, learning_rate=1), "Unknown option"),
        (lambda: napari_dip.inpaint(IMAGE, IMAGE > 0.5, kind="blob"), "kind='blob'"),
        (lambda: napari_dip.denoise(IMAGE, reference=np.zeros((8, 8))), "reference has shape"),
        (lambda: napari_dip.flash_no_flash(IMAGE, IMAGE[:16]), "aligned pair"),
    ],
)
def test_bad_input_names_the_problem_and_the_fix(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_too_large_for_the_device_is_refused_before_fitting():
    with pytest.raises(ValueError, match="GiB.*fast"):
        napari_dip.denoise(np.zeros((4000, 4000), np.uint8), preset="paper", tile=None)
