"""Independent networks fitted side by side in one fit (``Preset.members``), their outputs averaged."""

from dataclasses import replace

import numpy as np
import pytest
import torch

import napari_dip
from napari_dip.core.model.codes import member_seed
from napari_dip.core.model.networks import Members, NetworkSpec
from napari_dip.core.runtime.devices import fit_memory
from napari_dip.core.tasks.pieces import seeded_network
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.presets import Preset

TINY = Preset(NetworkSpec(down=(8, 16), up=(8, 16), skip=(2, 2), input_norm=True), code_channels=3,
              code_noise_std=0.0, iterations=6, lr=0.001, code_lr=0.1, optimize="both", tv_weight=0.2,
              root_loss=True, ema=0.9)


def noisy_image() -> np.ndarray:
    return np.random.default_rng(0).random((24, 24, 3)).astype(np.float32)


def test_two_members_give_exactly_the_average_of_the_two_fits_alone():
    image = noisy_image()
    alone = [napari_dip.denoise(image, preset=TINY, channel_axis=-1, seed=member_seed(3, k)) for k in (0, 1)]
    members = napari_dip.denoise(image, preset=replace(TINY, members=2), channel_axis=-1, seed=3)
    np.testing.assert_array_equal(members, (alone[0] + alone[1]) / 2)
    assert not np.array_equal(members, alone[0])


def test_members_start_from_the_networks_of_their_seeds_and_runs_share_none():
    ensemble = seeded_network(replace(TINY, members=3), 3, 3, seed=5)
    assert isinstance(ensemble, Members) and len(ensemble.networks) == 3
    for k, member in enumerate(ensemble.networks):
        alone = seeded_network(TINY, 3, 3, seed=member_seed(5, k))
        assert all(torch.equal(a, b) for a, b in zip(member.state_dict().values(), alone.state_dict().values()))
    # Runs use the seeds 5, 6, ...: the members of the run with seed 6 are all new.
    seeds = {member_seed(seed, k) for seed in (5, 6) for k in range(3)}
    assert len(seeds) == 6


def test_the_preview_and_the_loss_are_the_members_average():
    records = []
    run = prepare_denoise(noisy_image(), preset=replace(TINY, members=2, iterations=10), channel_axis=-1,
                          preview_every=10)
    _, result = run.run(records.append)
    last = run.fit._last  # both members' outputs at the last iteration
    assert last.shape[0] == 2 and not torch.equal(last[0], last[1])
    np.testing.assert_allclose(records[-1].image, last.mean(0)[(slice(None), *run.fit.problem.crop)].numpy())
    alone = [prepare_denoise(noisy_image(), preset=replace(TINY, iterations=10), channel_axis=-1,
                             seed=member_seed(0, k)).run()[1] for k in (0, 1)]
    np.testing.assert_allclose(result.history.losses, np.mean([a.history.losses for a in alone], axis=0), rtol=1e-5)


def test_the_memory_estimate_counts_every_member():
    one = fit_memory(seeded_network(TINY, 3, 3, 0), (3, 256, 256), (3, 256, 256))
    two = fit_memory(seeded_network(replace(TINY, members=2), 3, 3, 0), (3, 256, 256), (3, 256, 256))
    assert 1.8 * one < two < 2.1 * one


def test_a_stack_warm_starts_every_member():
    from napari_dip.core.tasks.stacks import slice_runs

    stack = np.random.default_rng(1).random((2, 24, 24)).astype(np.float32)
    preset = replace(TINY, members=2)

    def make_run(k, repeat, options):
        return prepare_denoise(stack[k], **options)

    runs = slice_runs(make_run, 2, {"preset": preset, "iterations": 3})
    first = next(runs).run
    first.run()
    ended = {key: value.clone() for key, value in first.fit.network.state_dict().items()}
    second = next(runs).run
    started = second.fit.network.state_dict()
    assert {key.split(".")[1] for key in ended if key.startswith("networks.")} == {"0", "1"}  # both members
    for key, value in ended.items():
        assert torch.equal(started[key], value), key
    fresh = prepare_denoise(stack[1], preset=preset, iterations=3).fit.network.state_dict()
    assert not all(torch.equal(fresh[key], value) for key, value in ended.items())  # not where a fresh fit starts


@pytest.mark.parametrize("members", [0, -1, 1.5, "2"])
def test_a_bad_member_count_is_refused_by_name(members):
    with pytest.raises(ValueError, match="members"):
        replace(TINY, members=members)


def test_a_code_without_one_entry_per_member_is_refused():
    ensemble = seeded_network(replace(TINY, members=2), 3, 3, 0)
    with pytest.raises(ValueError, match="one per member"):
        ensemble(torch.rand(1, 3, 16, 16))


def test_a_volume_is_fitted_by_every_member_with_its_pixels_held_out():
    volume = np.random.default_rng(2).random((8, 16, 16)).astype(np.float32)
    run = prepare_denoise(volume, spatial_dims=3, preset=replace(TINY, members=2, holdout=0.1, auto_stop=True),
                          iterations=4)
    out, result = run.run()
    assert run.fit.code.shape[0] == 2 and run.fit.held_out.dim() == 5 and out.shape == volume.shape
    assert np.isfinite(out).all() and result.history.stop_iteration == 4
