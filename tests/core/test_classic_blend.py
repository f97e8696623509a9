"""denoise(classic="bm3d"): the DIP share from the held-out pixels, the average, what is refused and recorded.

The average's logic is checked with a stand-in for BM3D (a Gaussian filter), so
the tests do not depend on the optional package; one test runs the real BM3D
where it is installed.
"""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

import napari_dip
from napari_dip.core.extras import classic_blend
from napari_dip.core.extras.classic_blend import MARGIN, SHRINK, ClassicBlend, held_out_share
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.preset_choice import choose_preset
from napari_dip.core.tasks.settings import replay_keywords

TINY = {"iterations": 6, "device": "cpu", "seed": 0}


def _noisy(size: int = 32, channels: int = 1, seed: int = 0) -> np.ndarray:
    y, x = np.mgrid[:size, :size] / size
    clean = 0.5 + 0.3 * np.sin(6 * x) * np.cos(4 * y)
    noisy = clean + np.random.default_rng(seed).normal(0, 0.08, (size, size))
    image = np.clip(noisy, 0, 1).astype(np.float32)
    return image if channels == 1 else np.stack([image] * channels, axis=-1)


@pytest.fixture
def stand_in(monkeypatch):
    """BM3D replaced by a Gaussian filter per channel; every call's input recorded."""
    calls = []

    def smooth(chw, sigma):
        calls.append(np.array(chw))
        return np.stack([gaussian_filter(channel, 1.0) for channel in chw]).astype(np.float32)

    monkeypatch.setattr(classic_blend, "bm3d_available", lambda: True)
    monkeypatch.setattr(classic_blend, "bm3d_denoise", smooth)
    return calls


def test_share_is_the_least_squares_weight_on_held_out_pixels():
    rng = np.random.default_rng(0)
    dip, classic = rng.random((1, 16, 16)), rng.random((1, 16, 16))
    held = rng.random((16, 16)) < 0.3
    target = 0.3 * dip + 0.7 * classic
    target[0, ~held] = 5.0  # pixels that are not held out do not count
    assert held_out_share(dip, classic, target, held) == pytest.approx(0.3)
    assert held_out_share(classic, classic, target, held) == 0.0  # nothing to tell them apart
    assert held_out_share(dip, classic, 2 * dip - classic, held) == 1.0  # clipped to [0, 1]


def test_margin_lowers_the_share_by_its_standard_errors():
    rng = np.random.default_rng(1)
    dip, classic = rng.random((1, 32, 32)), rng.random((1, 32, 32))
    held = np.ones((32, 32), bool)
    target = 0.5 * dip + 0.5 * classic + rng.normal(0, 0.2, (1, 32, 32))
    plain = held_out_share(dip, classic, target, held)
    bounded = held_out_share(dip, classic, target, held, margin=2.0)
    assert 0 < bounded < plain


def test_average_takes_the_classic_estimate_on_held_out_pixels(stand_in):
    rng = np.random.default_rng(2)
    target = rng.random((3, 24, 24)).astype(np.float32)
    held = rng.random((24, 24)) < 0.1
    dip = gaussian_filter(target, (0, 0.5, 0.5)).astype(np.float32)
    average = ClassicBlend(target, held, sigma=0.1)
    mixed = average.blend(dip)
    full = classic_blend.bm3d_denoise(target, 0.1)
    w = average.shares[-1]
    assert 0 <= w <= SHRINK
    np.testing.assert_allclose(mixed[:, held], full[:, held])
    np.testing.assert_allclose(mixed[:, ~held], (w * dip + (1 - w) * full)[:, ~held], rtol=1e-5, atol=1e-6)
    # the second estimate is of the network's input: no held-out pixel's own value reaches it
    blind = stand_in[1]
    assert not np.allclose(blind[:, held], target[:, held])
    assert average.settings()["classic_share"] == round(w, 4)


def test_share_follows_the_better_estimate(stand_in):
    """A DIP image equal to the clean picture gets a larger share than one equal to the noisy image."""
    size = 48
    y, x = np.mgrid[:size, :size] / size
    clean = (0.5 + 0.3 * np.sin(9 * x) * np.cos(7 * y))[None].astype(np.float32)
    target = (clean + np.random.default_rng(3).normal(0, 0.1, clean.shape)).astype(np.float32)
    held = np.random.default_rng(4).random((size, size)) < 0.1
    good = ClassicBlend(target, held, 0.1).share(clean)
    poor = ClassicBlend(target, held, 0.1).share(np.where(held, 0.5, target).astype(np.float32))
    assert good > poor
    assert good <= SHRINK and MARGIN > 0


def test_denoise_records_the_average(stand_in):
    task = prepare_denoise(_noisy(channels=3), channel_axis=-1, classic="bm3d", **TINY)
    assert task.settings["preset"] == "sure" and task.settings["classic"] == "bm3d"
    assert "auto_preset" in task.settings and "classic" in task.settings["auto_preset"]
    out, result = task.run()
    assert out.shape == (32, 32, 3) and out.dtype == np.float32
    assert 0.0 <= task.settings["classic_share"] <= SHRINK
    assert task.settings["classic_sigma"] > 0
    replayed = replay_keywords(task.settings)
    assert replayed["classic"] == "bm3d" and "classic_share" not in replayed
    # held-out pixels come from the classic estimate alone
    full = classic_blend.bm3d_denoise(np.moveaxis(_noisy(channels=3), -1, 0), 0.1)
    np.testing.assert_allclose(np.moveaxis(out, -1, 0)[:, task.held_out], full[:, task.held_out], atol=1e-5)


def test_stack_slices_share_the_sure_network(stand_in):
    assert choose_preset("denoise", "auto", stack=True, options={"classic": "bm3d"}).name == "sure"
    assert choose_preset("denoise", "auto", stack=True).name == "fast"
    stack = np.stack([_noisy(seed=s) for s in range(2)])
    out = napari_dip.denoise(stack, stack_axis=0, classic="bm3d", **TINY)
    assert out.shape == stack.shape


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"classic": "nlm"}, r"classic='nlm'.*'bm3d'"),
    ({"classic": "bm3d", "preset": "fast"}, r"preset='sure'.*not preset='fast'"),
    ({"classic": "bm3d", "holdout": 0.0}, r"held-out pixels.*holdout above 0"),
    ({"classic": "bm3d", "auto_stop": False}, r"held-out pixels.*auto_stop=True"),
])
def test_an_average_the_fit_cannot_make_is_refused(stand_in, kwargs, message):
    with pytest.raises(ValueError, match=message):
        napari_dip.denoise(_noisy(), **{**TINY, **kwargs})


def _photon_plane(size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A float photon-limited plane (gain 1, read noise 2, offset 100; about 5 to 40 photons) and its clean plane."""
    y, x = np.mgrid[:size, :size] / size
    photons = 5 + 35 * (0.5 + 0.5 * np.sin(6 * x) * np.cos(4 * y))
    rng = np.random.default_rng(5)
    noisy = rng.poisson(photons) + rng.normal(100, 2, photons.shape)
    return noisy.astype(np.float32), (photons + 100).astype(np.float32)


PHOTON_NOISE = {"noise": "poisson", "gain": 1.0, "read_noise": 2.0, "offset": 100.0}


def test_photon_noise_is_averaged_on_the_anscombe_transform(stand_in):
    from napari_dip.core.physics.noise import AnscombeUnits, PhotonNoise

    noisy, clean = _photon_plane()
    task = prepare_denoise(noisy, classic="bm3d", reference=clean, **PHOTON_NOISE, **TINY)
    out, result = task.run()
    settings = task.settings
    assert settings["preset"] == "sure" and settings["noise"] == "poisson" and settings["classic"] == "bm3d"
    low, span = float(noisy.min()), float(noisy.max() - noisy.min())
    model = PhotonNoise(np.array([1.0]), np.array([2.0]), np.array([100.0]))
    units = AnscombeUnits.of((noisy[None] - low) / span, np.array([low]), np.array([span]), model)
    # the fit and BM3D see the transform, whose noise is 1 / scale: BM3D is told that level
    np.testing.assert_allclose(stand_in[0], units.forward((noisy[None] - low) / span), atol=1e-5)
    assert settings["sure_sigma"] == pytest.approx(units.sigma) and settings["classic_sigma"] == pytest.approx(
        units.sigma, abs=1e-6)
    assert settings["anscombe_scale"] == pytest.approx(units.scale, abs=1e-5)
    # held-out pixels: BM3D's estimate of the transform, brought back through the inverse, in intensities
    back = units.inverse(classic_blend.bm3d_denoise(units.forward((noisy[None] - low) / span), units.sigma))
    np.testing.assert_allclose(out[task.held_out], (back[0] * span + low)[task.held_out], rtol=1e-5)
    # previews are intensities too, and the live PSNR compares the reference in the fit's units
    preview = task.to_image(result.image)
    assert abs(float(preview.mean()) - float(noisy.mean())) < 0.05 * span
    assert np.isfinite(result.history.psnr).all() and len(result.history.psnr) > 0
    replayed = napari_dip.denoise(noisy, **replay_keywords(settings))
    np.testing.assert_array_equal(replayed, out)


def test_the_anscombe_units_come_back_through_the_inverse():
    from napari_dip.core.physics.noise import AnscombeUnits, PhotonNoise

    noisy, clean = _photon_plane()
    low, span = float(noisy.min()), float(noisy.max() - noisy.min())
    model = PhotonNoise(np.array([1.0]), np.array([2.0]), np.array([100.0]))
    units = AnscombeUnits.of((noisy[None] - low) / span, np.array([low]), np.array([span]), model)
    fitted = units.forward((noisy[None] - low) / span)
    assert fitted.min() == pytest.approx(0.0, abs=1e-6) and fitted.max() == pytest.approx(1.0, abs=1e-6)
    smooth = units.forward((clean[None] - low) / span)  # a noise-free transform comes back to the clean plane
    np.testing.assert_allclose(units.inverse(smooth) * span + low, clean[None], rtol=0.01)


def test_photon_noise_without_an_average_keeps_the_likelihood():
    task = prepare_denoise(_photon_plane()[0], **PHOTON_NOISE, **TINY)
    assert task.settings["preset"] == "fast" and task.units is None and "anscombe_scale" not in task.settings
    sure = prepare_denoise(_photon_plane()[0], preset="sure", **PHOTON_NOISE, **TINY)  # Stein's estimate needs
    assert sure.units is not None and "classic" not in sure.settings  # the Anscombe transform, averaged or not


def test_a_volume_is_refused(stand_in):
    with pytest.raises(ValueError, match="2D fit"):
        napari_dip.denoise(np.stack([_noisy()] * 4), spatial_dims=3, classic="bm3d", **TINY)


def test_missing_bm3d_is_explained(monkeypatch):
    monkeypatch.setattr(classic_blend, "bm3d_available", lambda: False)
    with pytest.raises(ValueError, match="pip install bm3d"):
        napari_dip.denoise(_noisy(), classic="bm3d", **TINY)


def test_with_the_real_bm3d():
    pytest.importorskip("bm3d")
    noisy = _noisy(channels=3)
    task = prepare_denoise(noisy, channel_axis=-1, classic="bm3d", **TINY)
    out, _ = task.run()
    assert np.isfinite(out).all() and 0.0 <= task.settings["classic_share"] <= SHRINK


def test_the_note_says_when_the_classic_method_did_better():
    from napari_dip.core.extras.classic_blend import MOSTLY_CLASSIC, share_note

    assert share_note({"preset": "sure"}) == ""
    low = share_note({"classic": "bm3d", "classic_share": MOSTLY_CLASSIC / 2})
    assert "DIP share 0.12" in low and "bm3d did better than the DIP fit" in low
    high = share_note({"classic": "bm3d", "classic_share": 0.5})
    assert high == "averaged with bm3d (DIP share 0.50)"
