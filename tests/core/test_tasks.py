import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio as psnr

import napari_dip
from napari_dip.core.tasks.prepare import TASKS, prepare_inpaint
from napari_dip.core.tasks.settings import replay_keywords


def test_import_loads_neither_torch_nor_qt():
    import subprocess
    import sys

    code = "import sys, napari_dip; print(any(m in sys.modules for m in ('torch', 'qtpy', 'PyQt5', 'PyQt6', 'napari')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_denoising_gains_at_least_5_db(camera_crop):
    rng = np.random.default_rng(0)
    clean = camera_crop / 255.0
    noisy = np.clip(clean + rng.normal(0, 25 / 255, clean.shape), 0, 1).astype(np.float32)
    out = napari_dip.denoise(noisy, preset="fast", iterations=400, seed=0)
    gain = psnr(clean, out, data_range=1) - psnr(clean, noisy, data_range=1)
    assert gain >= 5, f"gain {gain:.2f} dB"


def test_super_resolution_beats_nearest_neighbour(camera_crop):
    from skimage.transform import resize

    clean = camera_crop / 255.0
    small = resize(clean, (16, 16), anti_aliasing=True).astype(np.float32)
    out = napari_dip.super_resolve(small, 4, preset="fast", iterations=300)
    assert out.shape == clean.shape
    nearest = np.kron(small, np.ones((4, 4)))
    assert psnr(clean, out, data_range=1) > psnr(clean, nearest, data_range=1)


def test_inpainting_half_the_pixels_beats_the_mean_by_5_db(camera_crop):
    clean = camera_crop / 255.0
    missing = np.random.default_rng(0).random(clean.shape) < 0.5
    damaged = np.where(missing, 0, clean).astype(np.float32)
    out = napari_dip.inpaint(damaged, missing, kind="sparse", preset="fast", iterations=500, lr=0.01)
    mean_fill = np.where(missing, clean[~missing].mean(), clean)
    assert psnr(clean, out, data_range=1) >= psnr(clean, mean_fill, data_range=1) + 5


def test_uint16_in_uint16_out_in_range():
    rng = np.random.default_rng(0)
    image = rng.integers(800, 3000, (37, 53)).astype(np.uint16)
    out = napari_dip.denoise(image, preset="fast", iterations=5)
    assert out.dtype == np.uint16 and out.shape == (37, 53)
    assert out.min() >= image.min() and out.max() <= image.max()


def test_rgb_odd_size_and_factor(astronaut_crop):
    image = astronaut_crop[:37, :45]
    assert napari_dip.restore_jpeg(image, preset="fast", iterations=2).shape == (37, 45, 3)
    assert napari_dip.super_resolve(image, 3, preset="fast", iterations=2).shape == (111, 135, 3)


def test_enhance_returns_coarse_fine_enhanced(camera_crop):
    coarse, fine, enhanced = napari_dip.enhance(camera_crop, preset="fast", iterations=20)
    assert coarse.shape == fine.shape == enhanced.shape == camera_crop.shape
    assert coarse.dtype == enhanced.dtype == np.uint8
    expected = np.clip(camera_crop.astype(float) + fine, 0, 255)
    assert np.abs(enhanced.astype(float) - expected).max() <= 1


def test_flash_no_flash_and_denoise_runs(astronaut_crop):
    flash = astronaut_crop
    no_flash = (astronaut_crop * 0.5).astype(np.uint8)
    assert napari_dip.flash_no_flash(no_flash, flash, preset="fast", iterations=2).shape == flash.shape
    out, history = napari_dip.denoise(no_flash, runs=2, preset="fast", iterations=3, return_history=True)
    assert out.shape == no_flash.shape and history.stop_iteration == 3


@pytest.mark.parametrize("kind", ["text", "hole", "sparse"])
def test_every_inpainting_kind_runs(kind, camera_crop):
    mask = np.zeros(camera_crop.shape, bool)
    mask[20:30, 20:40] = True
    out = napari_dip.inpaint(camera_crop, mask, kind=kind, preset="fast", iterations=2)
    assert out.shape == camera_crop.shape


def test_settings_replay_gives_the_same_result(camera_crop):
    mask = np.zeros(camera_crop.shape, bool)
    mask[::7] = True
    first = prepare_inpaint(camera_crop, mask, kind="hole", preset="fast", iterations=4, seed=5)
    replay = TASKS["inpaint"](camera_crop, mask, **replay_keywords(first.settings))
    np.testing.assert_array_equal(first.run()[0], replay.run()[0])


def test_prior_samples_and_noise_impedance(camera_crop):
    samples = napari_dip.prior_samples((40, 40, 3), architecture="skip", n=2, seed=0, preset="fast")
    assert samples.shape == (2, 40, 40, 3) and not np.array_equal(samples[0], samples[1])
    curves = napari_dip.noise_impedance(camera_crop[:32, :32], iterations=60)
    assert set(curves) == {"image", "image + noise", "shuffled image", "noise"}
    assert all(len(c) == 60 for c in curves.values())
    assert curves["image"][-1] < curves["noise"][-1]


def test_feature_inversion_and_activation_maximisation():
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3))
    image = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)
    out = napari_dip.invert_features(image, net, layer="1", preset="fast", iterations=3)
    assert out.shape == image.shape
    best = napari_dip.maximize_activation(net, unit=1, shape=(3, 64, 64), preset="fast", iterations=3)
    assert best.shape == (64, 64, 3)
    with pytest.raises(ValueError, match="no layer"):
        napari_dip.invert_features(image, net, layer="fc9")


def test_seed_none_draws_a_fresh_seed_and_records_it():
    first = prepare_inpaint(np.zeros((16, 16)), np.eye(16, dtype=bool), preset="fast", iterations=1, seed=None)
    second = prepare_inpaint(np.zeros((16, 16)), np.eye(16, dtype=bool), preset="fast", iterations=1, seed=None)
    assert isinstance(first.settings["seed"], int) and first.settings["seed"] != second.settings["seed"]
    _, history = napari_dip.denoise(np.zeros((16, 16)), preset="fast", iterations=1, seed=None, return_history=True)
    assert isinstance(history.seed, int)


def test_same_seed_and_threads_give_the_same_result():
    image = np.random.default_rng(3).random((16, 16)).astype(np.float32)
    runs = [napari_dip.denoise(image, preset="fast", iterations=4, seed=7, device="cpu") for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_replayed_denoise_settings_estimate_the_noise_of_the_new_image():
    from napari_dip.core.tasks.prepare import prepare_denoise

    rng = np.random.default_rng(0)
    quiet, loud = (np.clip(0.5 + rng.normal(0, sigma, (32, 32)), 0, 1) for sigma in (0.02, 0.2))
    first = prepare_denoise(quiet, iterations=2, device="cpu", stop_loss="auto")
    replay = prepare_denoise(loud, **replay_keywords(first.settings))
    assert replay.fit.config.stop_loss > 10 * first.fit.config.stop_loss
    again = prepare_denoise(quiet, **replay_keywords(first.settings))
    assert again.fit.config.stop_loss == first.fit.config.stop_loss  # the same image gets the same estimate
