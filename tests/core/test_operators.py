import numpy as np
import pytest
import torch

from napari_dip.core.physics.operators import Identity, LanczosDownsample, Mask, lanczos2, lanczos2_taps

#: Reference taps: the 1D factor of the DIP reference code's ``get_kernel(factor, "lanczos", phase=0.5,
#: kernel_width=4 * factor + 1, support=2)`` (models/downsampler.py), computed once and written out.
REFERENCE_TAPS = {
    2: [-0.00886333207590031, -0.041940033950691784, 0.11650009430747721, 0.4343032717191149],
    4: [-0.0010653827364602412, -0.009751701453881293, -0.02038398750407105, -0.01487789084787682,
        0.0245940644628168, 0.09865849951970387, 0.18311528285621537, 0.23971111570355344],
}


@pytest.mark.parametrize("factor", sorted(REFERENCE_TAPS))
def test_lanczos_taps_match_the_reference_code(factor):
    half = REFERENCE_TAPS[factor]
    expected = np.array(half + half[::-1])
    np.testing.assert_allclose(lanczos2_taps(factor), expected, rtol=1e-12, atol=1e-15)
    kernel = LanczosDownsample(factor, channels=2).weight
    assert kernel.shape == (2, 1, 4 * factor, 4 * factor)
    np.testing.assert_allclose(kernel[1, 0].numpy(), np.outer(expected, expected), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("factor", [3, 8])
def test_other_factors_sum_to_one_and_are_symmetric(factor):
    taps = lanczos2_taps(factor)
    assert len(taps) == (4 * factor if factor % 2 == 0 else 4 * factor - 1)
    assert taps.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(taps, taps[::-1])


def test_lanczos2_kernel_values():
    assert lanczos2(0.0) == pytest.approx(1.0)
    assert lanczos2(1.0) == pytest.approx(0.0, abs=1e-12)
    assert lanczos2(2.5) == 0.0
    assert lanczos2(0.5) == pytest.approx(8 / np.pi**2 * np.sin(np.pi / 4))  # 2 sin(pi x) sin(pi x / 2) / (pi x)^2


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_downsampler_shrinks_by_the_factor_and_keeps_constants(factor):
    op = LanczosDownsample(factor, channels=3)
    assert op.weight.sum(dim=(1, 2, 3)).allclose(torch.ones(3))
    constant = torch.full((1, 3, 8 * factor, 5 * factor), 0.7)
    out = op(constant)
    assert out.shape == (1, 3, 8, 5)
    torch.testing.assert_close(out, torch.full_like(out, 0.7))


def test_downsampler_low_passes_a_checkerboard():
    board = (torch.arange(32)[:, None] + torch.arange(32)[None]) % 2
    out = LanczosDownsample(4, 1)(board.float()[None, None])
    assert out.std() < 0.01 and out.mean() == pytest.approx(0.5, abs=0.01)


def test_mask_loss_ignores_missing_pixels():
    known = torch.rand(16, 16) > 0.5
    op = Mask(known)
    target = torch.rand(1, 3, 16, 16)
    output = torch.rand(1, 3, 16, 16)
    changed = output.clone()
    changed[..., ~known] = torch.rand(int((~known).sum()) * 3).reshape(1, 3, -1)
    assert op.loss(output, target) == pytest.approx(op.loss(changed, target).item())
    changed[..., known] += 0.1
    assert op.loss(changed, target) != pytest.approx(op.loss(output, target).item())


def test_mask_without_known_pixels_is_refused():
    with pytest.raises(ValueError, match="every pixel"):
        Mask(torch.zeros(4, 4, dtype=torch.bool))


def test_identity_loss_is_mse():
    a, b = torch.rand(1, 1, 4, 4), torch.rand(1, 1, 4, 4)
    assert Identity().loss(a, b).item() == pytest.approx(((a - b) ** 2).mean().item())


def test_total_variation_of_2d_and_3d_outputs():
    from napari_dip.core.physics.operators import total_variation

    assert float(total_variation(torch.ones(1, 3, 8, 8))) == 0.0
    ramp = torch.arange(4.0).reshape(1, 1, 1, 4).expand(1, 1, 5, 4)  # steps of 1 along X, none along Y
    assert float(total_variation(ramp)) == pytest.approx(1.0)
    checker = (torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2
    assert float(total_variation(checker.float()[None, None])) == pytest.approx(2.0)  # 1 along Y + 1 along X
    volume = torch.zeros(1, 1, 3, 4, 4)
    volume[:, :, 1] = 2.0  # a bright middle slice: mean |dZ| = 2, no change in Y or X
    assert float(total_variation(volume)) == pytest.approx(2.0)
    assert float(total_variation(torch.rand(1, 1, 1, 6, 6))) > 0  # a single slice: Z adds nothing, not NaN


def test_back_projection_brings_the_decimation_closer_to_the_observation():
    from napari_dip.core.physics.operators import LanczosDownsample, back_project

    rng = np.random.default_rng(0)
    low = rng.random((3, 16, 16)).astype(np.float32) * 0.6 + 0.2
    high = np.full((3, 64, 64), 0.5, np.float32)  # a fit that has matched nothing yet
    down = LanczosDownsample(4, 3)

    def misfit(x):
        return float(((down(torch.from_numpy(x)[None])[0].numpy() - low) ** 2).mean())

    assert back_project(high, low, 4, 0) is high
    errors = [misfit(back_project(high, low, 4, steps)) for steps in (0, 1, 3)]
    assert errors[1] < 0.2 * errors[0] and errors[2] < errors[1]


def test_super_resolution_records_its_back_projections():
    from napari_dip.core.tasks.prepare import prepare_super_resolution

    low = np.random.default_rng(1).random((16, 16)).astype(np.float32)
    assert prepare_super_resolution(low, 2, iterations=1, device="cpu").settings["back_projections"] == 1
    paper = prepare_super_resolution(low, 2, preset="paper", iterations=1, device="cpu")
    assert paper.settings["back_projections"] == 0
    with pytest.raises(ValueError, match="back_projections=-1"):
        prepare_super_resolution(low, 2, back_projections=-1, device="cpu")
