import numpy as np
import pytest
import torch

from napari_dip.core.fitting.loop import Fit, FitConfig, Problem, ema_decay, run
from napari_dip.core.model.networks import NetworkSpec, build_network
from napari_dip.core.physics.operators import Identity
from napari_dip.core.tasks.prepare import prepare_denoise

TINY = NetworkSpec(down=(8, 16), up=(8, 16), skip=(2, 2))


def make_fit(device="cpu", seed=0, **config) -> Fit:
    torch.manual_seed(seed)
    target = torch.rand(1, 1, 16, 16)
    problem = Problem(build_network(TINY, 4, 1), torch.rand(1, 4, 16, 16) * 0.1, Identity(), target)
    return Fit(problem, FitConfig(**{"iterations": 30, "seed": seed, **config}), device)


def test_loss_goes_down(device, camera_crop):
    _, result = prepare_denoise(camera_crop, preset="fast", iterations=60, device=device).run()
    losses = result.history.losses
    assert len(losses) == 60
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])


class Counter(torch.nn.Module):
    """A "network" whose output is the flat image t / 10 at its t-th call (a parameter gives Adam something to fit)."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))
        self.calls = 0

    def forward(self, code):
        self.calls += 1
        return torch.full((1, 1, *code.shape[2:]), self.calls / 10) + 0 * self.weight


def test_the_ema_of_the_outputs_follows_them_early_then_weighs_the_past_by_gamma():
    problem = Problem(Counter(), torch.zeros(1, 1, 8, 8), Identity(), torch.zeros(1, 1, 8, 8))
    config = FitConfig(iterations=3, ema=0.9, preview_every=1, check_every=1, backtrack=False, code_noise_std=0.0)
    emas = [float(record.ema_image.mean()) for record in Fit(problem, config).steps()]
    # Outputs 0.1, 0.2, 0.3; the weight of the past is min(0.9, (1 + t) / (10 + t)): 3/12, then 4/13.
    assert emas == pytest.approx([0.1, 0.175, 0.34 / 1.3], rel=1e-6)
    assert ema_decay(0.99, 1) == pytest.approx(2 / 11) and ema_decay(0.9, 1000) == 0.9


def test_records_every_iteration_images_every_k():
    records = list(make_fit(iterations=25, preview_every=10, check_every=5).steps())
    assert [r.iteration for r in records] == list(range(1, 26))
    assert [r.iteration for r in records if r.image is not None] == [10, 20, 25]
    assert [r.iteration for r in records if r.loss is not None] == [5, 10, 15, 20, 25]


def test_backtracking_restores_the_snapshot_after_a_spike():
    fit = make_fit(iterations=40, check_every=5, code_noise_std=0.0)
    steps = fit.steps()
    for record in steps:
        if record.iteration == 20:
            break
    assert fit._backtracker.snapshot_iteration == 20
    snapshot = [t.clone() for t in fit._backtracker.snapshot]
    with torch.no_grad():  # inject a spike: wreck the weights
        for p in fit.network.parameters():
            p.add_(torch.randn_like(p) * 50)
    record = next(r for r in steps if r.restored)
    assert record.iteration == 25 and fit.history.restored == [25]
    # The restore happens before the record is yielded: the weights are the snapshot's.
    for now, saved in zip(fit._backtracker.tensors, snapshot):
        torch.testing.assert_close(now, saved)


def test_same_seed_is_identical_and_another_seed_differs(camera_crop):
    kwargs = dict(preset="fast", iterations=15, device="cpu")
    a, _ = prepare_denoise(camera_crop, seed=3, **kwargs).run()
    b, _ = prepare_denoise(camera_crop, seed=3, **kwargs).run()
    c, _ = prepare_denoise(camera_crop, seed=4, **kwargs).run()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_stopping_the_generator_early_returns_the_latest_result():
    fit = make_fit(iterations=100, use_ema=False, preview_every=1)
    steps = fit.steps()
    for record in steps:
        if record.iteration == 7:
            break
    steps.close()
    result = fit.result()
    assert result.history.stop_iteration == 7
    assert result.history.stop_reason == "interrupted"
    np.testing.assert_array_equal(result.image, record.image)


def test_run_stops_when_the_callback_says_so():
    result = run(make_fit(iterations=100), lambda record: record.iteration < 12)
    assert result.history.stop_iteration == 12


def test_completed_fit_returns_its_result_from_the_generator():
    steps = make_fit(iterations=5).steps()
    with pytest.raises(StopIteration) as done:
        while True:
            next(steps)
    assert done.value.value.history.stop_reason == "completed"


def test_auto_stop_stops_and_returns_the_minimum_variance_output():
    fit = make_fit(iterations=3000, auto_stop=True, patience=50, variance_alpha=0.1, lr=0.05)
    result = run(fit)
    assert result.history.stop_reason == "auto_stop"
    assert result.history.stop_iteration < 3000
    np.testing.assert_array_equal(result.image, fit._auto.stopper.best_image.cpu().numpy())


def test_psnr_is_reported_against_a_reference(camera_crop):
    task = prepare_denoise(camera_crop, preset="fast", iterations=20, reference=camera_crop, check_every=10)
    records = [r for r in task.steps() if r.psnr is not None]
    assert [r.iteration for r in records] == [10, 20]
    assert all(np.isfinite(r.psnr) and np.isfinite(r.psnr_ema) for r in records)


@pytest.mark.parametrize("optimize", ["code", "both"])
def test_optimising_the_code_changes_it(optimize):
    fit = make_fit(iterations=5, optimize=optimize, code_noise_std=0.0)
    before = fit.code.detach().clone()
    run(fit)
    assert not torch.equal(before, fit.code.detach())


def test_bfloat16_autocast_runs():
    result = run(make_fit(iterations=3, precision="bfloat16"))
    assert np.isfinite(result.image).all()


def test_ema_decay_warms_up_to_gamma():
    assert ema_decay(0.99, 1) == pytest.approx(2 / 11)
    assert ema_decay(0.99, 100) == pytest.approx(101 / 110)
    assert ema_decay(0.99, 5000) == 0.99


@pytest.mark.parametrize(
    "config, message",
    [({"iterations": 0}, "at least 1"), ({"lr": -1}, "positive"), ({"optimize": "z"}, "optimize"), ({"ema": 1.0}, "EMA")],
)
def test_bad_config_is_refused(config, message):
    with pytest.raises(ValueError, match=message):
        FitConfig(**config)


def test_losses_up_to_the_stop_are_kept():
    fit = make_fit(iterations=100, check_every=10)
    steps = fit.steps()
    for record in steps:
        if record.iteration == 7:
            break
    steps.close()
    history = fit.result().history
    assert history.iterations == list(range(1, 8)) and len(history.losses) == 7


@pytest.mark.parametrize("backtrack", [True, False])
def test_non_finite_loss_that_cannot_be_restored_stops_with_an_error(backtrack):
    from napari_dip.core.fitting.loop import FitDiverged

    fit = make_fit(iterations=30, lr=1e30, check_every=5, backtrack=backtrack)
    with pytest.raises(FitDiverged, match=r"loss became (nan|inf).*iteration 5.*lower the learning rate"):
        run(fit)
    assert fit.history.stop_reason == "diverged"


def test_non_finite_loss_after_a_good_state_is_restored():
    fit = make_fit(iterations=20, check_every=5, backtrack=True)
    steps = fit.steps()
    for _ in range(10):
        next(steps)
    with torch.no_grad():  # a fault: the parameters blow up
        for p in fit.network.parameters():
            p.fill_(float("nan"))
    for _ in steps:
        pass
    assert fit.history.restored and np.isfinite(fit.result().image).all()


def test_weights_code_and_noise_draw_from_independent_streams():
    """One seed, three streams: first-layer weights, code and per-iteration noise are uncorrelated."""
    def streams(seed):
        task = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, seed=seed, device="cpu")
        weight = next(task.fit.network.parameters()).detach().flatten()  # the first values drawn
        code = task.fit.code.flatten()[: weight.numel()]
        generator = torch.Generator().set_state(task.fit._noise.get_state())
        noise = torch.randn(task.fit.code.shape, generator=generator).flatten()[: weight.numel()]
        return weight, code, noise

    def corr(a, b):
        return abs(float(np.corrcoef(a.numpy(), b.numpy())[0, 1]))

    w0, c0, n0 = streams(0)
    w1, c1, n1 = streams(1)
    pairs = [(w0, c0), (w0, n0), (c0, n0), (c0, w1), (w0, w1), (n0, n1), (c0, c1)]
    # 128 values: chance correlations stay below ~0.35; shared streams gave 1.0 (code of seed 0, weights of seed 1)
    assert max(corr(a, b) for a, b in pairs) < 0.5


def test_auto_stop_iteration_is_public_and_none_without_auto_stop():
    from napari_dip.core.tasks.prepare import prepare_denoise

    image = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    plain = prepare_denoise(image, preset="fast", iterations=5, device="cpu")
    plain.run()
    assert plain.fit.auto_stop_iteration is None
    stopping = prepare_denoise(image, preset="fast", iterations=160, device="cpu", auto_stop=True, patience=20)
    stopping.run()
    assert stopping.history.stop_reason in ("auto_stop", "completed")
    chosen = stopping.fit.auto_stop_iteration
    assert chosen is not None and 100 <= chosen <= stopping.history.stop_iteration


def test_denoise_stops_by_itself_by_default_and_runs_on_when_asked():
    image = np.random.default_rng(3).random((24, 24)).astype(np.float32)
    stopped = prepare_denoise(image, iterations=2000, device="cpu", patience=30)
    stopped.run()
    assert stopped.history.stop_reason == "auto_stop"
    assert stopped.history.stop_iteration < 2000
    # The moving variance of the outputs stops it, patience after its minimum.
    assert stopped.history.stop_iteration == stopped.fit.auto_stop_iteration + 30
    full = prepare_denoise(image, iterations=150, device="cpu", patience=30, auto_stop=False)
    full.run()
    assert full.history.stop_reason == "completed" and full.history.stop_iteration == 150


@pytest.mark.parametrize(
    ("value", "message"),
    [(-0.1, r"tv_weight=-0\.1.*0 or more"), (float("nan"), "tv_weight=nan.*finite"),
     ("0.1", "tv_weight='0.1'.*number"), (True, "tv_weight=True")],
)
def test_bad_tv_weight_is_refused(value, message):
    with pytest.raises(ValueError, match=message):
        FitConfig(tv_weight=value)
    with pytest.raises(ValueError, match=message):
        prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=1, device="cpu", tv_weight=value)


def test_tv_weight_smooths_the_output():
    from napari_dip.core.physics.operators import total_variation

    noisy = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    tv = {}
    for weight in (0.0, 1.0):
        task = prepare_denoise(noisy, preset="fast", iterations=30, device="cpu", seed=0, threads=1, tv_weight=weight)
        output, _ = task.run()
        assert task.settings["tv_weight"] == weight
        tv[weight] = float(total_variation(torch.from_numpy(output)[None, None]))
    assert tv[1.0] < 0.5 * tv[0.0]


def test_tv_weight_adds_to_the_loss():
    plain = run(make_fit(iterations=1, check_every=1)).history.losses[0]
    with_tv = run(make_fit(iterations=1, check_every=1, tv_weight=10.0)).history.losses[0]
    assert with_tv > plain  # same seed, same first output: the difference is the TV term


def test_tv_weight_on_a_volume():
    volume = np.random.default_rng(0).random((4, 16, 16)).astype(np.float32)
    task = prepare_denoise(volume, preset="fast", iterations=2, device="cpu", threads=1, spatial_dims=3,
                           tv_weight=0.5)
    output, result = task.run()
    assert output.shape == volume.shape and np.isfinite(result.history.losses).all()


def test_denoise_accepts_tv_weight():
    import napari_dip

    image = np.random.default_rng(0).random((16, 16)).astype(np.float32)
    output = napari_dip.denoise(image, preset="fast", iterations=2, device="cpu", threads=1, tv_weight=0.01)
    assert output.shape == (16, 16)


def test_auto_stop_ends_once_the_loss_falls_to_stop_loss_and_keeps_that_image():
    fit = make_fit(iterations=3000, auto_stop=True, patience=2000, lr=0.05, stop_loss=0.01)
    result = run(fit)
    history = result.history
    assert history.stop_reason == "auto_stop" and history.stop_iteration < 3000
    assert fit.auto_stop_iteration == history.stop_iteration
    # The returned image is the fit's own (EMA) output at that iteration, whose loss reached stop_loss.
    assert np.array_equal(result.image, result.ema)
    assert float(np.mean((result.image - fit.target[0].numpy()) ** 2)) <= 0.01
    previous = make_fit(iterations=history.stop_iteration - 10, auto_stop=True, patience=2000, lr=0.05, stop_loss=0.01)
    assert run(previous).history.stop_reason == "completed"  # not reached one check earlier


def test_denoise_stops_where_the_noise_variance_is_explained():
    rng = np.random.default_rng(1)
    y, x = np.mgrid[:32, :32]
    noisy = (0.5 + 0.3 * np.sin(x / 4) + rng.normal(0, 0.1, (32, 32))).astype(np.float32)
    task = prepare_denoise(noisy, iterations=3000, device="cpu", stop_loss="auto")
    assert task.settings["stop_loss"] == "auto"
    assert task.fit.config.stop_loss == pytest.approx(task.settings["noise_variance"])
    task.run()
    assert task.history.stop_reason == "auto_stop"
    assert task.fit.auto_stop_iteration == task.history.stop_iteration  # the discrepancy, not the variance, stopped it
