"""Photon noise: the Poisson-Gaussian model, its estimation, the Anscombe pair and the Poisson data term."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import napari_dip
from napari_dip.core.inputs.noise_level import estimate_noise, gaussian_noise_variance
from napari_dip.core.physics.noise import PhotonNoise, PoissonLikelihood, anscombe, inverse_anscombe
from napari_dip.core.tasks.prepare import TASKS, prepare_denoise
from napari_dip.core.tasks.settings import replay_keywords


def model(gain: float, read_noise: float, offset: float = 0.0) -> PhotonNoise:
    return PhotonNoise(np.array([gain]), np.array([read_noise]), np.array([offset]))


def photon_image(photons: np.ndarray, gain: float, read_noise: float, offset: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    return gain * rng.poisson(photons) + rng.normal(offset, read_noise, photons.shape)


def test_estimate_recovers_gain_and_read_noise():
    ramp = np.linspace(2, 200, 256)[None, :] * np.ones((256, 1))  # a smooth signal: 2 .. 200 photons
    noisy = photon_image(ramp, gain=3.0, read_noise=6.0)[None]
    found = estimate_noise(noisy)
    assert found.gain[0] == pytest.approx(3.0, rel=0.15)
    assert found.read_noise[0] == pytest.approx(6.0, rel=0.25)
    assert found.offset[0] == 0


def test_estimate_with_a_known_gain_finds_the_dark_level():
    ramp = np.linspace(2, 200, 256)[None, :] * np.ones((256, 1))
    noisy = photon_image(ramp, gain=2.0, read_noise=0.0, offset=100.0)[None]
    found = estimate_noise(noisy, gain=2.0)
    # var = gain * (mean - 100): no read noise, a dark level near 100
    assert found.gain[0] == 2.0 and found.read_noise[0] == 0
    assert found.offset[0] == pytest.approx(100, abs=10)


def test_estimate_refuses_noise_that_does_not_grow_with_the_signal():
    ramp = np.linspace(0, 1, 128)[None, :] * np.ones((128, 1))
    noisy = ramp + np.random.default_rng(0).normal(0, 0.05, ramp.shape)
    with pytest.raises(ValueError, match="noise='gaussian'"):
        estimate_noise(noisy[None])


@pytest.mark.parametrize("bad, match", [({"gain": 0}, "positive"), ({"read_noise": -1, "gain": 1}, "negative"),
                                        ({"gain": [1, 2, 3]}, "one per channel")])
def test_bad_noise_parameters_are_named(bad, match):
    with pytest.raises(ValueError, match=match):
        estimate_noise(np.ones((2, 8, 8)), **bad)


@pytest.mark.parametrize("photons", [5, 20, 200])
def test_anscombe_makes_the_noise_unit_variance(photons):
    noise = model(gain=2.0, read_noise=3.0)
    noisy = photon_image(np.full((1, 200, 200), float(photons)), 2.0, 3.0)
    assert anscombe(noisy, noise).std() == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("photons", [0.5, 1.0, 3.0])
def test_exact_unbiased_inverse_removes_the_low_count_bias(photons):
    noise = model(gain=1.0, read_noise=0.5)
    noisy = photon_image(np.full((1, 400, 400), photons), 1.0, 0.5, seed=1)
    mean_transform = anscombe(noisy, noise).mean(keepdims=True)  # an ideal denoiser of the transformed image
    unbiased = inverse_anscombe(mean_transform, noise)[0, 0, 0]
    algebraic = inverse_anscombe(mean_transform, noise, unbiased=False)[0, 0, 0]
    assert abs(unbiased - photons) < 0.1 * photons + 0.03
    assert abs(unbiased - photons) < abs(algebraic - photons)


def test_poisson_likelihood_is_smallest_at_the_mean_count():
    noise = model(gain=2.0, read_noise=1.0, offset=10.0)
    low, span = np.array([0.0]), np.array([200.0])
    term = PoissonLikelihood(low, span, noise)
    noisy = photon_image(np.full((1, 64, 64), 30.0), 2.0, 1.0, offset=10.0)
    target = torch.tensor((noisy - low[0]) / span[0], dtype=torch.float32)[None]
    levels = torch.linspace(0.1, 0.6, 501)
    losses = [float(term.loss(torch.full_like(target, float(v)), target)) for v in levels]
    best = float(levels[int(np.argmin(losses))])
    assert best == pytest.approx(float(target.mean()), abs=2e-3)
    assert min(losses) >= 0


def test_poisson_denoise_records_the_model_and_replays(camera_crop):
    photons = camera_crop[:32, :32] / 255.0 * 20
    image = np.clip(photon_image(photons, 4.0, 2.0, offset=100.0), 0, None).astype(np.uint16)
    task = prepare_denoise(image, noise="poisson", preset="fast", iterations=3)
    assert task.settings["noise"] == "poisson" and task.settings["gain"][0] > 0
    assert isinstance(task.fit.data_term, PoissonLikelihood)
    out = task.run()[0]
    assert out.dtype == np.uint16 and out.shape == image.shape
    replay = TASKS["denoise"](image, **replay_keywords(task.settings))
    np.testing.assert_array_equal(replay.run()[0], out)
    given = prepare_denoise(image, noise="poisson", gain=4.0, read_noise=2.0, offset=100, preset="fast", iterations=1)
    assert given.settings["gain"] == [4.0] and given.settings["offset"] == [100.0]


@pytest.mark.parametrize("kwargs, match", [
    ({"noise": "speckle"}, "gaussian"),
    ({"gain": 2.0}, "noise='poisson'"),
    ({"noise": "poisson", "preset": "drp"}, "root of the data term"),
    ({"noise": "poisson", "root_loss": True}, "root of the data term"),
])
def test_denoise_noise_options_are_checked(camera_crop, kwargs, match):
    with pytest.raises(ValueError, match=match):
        napari_dip.denoise(camera_crop, **{"preset": "fast", "iterations": 1, **kwargs})


def test_gaussian_noise_variance_recovers_the_noise_of_a_smooth_image():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:128, :128]
    clean = 0.5 + 0.3 * np.sin(x / 9) * np.cos(y / 13)
    for sigma in (0.02, 0.1):
        noisy = np.stack([clean + rng.normal(0, sigma, clean.shape) for _ in range(3)])
        assert gaussian_noise_variance(noisy) == pytest.approx(sigma**2, rel=0.1)
    assert gaussian_noise_variance(clean[None]) < 1e-5
