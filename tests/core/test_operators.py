import numpy as np
import pytest
import torch

from napari_dip.core.operators import Identity, LanczosDownsample, Mask, lanczos2, lanczos2_taps


def closed_form_lanczos2(x: float) -> float:
    if x == 0:
        return 1.0
    if abs(x) >= 2:
        return 0.0
    return 2 * np.sin(np.pi * x) * np.sin(np.pi * x / 2) / (np.pi**2 * x**2)


@pytest.mark.parametrize("factor", [2, 3, 4, 8])
def test_lanczos_taps_sum_to_one_and_match_the_closed_form(factor):
    taps = lanczos2_taps(factor)
    assert taps.sum() == pytest.approx(1.0)
    offsets = np.arange(-2 * factor, 2 * factor) + 0.5 if factor % 2 == 0 else np.arange(-2 * factor + 1, 2 * factor)
    expected = np.array([closed_form_lanczos2(o / factor) for o in offsets])
    np.testing.assert_allclose(taps, expected / expected.sum(), rtol=1e-12)
    np.testing.assert_allclose(taps, taps[::-1])  # symmetric about the block centre


def test_lanczos2_kernel_values():
    assert lanczos2(0.0) == pytest.approx(1.0)
    assert lanczos2(1.0) == pytest.approx(0.0, abs=1e-12)
    assert lanczos2(2.5) == 0.0
    assert lanczos2(0.5) == pytest.approx(closed_form_lanczos2(0.5))


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
