"""Bad input through the Python API: every case is refused up front with a message naming the parameter.

One row per case: (call, regex the message must match). The regexes name the
parameter (``iterations=5.0``) and what it accepts, so a vague message fails.
Command-line cases live in tests/cli/test_bad_options.py, widget cases in
tests/widgets/test_inputs_and_errors.py.
"""

import numpy as np
import pytest
import torch

import napari_dip
from napari_dip.core.fitting import loop as fit_module

IMAGE = np.random.default_rng(0).random((32, 32)).astype(np.float32)
MASK = IMAGE > 0.5
TINY = dict(preset="fast", iterations=2, device="cpu")


class Probe(torch.nn.Module):
    """A tiny feature extractor for the feature-inversion calls."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(x)


CASES = [
    # images, masks and layouts
    (lambda: napari_dip.inpaint(IMAGE, np.zeros((16, 16), bool)), r"mask has shape \(16, 16\).*image's size"),
    (lambda: napari_dip.denoise(np.zeros((0, 5))), "empty.*pass an image"),
    (lambda: napari_dip.denoise(np.where(IMAGE > 0.5, np.nan, IMAGE)), "NaN or Inf.*replace them"),
    (lambda: napari_dip.denoise(np.where(IMAGE > 0.5, np.inf, IMAGE)), "NaN or Inf"),
    (lambda: napari_dip.inpaint(IMAGE, np.ones((32, 32), bool)), "covers every pixel.*leave some"),
    (lambda: napari_dip.inpaint(IMAGE, np.zeros((32, 32), bool)), "mask is empty"),
    (lambda: napari_dip.inpaint(IMAGE, MASK, region="box", **TINY), r"region='box'.*mask, whole"),
    (lambda: napari_dip.denoise(IMAGE, channel_axis=2), "channel_axis=2 does not exist"),
    (lambda: napari_dip.denoise(np.zeros((8, 8, 5)), channel_axis=5), "channel_axis=5 does not exist"),
    (lambda: napari_dip.denoise(np.zeros((8, 8, 5))), "pass channel_axis"),
    (lambda: napari_dip.denoise(np.zeros((8, 32, 4))), r"\(8, 32, 4\).*channel_axis=-1"),
    (lambda: napari_dip.denoise(np.zeros((32, 6, 3))), r"\(32, 6, 3\).*channel_axis"),
    (lambda: napari_dip.denoise(IMAGE, channel_axis=1.5), r"channel_axis=1\.5.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, reference=np.zeros((8, 8))), "reference has shape"),
    (lambda: napari_dip.flash_no_flash(IMAGE, IMAGE[:16]), "aligned pair"),
    # the task's choices
    (lambda: napari_dip.super_resolve(IMAGE, 1), "factor=1.*at least 2"),
    (lambda: napari_dip.super_resolve(IMAGE, 0), "factor=0.*at least 2"),
    (lambda: napari_dip.super_resolve(IMAGE, -4), "factor=-4.*at least 2"),
    (lambda: napari_dip.super_resolve(IMAGE, 2.0), r"factor=2\.0.*whole number"),
    (lambda: napari_dip.super_resolve(IMAGE, "4"), "factor='4'.*whole number"),
    (lambda: napari_dip.inpaint(IMAGE, MASK, kind="blob"), "kind='blob'.*text, hole, sparse"),
    (lambda: napari_dip.inpaint(IMAGE, MASK, kind=None), "kind=None.*text, hole, sparse"),
    (lambda: napari_dip.denoise(IMAGE, device="tpu"), "Unknown device"),
    (lambda: napari_dip.denoise(IMAGE, device=3), "device=3.*auto"),
    (lambda: napari_dip.denoise(IMAGE, preset="slow"), "Unknown preset 'slow'.*paper.*fast"),
    (lambda: napari_dip.denoise(IMAGE, preset=5), "preset=5.*paper.*fast"),
    (lambda: napari_dip.denoise(IMAGE, iterations=5, learning_rate=1), "Unknown option.*learning_rate"),
    # numbers of the fit
    (lambda: napari_dip.denoise(IMAGE, iterations=0), "iterations=0.*at least 1"),
    (lambda: napari_dip.denoise(IMAGE, iterations=-3), "iterations=-3.*at least 1"),
    (lambda: napari_dip.denoise(IMAGE, iterations=5.0), r"iterations=5\.0.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, iterations=2.5), r"iterations=2\.5.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, iterations="5"), "iterations='5'.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, iterations=True), "iterations=True.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, lr=0), "lr=0.*positive"),
    (lambda: napari_dip.denoise(IMAGE, lr=-1.0), "lr=-1.0.*positive"),
    (lambda: napari_dip.denoise(IMAGE, lr=float("inf")), "lr=inf.*finite"),
    (lambda: napari_dip.denoise(IMAGE, lr=float("nan")), "lr=nan.*finite"),
    (lambda: napari_dip.denoise(IMAGE, lr="0.01"), "lr='0.01'.*number"),
    (lambda: napari_dip.denoise(IMAGE, ema=1.0), r"ema=1\.0.*\[0, 1\)"),
    (lambda: napari_dip.denoise(IMAGE, ema=-0.1), r"ema=-0\.1.*\[0, 1\)"),
    (lambda: napari_dip.denoise(IMAGE, code_noise_std=-0.1), r"code_noise_std=-0\.1.*0 or more"),
    (lambda: napari_dip.denoise(IMAGE, code_noise_std=float("inf")), "code_noise_std=inf.*finite"),
    (lambda: napari_dip.denoise(IMAGE, check_every=0), "check_every=0.*at least 1"),
    (lambda: napari_dip.denoise(IMAGE, preview_every=2.5), r"preview_every=2\.5.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, patience=0), "patience=0.*at least 1"),
    (lambda: napari_dip.denoise(IMAGE, backtrack_ratio=0.5), r"backtrack_ratio=0\.5.*above 1"),
    (lambda: napari_dip.denoise(IMAGE, variance_alpha=0), r"variance_alpha=0.*\(0, 1\]"),
    (lambda: napari_dip.denoise(IMAGE, variance_alpha=2.0), r"variance_alpha=2\.0.*\(0, 1\]"),
    (lambda: napari_dip.denoise(IMAGE, optimize="all"), "optimize='all'.*net, code, both"),
    (lambda: napari_dip.denoise(IMAGE, precision="fp8"), "precision='fp8'.*float32"),
    (lambda: napari_dip.denoise(IMAGE, tv_weight=-0.01), r"tv_weight=-0\.01.*0 or more"),
    (lambda: napari_dip.denoise(IMAGE, tv_weight=float("nan")), "tv_weight=nan.*finite"),
    (lambda: napari_dip.denoise(IMAGE, tv_weight="0.01"), "tv_weight='0.01'.*number"),
    (lambda: napari_dip.denoise(IMAGE, use_ema="yes"), "use_ema='yes'.*True or False"),
    (lambda: napari_dip.denoise(IMAGE, auto_stop=1), "auto_stop=1.*True or False"),
    (lambda: napari_dip.denoise(IMAGE, backtrack=None), "backtrack=None.*True or False"),
    # seeds, runs and callbacks
    (lambda: napari_dip.denoise(IMAGE, seed=1.5), r"seed=1\.5.*whole number.*None"),
    (lambda: napari_dip.denoise(IMAGE, seed=2**70), r"seed=1180591620717411303424.*2\*\*63"),
    (lambda: napari_dip.denoise(IMAGE, seed=-1), "seed=-1.*from 0 to 2"),
    (lambda: napari_dip.denoise(IMAGE, seed="0"), "seed='0'.*whole number"),
    (lambda: napari_dip.restore_jpeg(IMAGE, seed=0.5), r"seed=0\.5"),
    (lambda: napari_dip.denoise(IMAGE, runs=0), "runs=0.*at least 1"),
    (lambda: napari_dip.denoise(IMAGE, runs=2.5), r"runs=2\.5.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, runs="2"), "runs='2'.*whole number"),
    (lambda: napari_dip.denoise(IMAGE, callback=5), "callback=5.*function"),
    (lambda: napari_dip.inpaint(IMAGE, MASK, callback="print"), "callback='print'.*function"),
    (lambda: napari_dip.enhance(IMAGE, return_history="yes"), "return_history='yes'.*True or False"),
    # diagnostics and feature visualisation
    (lambda: napari_dip.prior_samples((16, 16), n=0), "n=0.*at least 1"),
    (lambda: napari_dip.prior_samples((16, 16), n=2.5), r"n=2\.5.*whole number"),
    (lambda: napari_dip.prior_samples((16, 16, 0)), r"shape=\(16, 16, 0\).*channels"),
    (lambda: napari_dip.prior_samples((2, 16)), r"shape=\(2, 16\).*4"),
    (lambda: napari_dip.prior_samples((16.5, 16)), r"shape=\(16\.5, 16\).*whole numbers"),
    (lambda: napari_dip.prior_samples((16, 16), architecture="vgg"), "architecture='vgg'.*skip"),
    (lambda: napari_dip.prior_samples((16, 16), seed=-2), "seed=-2"),
    (lambda: napari_dip.noise_impedance(IMAGE, iterations=0), "iterations=0.*at least 1"),
    (lambda: napari_dip.noise_impedance(IMAGE, 4, noise_std=-0.1), r"noise_std=-0\.1.*0 or more"),
    (lambda: napari_dip.noise_impedance(IMAGE, 4, noise_std=float("nan")), "noise_std=nan.*finite"),
    (lambda: napari_dip.noise_impedance(IMAGE, 4, callback=3), "callback=3.*function"),
    (lambda: napari_dip.maximize_activation(Probe(), 1.5, (3, 32, 32), **TINY), r"unit=1\.5.*whole number"),
    (lambda: napari_dip.maximize_activation(Probe(), -1, (3, 32, 32), **TINY), "unit=-1.*at least 0"),
    (lambda: napari_dip.maximize_activation(Probe(), 0, (3, 0, 32), **TINY), r"shape=\(3, 0, 32\)"),
    (lambda: napari_dip.maximize_activation(Probe(), 0, (3, 32, 32), lr=float("inf"), **{
        k: v for k, v in TINY.items() if k != "lr"}), "lr=inf.*finite"),
    (lambda: napari_dip.invert_features(IMAGE, Probe(), "nope"), "no layer 'nope'"),
    (lambda: napari_dip.invert_features(np.zeros((32, 32, 3)), Probe(), seed=1.5, **TINY), r"seed=1\.5"),
]


@pytest.mark.parametrize("call, message", CASES)
def test_bad_input_names_the_parameter_and_what_it_accepts(call, message, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("a fit started before the bad input was refused")

    monkeypatch.setattr(fit_module.Fit, "steps", no_work)
    with pytest.raises(ValueError, match=message):
        call()


def test_the_matrix_covers_at_least_60_cases():
    assert len(CASES) >= 60


def test_inputs_are_never_changed(monkeypatch):
    monkeypatch.setattr(fit_module.Fit, "steps", lambda self: iter(()))
    image, mask = IMAGE.copy(), MASK.copy()
    for call, _ in CASES:
        try:
            call()
        except Exception:  # noqa: BLE001 - only the inputs matter here
            pass
    np.testing.assert_array_equal(image, IMAGE)
    np.testing.assert_array_equal(mask, MASK)


def test_too_large_for_the_device_is_refused_before_fitting():
    with pytest.raises(ValueError, match="GiB.*fast"):
        napari_dip.denoise(np.zeros((4000, 4000), np.uint8), preset="paper", tile=None)
