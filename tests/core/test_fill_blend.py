"""Inpainting's ground-truth-free stop and its average with biharmonic inpainting: the held-out strokes, the
stop on a slowly falling error, the share they choose, and what comes back."""

import numpy as np
import pytest
import torch

from napari_dip.core.extras.fill_blend import FillBlend, biharmonic_fill
from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.fitting.stopping import AutoStop, MinimumStopper
from napari_dip.core.inputs.masks import HOLDOUT_GAP, stroke_holdout
from napari_dip.core.tasks.prepare import prepare_inpaint

TINY = {"device": "cpu", "seed": 0, "iterations": 20}


def _stroke(size: int = 64) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[30:32, 12:52] = True
    return mask


def _picture(size: int = 64) -> np.ndarray:
    y, x = np.mgrid[:size, :size] / size
    return np.stack([0.5 + 0.3 * np.sin(6 * x + c) * np.cos(4 * y) for c in range(3)]).astype(np.float32)


def _stop_at(scores: list[float], min_gain: float, patience: int = 30) -> int | None:
    stopper = MinimumStopper(patience=patience, warmup=0, min_gain=min_gain)
    image = torch.zeros(1)
    for iteration, score in enumerate(scores, start=1):
        if stopper.check(score, image + score, iteration):
            return iteration
    return None


def test_a_slowly_falling_error_stops_only_with_a_minimum_gain():
    scores = [1.0 / (1 + 0.001 * k) for k in range(300)]  # falls by about 0.1 % per step, never flattens
    assert _stop_at(scores, min_gain=0.0) is None  # every step is a new minimum
    stopped = _stop_at(scores, min_gain=0.1)
    assert stopped is not None and stopped < 300


def test_the_stop_keeps_the_lowest_score_not_the_last_that_counted():
    stopper = MinimumStopper(patience=5, warmup=0, min_gain=0.5)
    for iteration, score in enumerate([1.0, 0.9, 0.8, 0.7, 0.65, 0.6, 0.59], start=1):
        stopped = stopper.check(score, torch.tensor([score]), iteration)
    assert stopped and stopper.best_iteration == 7 and float(stopper.best_image) == pytest.approx(0.59)


def test_the_fit_config_gives_the_stop_its_minimum_gain():
    auto = AutoStop(FitConfig(auto_stop=True, holdout=0.05, min_gain=0.2), held_out=True)
    assert auto.stopper.min_gain == 0.2
    with pytest.raises(ValueError, match="min_gain"):
        FitConfig(min_gain=1.5)


def test_held_out_strokes_are_known_pixels_shaped_like_the_mask():
    mask = _stroke()
    held = stroke_holdout(mask, share=0.05)
    assert held.any() and not (held & mask).any()
    from scipy.ndimage import distance_transform_edt

    assert distance_transform_edt(~mask)[held].min() > HOLDOUT_GAP
    rows = set(np.nonzero(held.any(axis=1))[0])
    assert {22, 23, 38, 39} <= rows  # whole copies of the 2-pixel-thick stroke, 8 pixels above and below it
    assert held[22:24, 12:52].all() and held[38:40, 12:52].all()


def test_held_out_strokes_are_capped_at_their_share_of_the_known_pixels():
    mask = np.zeros((64, 64), bool)
    mask[::12] = True  # every twelfth row missing
    held = stroke_holdout(mask, share=0.02)
    assert held.sum() == int(0.02 * (~mask).sum()) and not (held & mask).any()
    assert stroke_holdout(_stroke(), share=0.001).sum() == int(0.001 * (~_stroke()).sum())


def test_held_out_strokes_leave_the_fill_of_the_holes_as_it_was():
    from napari_dip.core.fitting.regions import seamless_paste

    picture, mask = _picture(), _stroke()
    both = mask | stroke_holdout(mask, share=0.05)
    output = np.clip(picture + 0.1 * np.random.default_rng(0).standard_normal(picture.shape), 0, 1).astype(np.float32)
    np.testing.assert_allclose(seamless_paste(picture, output, both)[:, mask],
                               seamless_paste(picture, output, mask)[:, mask], atol=1e-6)
    np.testing.assert_allclose(biharmonic_fill(np.where(both[None], 0, picture), both)[:, mask],
                               biharmonic_fill(picture, mask)[:, mask], atol=1e-6)


def test_the_average_follows_the_fill_that_guesses_the_held_out_pixels_best():
    picture, mask = _picture(), _stroke()
    held = stroke_holdout(mask, share=0.05)
    average = FillBlend()
    exact = average.paste(picture, picture, mask, held)  # a network that fills every pixel exactly
    assert average.shares[-1][0] > 0.9
    np.testing.assert_allclose(exact, picture, atol=0.01)
    wrong = average.paste(picture, np.zeros_like(picture), mask, held)  # one that fills black
    assert average.shares[-1][0] < 0.05
    np.testing.assert_allclose(wrong[:, mask], biharmonic_fill(picture, mask)[:, mask], atol=0.02)
    for result in (exact, wrong):
        assert np.array_equal(result[:, ~mask], picture[:, ~mask])  # held-out pixels included


def test_default_text_inpainting_averages_and_records_it():
    picture, mask = _picture(), _stroke()
    image = np.where(mask[None], 0.0, picture).transpose(1, 2, 0)
    run = prepare_inpaint(image, mask, channel_axis=-1, **TINY)
    assert run.held_out is not None and np.array_equal(run.held_out, stroke_holdout(mask, run.fit.config.holdout))
    output, _ = run.run()
    assert run.settings["classic"] == "biharmonic" and 0.0 <= run.settings["classic_share"] <= 1.0
    assert run.settings["min_gain"] > 0 and run.settings["holdout"] > 0
    assert np.array_equal(output[~mask], image[~mask])
    alone = prepare_inpaint(image, mask, channel_axis=-1, classic=None, **TINY)
    alone.run()
    assert "classic" not in alone.settings and "classic_share" not in alone.settings


def test_default_hole_inpainting_stops_on_held_out_pixels_and_averages():
    picture, mask = _picture(), np.zeros((64, 64), bool)
    mask[24:40, 20:36] = True  # one large hole
    image = np.where(mask[None], 0.0, picture).transpose(1, 2, 0)
    run = prepare_inpaint(image, mask, channel_axis=-1, kind="hole", **TINY)
    assert run.fit.config.auto_stop and run.held_out is not None and not (run.held_out & mask).any()
    output, _ = run.run()
    assert run.settings["classic"] == "biharmonic" and 0.0 <= run.settings["classic_share"] <= 1.0
    assert run.settings["min_gain"] > 0 and run.settings["holdout"] > 0 and run.settings["patience"] == 300
    assert np.array_equal(output[~mask], image[~mask])


def test_a_classic_fill_that_cannot_be_made_is_refused_by_name():
    picture, mask = _picture(), _stroke()
    image = np.where(mask[None], 0.0, picture).transpose(1, 2, 0)
    no_stop = {"kind": "hole", "auto_stop": False, "holdout": 0.0}  # nothing held out to choose a share on
    assert "classic" not in prepare_inpaint(image, mask, channel_axis=-1, **no_stop, **TINY).settings  # auto
    with pytest.raises(ValueError, match="classic='biharmonic'.*region='mask'"):
        prepare_inpaint(image, mask, channel_axis=-1, region="whole", classic="biharmonic", **TINY)
    with pytest.raises(ValueError, match="classic='bm3d'"):
        prepare_inpaint(image, mask, channel_axis=-1, classic="bm3d", **TINY)


def test_a_mask_too_thick_to_copy_holds_out_known_pixels_at_random():
    picture = _picture(32)
    mask = np.ones((32, 32), bool)
    mask[8:11] = False  # three known rows: no shifted copy of the hole lands on them
    assert not stroke_holdout(mask, 0.05).any()
    image = np.where(mask[None], 0.0, picture).transpose(1, 2, 0)
    run = prepare_inpaint(image, mask, channel_axis=-1, **TINY)
    assert run.held_out.any() and not (run.held_out & mask).any()
    output, _ = run.run()
    assert np.array_equal(output[~mask], image[~mask])


def test_scattered_missing_pixels_hold_out_the_share_of_known_pixels_at_random():
    picture = _picture(128)
    mask = np.random.default_rng(0).random((128, 128)) < 0.5  # shifted copies land on a few isolated pixels
    image = np.where(mask[None], 0.0, picture).transpose(1, 2, 0)
    run = prepare_inpaint(image, mask, channel_axis=-1, kind="sparse", **TINY)  # the default stops and averages
    assert not (run.held_out & mask).any()
    assert run.held_out.sum() == pytest.approx(0.05 * (~mask).sum(), rel=0.2)
    output, _ = run.run()
    assert run.settings["classic"] == "biharmonic" and 0 <= run.settings["classic_share"] <= 1
    assert np.array_equal(output[~mask], image[~mask])
