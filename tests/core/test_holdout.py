"""Held-out pixels: left out of the data term, their error drives the automatic stop (``holdout``)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import napari_dip
from napari_dip.core.fitting.loop import Fit
from napari_dip.core.fitting.stopping import MinimumStopper, VarianceStopper
from napari_dip.core.model.codes import held_out_mask
from napari_dip.core.model.networks import NetworkSpec
from napari_dip.core.tasks.prepare import prepare_denoise, prepare_super_resolution
from napari_dip.core.tasks.presets import Preset

TINY = Preset(NetworkSpec(down=(8, 16), up=(8, 16), skip=(2, 2)), code_channels=4, iterations=40)


def noisy_image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((24, 24)).astype(np.float32)


def test_the_held_out_pixels_are_not_fitted():
    image = noisy_image()
    held = held_out_mask(image.shape, 0.2, seed=0)
    changed = image.copy()
    changed[held] = 1 - changed[held]  # differs from the image on held-out pixels only
    a, b = (prepare_denoise(x, preset=TINY, holdout=0.2, auto_stop=True).run()[1] for x in (image, changed))
    np.testing.assert_array_equal(a.image, b.image)  # (40 iterations: no stop before iteration 100)
    c = prepare_denoise(changed, preset=TINY, auto_stop=True).run()[1]  # without a hold-out they count
    assert not np.array_equal(a.image, c.image)


def test_a_fit_without_automatic_stop_holds_no_pixel_out():
    image = noisy_image()
    running_on = prepare_denoise(image, preset=TINY, holdout=0.2, auto_stop=False)
    assert running_on.fit.held_out is None and running_on.settings["holdout"] == 0.2
    plain = prepare_denoise(image, preset=TINY, auto_stop=False)
    np.testing.assert_array_equal(running_on.run()[1].image, plain.run()[1].image)


def test_the_stop_keeps_the_image_at_the_minimum_of_the_held_out_error(monkeypatch):
    scores = []
    error = Fit.held_out_error

    def recorded(self, image):
        scores.append((self.history.stop_iteration, error(self, image)))
        return scores[-1][1]

    monkeypatch.setattr(Fit, "held_out_error", recorded)
    run = prepare_denoise(noisy_image(), preset=replace(TINY, iterations=400, lr=0.05), holdout=0.1, auto_stop=True,
                          patience=40)
    result = run.run()[1]
    assert isinstance(run.fit._auto.stopper, MinimumStopper) and not isinstance(run.fit._auto.stopper, VarianceStopper)
    counted = [(score, i) for i, score in scores if i >= run.fit._auto.stopper.warmup]
    assert run.fit.auto_stop_iteration == min(counted)[1]
    assert result.history.stop_reason == "auto_stop"
    assert result.history.stop_iteration == run.fit.auto_stop_iteration + 40
    np.testing.assert_array_equal(result.image, run.fit._auto.stopper.best_image.numpy())


def test_without_a_hold_out_the_stop_follows_the_outputs_variance():
    run = prepare_denoise(noisy_image(), preset=TINY, auto_stop=True)
    assert isinstance(run.fit._auto.stopper, VarianceStopper) and run.fit.held_out is None


def test_the_mask_holds_out_the_fraction_asked_for_and_follows_the_seed():
    mask = held_out_mask((200, 200), 0.05, seed=1)
    assert mask.dtype == bool and abs(mask.mean() - 0.05) < 0.005
    np.testing.assert_array_equal(mask, held_out_mask((200, 200), 0.05, seed=1))
    assert not np.array_equal(mask, held_out_mask((200, 200), 0.05, seed=2))


def test_a_held_out_pixel_is_held_out_in_the_padding_too():
    run = prepare_denoise(noisy_image()[:20, :20], preset=TINY, holdout=0.2, auto_stop=True)  # padded to 24 x 24
    held = run.fit.held_out[0, 0].numpy()
    inner = held[run.fit.problem.crop]
    np.testing.assert_array_equal(inner, held_out_mask((20, 20), 0.2, seed=0))
    np.testing.assert_array_equal(held, np.pad(inner, [(s.start, held.shape[k] - s.stop) for k, s in
                                                       enumerate(run.fit.problem.crop)], mode="symmetric"))


@pytest.mark.parametrize("holdout", [-0.1, 0.6, "5%", float("nan")])
def test_a_bad_holdout_is_refused_by_name(holdout):
    with pytest.raises(ValueError, match="holdout"):
        napari_dip.denoise(noisy_image(), preset=TINY, holdout=holdout)


def test_super_resolution_holds_low_resolution_pixels_out():
    image = noisy_image()
    held = held_out_mask(image.shape, 0.2, seed=0)
    changed = image.copy()
    changed[held] = 1 - changed[held]  # differs from the low-resolution image on held-out pixels only
    a, b = (prepare_super_resolution(x, factor=2, preset=TINY, holdout=0.2, auto_stop=True) for x in (image, changed))
    assert a.fit.held_out.shape[-2:] == a.fit.target.shape[-2:]  # pixels of the observation, not of the output
    np.testing.assert_array_equal(a.run()[1].image, b.run()[1].image)
    c = prepare_super_resolution(changed, factor=2, preset=TINY, auto_stop=True).run()[1]
    assert not np.array_equal(a.fit.result().image, c.image)  # without a hold-out they count


def test_the_held_out_error_of_super_resolution_is_taken_on_the_held_out_pixels_alone():
    run = prepare_super_resolution(noisy_image(), factor=2, preset=TINY, holdout=0.2, auto_stop=True)
    fit = run.fit
    output = fit.network(fit.code).detach()
    low = fit.data_term(output)
    exact = fit.data_term(output)  # an observation this output matches on the held-out pixels, not elsewhere
    fit.target = torch.where(fit.held_out, low, low + 0.5)
    assert fit.held_out_error(output) == 0.0
    fit.target = torch.where(fit.held_out, exact + 0.5, exact)
    assert fit.held_out_error(output) > 0.0
    assert fit._loss(output)[0].item() == pytest.approx(0.0, abs=1e-12)  # held-out pixels count as fitted


@pytest.mark.parametrize("holdout", [0.1, 0.0])  # the held-out error's minimum, and the outputs' variance's
def test_a_fit_that_ends_before_its_patience_runs_out_returns_the_stop_s_choice(holdout):
    run = prepare_denoise(noisy_image(), preset=replace(TINY, iterations=300, lr=0.05), holdout=holdout,
                          auto_stop=True, patience=1000, variance_alpha=0.05)
    result = run.run()[1]
    assert result.history.stop_reason == "completed"
    chosen = run.fit.auto_stop_iteration
    assert chosen is not None and chosen < 300
    np.testing.assert_array_equal(result.image, run.fit._auto.stopper.best_image.numpy())
    assert not np.array_equal(result.image, result.ema)  # the EMA moved on after the chosen iteration
