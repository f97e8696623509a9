"""DIP-SURE (``preset="sure"``): the noisy image as the code, Stein's risk estimate as the data term."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import napari_dip
from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.loop import Fit, Problem
from napari_dip.core.inputs.noise_level import gaussian_noise_variance
from napari_dip.core.model.codes import blind_spots, perturb
from napari_dip.core.model.networks import NetworkSpec
from napari_dip.core.physics.losses import divergence
from napari_dip.core.physics.operators import Identity
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.presets import PRESETS

TINY_SURE = replace(PRESETS["sure"], network=NetworkSpec(down=(8, 16), up=(8, 16), skip=(2, 2)), iterations=30)
SIGMA = 0.1


def noisy_square(seed: int = 0, side: int = 32) -> tuple[np.ndarray, np.ndarray]:
    clean = np.full((side, side), 0.3, np.float32)
    clean[side // 4:3 * side // 4, side // 4:3 * side // 4] = 0.7
    noisy = clean + np.random.default_rng(seed).normal(0, SIGMA, clean.shape).astype(np.float32)
    return clean, np.clip(noisy, 0, 1)  # a float image in [0, 1] is fitted as it is


def test_blind_spots_put_the_mean_of_the_eight_neighbours_in_held_out_pixels():
    image = np.arange(2 * 4 * 5, dtype=np.float32).reshape(2, 4, 5) ** 1.5
    held = np.zeros((4, 5), bool)
    held[1, 2] = held[0, 0] = True
    masked = blind_spots(image, held)
    np.testing.assert_array_equal(masked[:, ~held], image[:, ~held])
    inner = (image[:, 0:3, 1:4].sum(axis=(1, 2)) - image[:, 1, 2]) / 8
    np.testing.assert_allclose(masked[:, 1, 2], inner, rtol=1e-6)
    corner = image[:, [1, 1, 0, 1, 1, 0, 1, 1], [1, 1, 1, 0, 0, 1, 1, 1]]  # mirrored borders
    np.testing.assert_allclose(masked[:, 0, 0], corner.mean(axis=1), rtol=1e-6)
    assert blind_spots(image, None) is image


def test_a_random_code_noise_level_changes_from_call_to_call_within_its_bound():
    code = torch.zeros(1, 1, 64, 64)
    generator = torch.Generator().manual_seed(0)
    stds = [float(perturb(code, 0.2, generator, random_std=True).std()) for _ in range(20)]
    assert max(stds) <= 0.2 * 1.05 and max(stds) - min(stds) > 0.05
    fixed = [float(perturb(code, 0.2, generator).std()) for _ in range(5)]
    assert max(fixed) - min(fixed) < 0.02


class Scale(torch.nn.Module):
    """f(x) = a * x: its divergence is a per pixel."""

    def __init__(self, a: float):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(a))

    def forward(self, x):
        return self.a * x


def sure_fit(a: float, noisy: torch.Tensor, sigma: float = SIGMA) -> Fit:
    problem = Problem(Scale(a), noisy, Identity(), noisy)
    return Fit(problem, FitConfig(iterations=1, sure_sigma=sigma))


def probed_divergence(fit: Fit, code: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """The fit's divergence estimate at ``code``, with the step and probe stream of its iterations."""
    step = fit.config.sure_sigma / 2
    probe = torch.randn(code.shape, generator=fit._noise)
    return divergence(output, fit.network(code + step * probe), probe, step)


@pytest.mark.parametrize("a", [0.0, 0.5, 1.0])
def test_the_divergence_of_a_linear_network_is_its_slope(a):
    noisy = torch.rand(1, 3, 64, 64)
    fit = sure_fit(a, noisy)
    estimate = probed_divergence(fit, noisy, fit.network(noisy))
    assert estimate.shape == (1,)
    assert float(estimate) == pytest.approx(a, abs=0.03)


def test_the_risk_estimate_of_returning_the_noisy_image_is_the_noise_variance():
    generator = torch.Generator().manual_seed(1)
    clean = torch.rand(1, 3, 96, 96, generator=generator)
    noisy = clean + SIGMA * torch.randn(clean.shape, generator=generator)
    fit = sure_fit(1.0, noisy)
    output = fit.network(noisy)
    estimate, recorded = fit._loss(output, probed_divergence(fit, noisy, output))
    assert float(estimate) == pytest.approx(float((output - clean).square().mean()), rel=0.1)  # sigma ** 2
    assert float(recorded) == pytest.approx(0.0, abs=1e-9)  # the history keeps the data term: the squared error
    # The plain squared error says 0 for the same copy of the noise.
    assert float(sure_fit(1.0, noisy, sigma=None)._loss(output)[0]) == pytest.approx(0.0, abs=1e-9)


def test_preset_sure_estimates_the_noise_level_and_fits_the_observation():
    _, noisy = noisy_square()
    run = prepare_denoise(noisy, preset=TINY_SURE)
    estimated = float(np.sqrt(gaussian_noise_variance(noisy[None])))
    assert run.settings["sure_sigma"] == pytest.approx(estimated) and 0.07 < estimated < 0.13
    held = run.fit.held_out[0, 0].cpu().numpy()
    assert 0 < held.mean() < 0.15  # the preset holds 5 % of the pixels out (padding aside)
    code = run.fit.code[0, 0].cpu().numpy()
    known = ~held
    np.testing.assert_allclose(code[known], run.fit.target[0, 0].cpu().numpy()[known])  # the noisy image itself ...
    assert not np.allclose(code[held], run.fit.target[0, 0].cpu().numpy()[held])  # ... but for its blind spots
    given = prepare_denoise(noisy, preset=TINY_SURE, sure_sigma=0.2)
    assert given.settings["sure_sigma"] == 0.2


def test_a_sure_fit_removes_noise_and_stops_where_the_held_out_error_is_lowest():
    clean, noisy = noisy_square(side=48)
    run = prepare_denoise(noisy, preset=replace(TINY_SURE, iterations=400), patience=60, seed=0)
    denoised, result = run.run()

    def psnr(image):
        return -10 * np.log10(np.mean((image - clean) ** 2))

    assert result.history.stop_reason == "auto_stop"
    assert psnr(denoised) > psnr(noisy) + 3
    assert all(loss >= 0 for loss in result.history.losses)  # the data term, not the (signed) estimate


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda x: napari_dip.restore_jpeg(x, preset="sure"), "for denoising images"),
        (lambda x: napari_dip.super_resolve(x, 2, preset="sure"), "for denoising images"),
        (lambda x: napari_dip.inpaint(x, x > 0.8, preset="sure"), "for denoising images"),
        (lambda x: napari_dip.denoise(np.stack([x] * 8), preset="sure", spatial_dims=3), "cannot fit a volume.*preset=.fast."),
        (lambda x: napari_dip.denoise(x, preset="fast", sure_sigma=0.1), "preset='sure'"),
        (lambda x: napari_dip.denoise(x, preset="sure", sure_sigma=0.0), "sure_sigma"),
        (lambda x: napari_dip.denoise(x, preset="sure", root_loss=True), "root_loss"),
    ],
)
def test_sure_refuses_what_it_cannot_fit(call, words):
    _, noisy = noisy_square()
    with pytest.raises(ValueError, match=words):
        call(noisy)
