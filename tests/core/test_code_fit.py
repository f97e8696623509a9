"""Fitting the code with the network: its own learning rate, the input BatchNorm, the RMS loss, fused Adam."""

import numpy as np
import pytest
import torch

from napari_dip.core.fitting import optimizer
from napari_dip.core.fitting.loop import Fit, FitConfig, Problem, run
from napari_dip.core.model.networks import NetworkSpec, build_network
from napari_dip.core.physics.operators import Identity
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.presets import task_preset

TINY = NetworkSpec(down=(8, 16), up=(8, 16), skip=(2, 2), input_norm=True)


def make_fit(spec=TINY, **config) -> Fit:
    torch.manual_seed(0)
    problem = Problem(build_network(spec, 3, 1), torch.rand(1, 3, 16, 16) * 0.1, Identity(), torch.rand(1, 1, 16, 16))
    return Fit(problem, FitConfig(**{"iterations": 1, "code_noise_std": 0.0, "backtrack": False, **config}), "cpu")


def test_the_code_and_the_batchnorm_layers_step_at_code_lr():
    fit = make_fit(optimize="both", lr=1e-3, code_lr=0.1)
    owned = [(isinstance(m, torch.nn.BatchNorm2d), p) for m in fit.network.modules() for p in m.parameters(False)]
    before = [p.detach().clone() for _, p in owned]
    code = fit.code.detach().clone()
    run(fit)
    # Adam's first step moves every entry by about its learning rate.
    assert float((fit.code.detach() - code).abs().max()) == pytest.approx(0.1, rel=0.01)
    assert any(is_norm for is_norm, _ in owned) and any(not is_norm for is_norm, _ in owned)
    steps = [(is_norm, float((p.detach() - old).abs().max())) for (is_norm, p), old in zip(owned, before)]
    for norms, lr in ((True, 0.1), (False, 1e-3)):  # a few entries have (nearly) no gradient and step less
        group = [step for is_norm, step in steps if is_norm == norms]
        assert max(group) == pytest.approx(lr, rel=0.01) and all(step <= 1.01 * lr for step in group)


def test_without_code_lr_everything_steps_at_lr():
    fit = make_fit(optimize="both", lr=1e-3)
    code = fit.code.clone()
    run(fit)
    assert float((fit.code.detach() - code).abs().max()) == pytest.approx(1e-3, rel=0.01)


def test_the_input_batchnorm_makes_the_net_blind_to_each_code_channels_scale():
    torch.manual_seed(0)
    code = torch.rand(1, 3, 16, 16)
    for input_norm in (True, False):
        torch.manual_seed(1)
        net = build_network(NetworkSpec(down=(8, 16), up=(8, 16), skip=(2, 2), input_norm=input_norm), 3, 1)
        scale, shift = torch.tensor([1.0, 5.0, 2.0]).view(1, 3, 1, 1), torch.tensor([0.0, 2.0, -1.0]).view(1, 3, 1, 1)
        same = torch.allclose(net(code), net(scale * code + shift), atol=1e-3)  # a different map per channel
        assert same == input_norm


def test_root_loss_fits_the_rms_error():
    plain, rooted = run(make_fit(iterations=2)), run(make_fit(iterations=2, root_loss=True))
    np.testing.assert_allclose(rooted.history.losses[0], np.sqrt(plain.history.losses[0]), rtol=1e-5)


@pytest.mark.parametrize("config, message", [({"code_lr": 0}, "code_lr"), ({"root_loss": "yes"}, "root_loss")])
def test_bad_values_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        FitConfig(**config)


def test_adam_is_fused_where_it_can_be_and_plain_elsewhere(monkeypatch):
    params = [torch.zeros(3, requires_grad=True)]
    assert optimizer.adam(params, 0.1).defaults["fused"]
    plain = torch.optim.Adam

    def no_fused(*args, fused=None, **kwargs):
        if fused:
            raise RuntimeError("fused=True requires all the params to be on a supported device")
        return plain(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", no_fused)
    assert not optimizer.adam(params, 0.1).defaults["fused"]


def test_the_drp_preset_fits_code_and_network_and_fast_and_paper_only_the_network():
    drp = task_preset("denoise", preset="drp")
    assert (drp.optimize, drp.code_lr, drp.root_loss, drp.network.input_norm) == ("both", 0.1, True, True)
    for name in ("fast", "paper"):
        other = task_preset("denoise", preset=name)
        assert (other.optimize, other.code_lr, other.root_loss, other.network.input_norm) == ("net", None, False, False)
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    run_ = prepare_denoise(image, preset="drp", iterations=2, device="cpu")
    assert (run_.settings["optimize"], run_.settings["code_lr"], run_.settings["root_loss"]) == ("both", 0.1, True)
    assert run_.settings["network"]["input_norm"] and run_.fit.code.shape[:2] == (2, 3)  # two networks' codes
