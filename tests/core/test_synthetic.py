"""The synthetic fluorescence volume: layout, reproducibility and Poisson-Gaussian noise statistics."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip.core.extras.synthetic import fluorescence_image, fluorescence_volume


def test_volume_and_image_layout():
    noisy, clean = fluorescence_volume((6, 40, 48), seed=1)
    assert noisy.shape == clean.shape == (6, 40, 48)
    assert noisy.dtype == np.uint16 and clean.dtype == np.float32
    noisy2d, clean2d = fluorescence_image((40, 48), seed=1)
    assert noisy2d.shape == clean2d.shape == (40, 48) and noisy2d.dtype == np.uint16


def test_same_seed_same_volume_other_seed_other_volume():
    a, clean_a = fluorescence_volume((4, 32, 32), seed=5)
    b, clean_b = fluorescence_volume((4, 32, 32), seed=5)
    c, clean_c = fluorescence_volume((4, 32, 32), seed=6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(clean_a, clean_b)
    assert not np.array_equal(clean_a, clean_c)


def test_structures_stand_out_of_the_background():
    _, clean = fluorescence_volume((8, 64, 64), photons=100.0, offset=100.0, seed=2)
    signal = clean - 100.0
    # Blobs and filaments reach far above the flat background; most voxels stay dim.
    assert signal.max() > 10 * np.median(signal)
    assert np.mean(signal > 0.5 * signal.max()) < 0.2


def test_noise_is_poisson_plus_gaussian():
    noisy, clean = fluorescence_volume((8, 96, 96), photons=40.0, read_noise=3.0, offset=100.0, gain=1.0, seed=3)
    residual = noisy.astype(np.float64) - clean
    assert abs(residual.mean()) < 0.1
    expected_var = float(np.mean(clean - 100.0)) + 3.0**2  # gain * photons + read noise^2
    assert residual.var() == pytest.approx(expected_var, rel=0.05)
    bright = clean > np.percentile(clean, 95)
    assert residual[bright].var() > residual[~bright].var()  # photon noise grows with the signal


def test_more_photons_less_relative_noise():
    def snr(photons):
        noisy, clean = fluorescence_volume((4, 48, 48), photons=photons, read_noise=1.0, seed=4)
        return np.ptp(clean) / np.std(noisy - clean.astype(np.float64))

    assert snr(200.0) > 2 * snr(10.0)


def test_anisotropic_voxels_change_faster_along_z():
    def z_change(z_step):
        _, clean = fluorescence_volume((12, 48, 48), z_step=z_step, read_noise=0.0, seed=7)
        clean = clean - clean.min()
        return np.abs(np.diff(clean, axis=0)).mean() / clean.mean()

    assert z_change(4.0) > 1.5 * z_change(1.0)


def test_counts_are_clipped_not_wrapped():
    noisy, _ = fluorescence_volume((2, 16, 16), photons=5.0, read_noise=50.0, offset=0.0, seed=0)
    assert noisy.min() == 0 and noisy.max() < 1000  # negative read noise clipped to 0, never wrapped to 65535


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(shape=(5,)), "shape"),
        (dict(shape=(2, 3, 4, 5)), "shape"),
        (dict(photons=0.0), "photons"),
        (dict(z_step=-1.0), "z_step"),
        (dict(read_noise=-1.0), "read_noise"),
    ],
)
def test_bad_settings_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        fluorescence_volume(**{"shape": (2, 16, 16), **kwargs})


def test_the_2d_helper_refuses_a_volume_shape():
    with pytest.raises(ValueError, match="fluorescence_volume"):
        fluorescence_image((2, 16, 16))
