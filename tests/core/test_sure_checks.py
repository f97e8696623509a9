"""The warnings of ``preset="sure"`` on images whose noise is not the white Gaussian noise it assumes."""

import warnings
from dataclasses import replace

import numpy as np
import pytest

from napari_dip.core.extras.synthetic import fluorescence_image
from napari_dip.core.inputs.noise_checks import clipped_share, noise_growth
from napari_dip.core.model.networks import NetworkSpec
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.presets import PRESETS

TINY_SURE = replace(PRESETS["sure"], network=NetworkSpec(down=(8, 16), up=(8, 16), skip=(2, 2)), iterations=5)


def gaussian_image(level_bright: float = 0.7, side: int = 64, sigma: float = 0.08) -> np.ndarray:
    """A dark half at 0.3 and a bright half at ``level_bright`` with white Gaussian noise, clipped to [0, 1]."""
    clean = np.full((side, side), 0.3, np.float32)
    clean[:, side // 2:] = level_bright
    noisy = clean + np.random.default_rng(0).normal(0, sigma, clean.shape).astype(np.float32)
    return np.clip(noisy, 0, 1)


def test_the_clipped_share_counts_the_values_at_each_channels_extremes():
    image = np.full((2, 10, 10), 0.5)
    image[0, 0, :3] = 0.0  # 3 at the first channel's low end
    image[0, 1, :2] = 1.0  # 2 at its high end
    image[1, 2, 0] = 0.9  # the second channel's top: 1 value ...
    image[1, 3, :4] = 0.1  # ... and 4 at its bottom
    assert clipped_share(image) == pytest.approx((3 + 2 + 1 + 4) / 200)


def test_the_noise_growth_is_near_one_for_gaussian_noise_and_large_for_photon_noise():
    flat = gaussian_image()[None]
    assert noise_growth(flat) < 1.2
    photons, _ = fluorescence_image((128, 128), photons=50)
    assert noise_growth(photons[None].astype(np.float64)) > 1.5


def test_sure_warns_about_a_clipped_image_and_names_the_other_preset():
    saturated = gaussian_image(level_bright=0.97)  # half the bright half is clipped at 1
    share = clipped_share(saturated[None])
    assert share > 0.1
    with pytest.warns(UserWarning, match=rf"^{share:.0%} of the image's values .*clipped.*preset='fast'"):
        prepare_denoise(saturated, preset=TINY_SURE)


def test_sure_warns_about_noise_that_grows_with_the_intensity():
    photons, _ = fluorescence_image((128, 128), photons=50)
    with pytest.warns(UserWarning, match=r"grows with the intensity.*use preset='fast'"):
        prepare_denoise(photons, preset=TINY_SURE)


def astronaut_sky(seed: int = 0) -> np.ndarray:
    """A bright photo crop with Gaussian noise: 3.4 % of its values clipped, its noise growth about 1.3."""
    import skimage.data

    clean = skimage.data.astronaut()[:96, 200:296].astype(np.float64)
    return np.clip(clean + np.random.default_rng(seed).normal(0, 25, clean.shape), 0, 255).astype(np.uint8)


def test_sure_fits_gaussian_noise_without_a_warning_and_other_presets_are_not_checked():
    photo = astronaut_sky()
    chw = np.moveaxis(photo, -1, 0)
    assert clipped_share(chw) < 0.05 and 1.2 < noise_growth(chw) < 1.5  # dark clipping raises the growth a little
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare_denoise(gaussian_image(), preset=TINY_SURE)
        prepare_denoise(photo, preset=TINY_SURE, channel_axis=-1)
        prepare_denoise(gaussian_image(level_bright=0.97), preset="fast", iterations=5)
