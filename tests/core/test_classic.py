"""Classic baselines: each improves or reproduces what it should, keeps dtype and layout; PSNR / SSIM table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from napari_dip.core.extras import classic


def _smooth(shape=(48, 48)):
    y, x = np.mgrid[: shape[0], : shape[1]]
    return 0.5 + 0.3 * np.sin(x / 6.0) * np.cos(y / 8.0)


def _psnr(a, b):
    return -10 * math.log10(float(np.mean((a.astype(float) - b.astype(float)) ** 2)))


@pytest.mark.parametrize("method", classic.methods_for("denoise"))
def test_denoisers_remove_noise_and_keep_dtype(method):
    clean = _smooth()
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.08, clean.shape), 0, 1)
    noisy_u8 = np.rint(noisy * 255).astype(np.uint8)
    out = classic.run_classic(method, noisy_u8)
    assert out.dtype == np.uint8 and out.shape == noisy_u8.shape
    assert _psnr(out / 255, clean) > _psnr(noisy_u8 / 255, clean) + 3


def test_rgb_channels_last_stay_last():
    rgb = np.stack([_smooth() * (0.5 + 0.2 * c) for c in range(3)], axis=-1).astype(np.float32)
    out = classic.run_classic("tv", rgb, channel_axis=2)
    assert out.shape == rgb.shape and out.dtype == np.float32


@pytest.mark.parametrize("method", ["bicubic", "lanczos"])
def test_upscaling_lands_on_the_output_grid(method):
    factor = 2
    fine = _smooth((64, 64))
    # Low-resolution pixel i covers fine pixels 2i, 2i+1: its value is their mean.
    coarse = fine.reshape(32, 2, 32, 2).mean(axis=(1, 3)).astype(np.float32)
    out = classic.run_classic(method, coarse, factor=factor)
    assert out.shape == (64, 64) and out.dtype == np.float32
    shifted = np.roll(out, 1, axis=1)  # one output pixel off: clearly worse
    assert _psnr(out[4:-4, 4:-4], fine[4:-4, 4:-4]) > 40
    assert _psnr(out[4:-4, 4:-4], fine[4:-4, 4:-4]) > _psnr(shifted[4:-4, 4:-4], fine[4:-4, 4:-4]) + 10


def test_biharmonic_fills_the_mask_only():
    image = _smooth().astype(np.float32)
    missing = np.zeros(image.shape, dtype=bool)
    missing[20:26, 10:30] = True
    damaged = image.copy()
    damaged[missing] = 0
    out = classic.run_classic("biharmonic", damaged, missing)
    np.testing.assert_allclose(out[~missing], damaged[~missing], atol=1e-6)
    assert np.abs(out[missing] - image[missing]).max() < 0.05


def test_methods_per_task():
    assert classic.methods_for("super_resolution") == ("bicubic", "lanczos")
    assert classic.methods_for("inpaint") == ("biharmonic",)
    assert classic.methods_for("enhance") == ()
    assert ("bm3d" in classic.methods_for("denoise")) == classic.bm3d_available()


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("median", np.zeros((8, 8))), {}, "Unknown classic method 'median'"),
        (("bicubic", np.zeros((8, 8))), {"factor": 1}, "factor=1"),
        (("biharmonic", np.zeros((8, 8))), {}, "needs the mask"),
        (("biharmonic", np.zeros((8, 8)), np.zeros((4, 4))), {}, "The mask has shape (4, 4)"),
    ],
)
def test_bad_input_is_explained(args, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        classic.run_classic(*args, **kwargs)


def test_missing_bm3d_is_explained(monkeypatch):
    monkeypatch.setattr(classic, "bm3d_available", lambda: False)
    assert "bm3d" not in classic.methods_for("denoise")
    with pytest.raises(ValueError, match="pip install bm3d"):
        classic.run_classic("bm3d", np.zeros((8, 8)))


def test_scores_and_table():
    reference = np.full((16, 16), 0.6, dtype=np.float32)
    reference[0, 0] = 0.0  # a range of [0, 1] for the float image
    reference[1, 1] = 1.0
    off = reference.copy()
    off[2:, :] -= 0.1  # (14*16 pixels) * 0.01 / 256 pixels = mean squared error
    expected = -10 * math.log10(14 * 16 * 0.01 / 256)
    same = classic.score("same", reference, reference)
    worse = classic.score("off", off, reference)
    assert same.psnr == math.inf and same.ssim == pytest.approx(1.0)
    assert worse.psnr == pytest.approx(expected, abs=1e-3) and worse.ssim < 1
    table = classic.score_table([worse, same]).splitlines()
    assert table[2].startswith("| same |") and table[3].startswith(f"| off | {expected:.2f} |")
    with pytest.raises(ValueError, match="reference of the output's size"):
        classic.score("small", reference[:8], reference)


def test_the_classic_denoisers_do_without_pywavelets(monkeypatch, camera_crop):
    """A plain install has no PyWavelets: Compare offers what works without it, and every offered method runs."""
    import sys

    monkeypatch.setitem(sys.modules, "pywt", None)  # importing it now fails, as where it is not installed
    methods = classic.methods_for("denoise")
    assert "wavelet" not in methods and {"nl-means", "tv"} <= set(methods)
    noisy = np.clip(camera_crop + np.random.default_rng(0).normal(0, 20, camera_crop.shape), 0, 255).astype(np.uint8)
    for method in methods:
        out = classic.run_classic(method, noisy)
        assert out.shape == noisy.shape and out.dtype == np.uint8
    with pytest.raises(ValueError, match="needs PyWavelets: pip install PyWavelets"):
        classic.run_classic("wavelet", noisy)


def test_bm3d_of_a_grey_picture_stored_as_rgb():
    """CBM3D's colour transform divides by the chroma's range, which is 0 when the channels are equal."""
    pytest.importorskip("bm3d")
    grey = np.clip(0.5 + np.random.default_rng(0).normal(0, 0.1, (32, 32)), 0, 1)
    rgb = np.stack([grey] * 3, axis=-1).astype(np.float32)
    out = classic.run_classic("bm3d", rgb, channel_axis=-1)
    assert np.isfinite(out).all() and out.std() < rgb.std()


def test_anscombe_bm3d_for_photon_noise():
    pytest.importorskip("bm3d")
    assert "anscombe-bm3d" in classic.methods_for("denoise", noise="poisson")
    assert "anscombe-bm3d" not in classic.methods_for("denoise") + classic.methods_for("jpeg", noise="poisson")
    rng = np.random.default_rng(0)
    photons = 5 + 30 * np.outer(np.hanning(48), np.hanning(48))
    noisy = (rng.poisson(photons) + rng.normal(100, 2, photons.shape)).round().astype(np.uint16)
    out = classic.run_classic("anscombe-bm3d", noisy)
    assert out.shape == noisy.shape and out.dtype == np.uint16
    clean = photons + 100
    assert np.mean((out - clean) ** 2) < 0.5 * np.mean((noisy - clean) ** 2)


def test_anscombe_bm3d_needs_signal_dependent_noise():
    pytest.importorskip("bm3d")
    flat = np.random.default_rng(1).normal(0.5, 0.05, (32, 32)).astype(np.float32)
    with pytest.raises(ValueError, match="noise does not grow with its intensity"):
        classic.run_classic("anscombe-bm3d", flat)
