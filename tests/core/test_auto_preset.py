"""``preset="auto"``, the default: Stein's risk estimate where it holds, the fast preset everywhere else."""

import warnings

import numpy as np
import pytest

from napari_dip.core.extras.synthetic import fluorescence_image
from napari_dip.core.tasks.prepare import prepare_denoise, prepare_jpeg
from napari_dip.core.tasks.preset_choice import denoise_choice
from napari_dip.core.tasks.settings import replay_keywords
from napari_dip.core.tasks.stacks import restore_stack


def gaussian_photo(bright: float = 0.7, side: int = 32, sigma: float = 0.08) -> np.ndarray:
    """Two halves (0.3 and ``bright``) with white Gaussian noise, clipped to [0, 1] (channels last, RGB)."""
    clean = np.full((side, side, 3), 0.3, np.float32)
    clean[:, side // 2:] = bright
    noisy = clean + np.random.default_rng(0).normal(0, sigma, clean.shape).astype(np.float32)
    return np.clip(noisy, 0, 1)


def test_the_default_denoises_an_unclipped_gaussian_image_with_steins_estimate_and_records_why():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the choice passed sure's checks: nothing to warn about
        run = prepare_denoise(gaussian_photo(), channel_axis=-1, iterations=2)
    assert run.settings["preset"] == "sure" and run.settings["sure_sigma"] > 0
    assert run.settings["auto_preset"] == "unclipped 2D image, even noise"
    assert run.settings["holdout"] == pytest.approx(0.05)  # sure's blind spots, for its stop
    replay = replay_keywords(run.settings)
    assert replay["preset"] == "sure" and "auto_preset" not in replay


@pytest.mark.parametrize("image, options, reason", [
    (gaussian_photo(bright=0.97), {}, "of the values clipped"),
    (fluorescence_image((96, 96), photons=50)[0].astype(np.float32), {"channel_axis": None},
     "stronger in the bright parts"),
    (fluorescence_image((96, 96), photons=10)[0], {"channel_axis": None}, "16-bit camera data"),
    (fluorescence_image((96, 96), photons=50)[0], {"channel_axis": None, "noise": "poisson"}, "poisson noise"),
    (gaussian_photo(), {"holdout": 0.02}, "holdout is set"),
    (gaussian_photo(), {"stop_loss": "auto"}, "stop_loss is set"),
    (gaussian_photo(), {"auto_stop": False}, "no automatic stop"),
])
def test_the_default_keeps_the_fast_preset_where_steins_estimate_misleads_or_a_fast_option_is_given(
        image, options, reason):
    options = {"channel_axis": -1, **options}
    run = prepare_denoise(image, iterations=2, **options)
    assert run.settings["preset"] == "fast"
    assert reason in run.settings["auto_preset"]


def test_the_default_fits_a_volume_with_the_fast_preset():
    volume = np.random.default_rng(0).normal(0.5, 0.05, (8, 16, 16)).astype(np.float32)
    assert denoise_choice(volume[None], spatial_dims=3) == ("fast", "a volume")
    run = prepare_denoise(volume, spatial_dims=3, iterations=2)
    assert run.settings["preset"] == "fast" and run.settings["auto_preset"] == "a volume"


def test_a_given_noise_level_asks_for_steins_estimate_even_on_a_clipped_image():
    image = np.moveaxis(gaussian_photo(bright=0.97), -1, 0)
    assert denoise_choice(image)[0] == "fast"
    assert denoise_choice(image, options={"sure_sigma": 0.08})[0] == "sure"


def test_other_tasks_record_the_fast_preset_the_default_stands_for():
    run = prepare_jpeg(gaussian_photo(), channel_axis=-1, iterations=2)
    assert run.settings["preset"] == "fast" and "auto_preset" not in run.settings


def test_a_warm_started_stack_gives_every_slice_the_fast_preset():
    stack = np.stack([gaussian_photo()[..., 0]] * 2)  # slices "auto" alone would fit with preset="sure"
    assert denoise_choice(stack[:1])[0] == "sure"
    presets = []

    def prepare(*args, **kwargs):
        run = prepare_denoise(*args, **kwargs)
        presets.append(run.settings["preset"])
        return run

    restore_stack(prepare, stack, stack_axis=0, iterations=2)
    assert presets == ["fast", "fast"]


def test_small_planes_of_camera_data_are_stopped_on_held_out_pixels():
    from napari_dip.core.tasks.preset_choice import AUTO_HOLDOUT

    counts = fluorescence_image((48, 48), photons=10)[0]
    assert prepare_denoise(counts, iterations=1).settings["holdout"] == AUTO_HOLDOUT
    assert prepare_denoise(counts, iterations=1, holdout=0.0).settings["holdout"] == 0.0  # given: kept
    assert prepare_denoise(counts, iterations=1, preset="fast").settings["holdout"] == 0.0  # named: the preset's
    assert prepare_denoise(counts, iterations=1, noise="poisson").settings["holdout"] == 0.0
    large = fluorescence_image((256, 256), photons=10)[0]  # the outputs' variance did as well there
    assert prepare_denoise(large, iterations=1).settings["holdout"] == 0.0
