"""3D: volumes in and out, the 3D skip net (anisotropic voxels), padding and memory in 3D."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import napari_dip
from napari_dip.core.inputs.images import pad_to_multiple
from napari_dip.core.inputs.volumes import prepare_volume, restore_volume
from napari_dip.core.model.networks import NetworkSpec, build_network, volume_spec
from napari_dip.core.runtime.devices import estimate_memory
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.presets import FAST_NET

FAST = dict(preset="fast", device="cpu")
SMALL = NetworkSpec(down=(4, 4, 8), up=(4, 4, 8), skip=(2, 2, 2))


def _volume(shape=(6, 32, 32), seed=0):
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[: shape[0], : shape[1], : shape[2]]
    clean = 900 + 300 * np.sin(x / 4.0 + z / 3) * np.cos(y / 5.0)
    return np.clip(clean + rng.normal(0, 50, shape), 0, 65535).astype(np.uint16)


@pytest.mark.parametrize("axis", [None, 0, 3, -1])
def test_volumes_round_trip_exactly(axis):
    volume = (_volume((3, 8, 10)) // 8).astype(np.uint8)  # the layout is the point; uint8 maps losslessly
    if axis is not None:
        volume = np.stack([volume, volume // 2], axis=axis)
    czyx, info = prepare_volume(volume, axis)
    assert czyx.shape == ((1,) if axis is None else (2,)) + (3, 8, 10)
    restored = restore_volume(czyx, info)
    assert restored.dtype == volume.dtype
    np.testing.assert_array_equal(restored, volume)


def test_z_is_halved_only_when_it_is_deep_and_fine_enough():
    deep = volume_spec(FAST_NET, 16)
    assert deep.z_down == (True, True, False, False, False) and all(deep.z_kernel)  # 16 -> 8 -> 4, then stop
    few = volume_spec(FAST_NET, 4)
    assert not any(few.z_down) and all(few.z_kernel)
    coarse = volume_spec(FAST_NET, 16, spacing=(4.0, 1.0, 1.0))  # Z voxels 4x the pixels
    assert coarse.z_kernel == (False, False, True, True, True)  # 1x3x3 until Y / X pixels reach the Z size
    assert coarse.z_down == (False, False, True, True, False)


def test_the_3d_net_uses_anisotropic_kernels_and_strides():
    spec = volume_spec(SMALL, 4, spacing=(3.0, 1.0, 1.0))
    net = build_network(spec, 3, 1)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs and not any(isinstance(m, torch.nn.Conv2d) for m in net.modules())
    assert (1, 3, 3) in {c.kernel_size for c in convs} and (3, 3, 3) in {c.kernel_size for c in convs}
    assert {c.stride for c in convs if c.stride != (1, 1, 1)} == {(1, 2, 2)}
    assert net(torch.rand(1, 3, 4, 16, 24)).shape == (1, 1, 4, 16, 24)


def test_odd_sized_volumes_keep_their_shape_and_dtype():
    volume = _volume((5, 37, 29))
    output, history = napari_dip.denoise(volume, spatial_dims=3, iterations=2, return_history=True, **FAST)
    assert output.shape == volume.shape and output.dtype == np.uint16
    assert history.stop_iteration == 2


def test_a_3d_fit_reports_psnr_against_a_clean_volume_and_keeps_its_spacing():
    volume = _volume((4, 32, 32))
    task = prepare_denoise(volume, spatial_dims=3, spacing=(2.5, 1.0, 1.0), reference=volume, iterations=4,
                           check_every=2, **FAST)
    _, result = task.run()
    assert len(result.history.psnr) == 2 and np.isfinite(result.history.psnr[-1])
    assert task.settings["spatial_dims"] == 3 and task.settings["spacing"] == [2.5, 1.0, 1.0]
    assert task.settings["network"]["dims"] == 3
    assert tuple(task.fit.code.shape[2:]) == (4, 64, 64)  # Y and X padded to the fast net's minimum


def test_volume_inpainting_with_a_mask_volume():
    volume = _volume((4, 32, 32))
    mask = np.zeros(volume.shape, bool)
    mask[:, 12:16, :] = True
    assert napari_dip.inpaint(volume, mask, spatial_dims=3, iterations=2, **FAST).shape == volume.shape


def test_padding_and_memory_in_3d():
    chw = np.random.default_rng(0).random((1, 5, 9, 11)).astype(np.float32)
    padded, crop = pad_to_multiple(chw, (4, 8, 8), (4, 16, 16))
    assert padded.shape == (1, 8, 16, 16)
    np.testing.assert_array_equal(padded[(slice(None), *crop)], chw)
    net = build_network(volume_spec(SMALL, 8), 4, 1)
    small, large = estimate_memory(net, (1, 4, 8, 32, 32)), estimate_memory(net, (1, 4, 16, 64, 64))
    assert 0 < small < large


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: napari_dip.denoise(_volume()[0], spatial_dims=3), "spatial_dims=3 needs a"),
        (lambda: napari_dip.denoise(_volume(), spatial_dims=4), "spatial_dims=4"),
        (lambda: napari_dip.denoise(_volume()[0], spacing=(2, 1, 1)), "spacing"),
        (lambda: napari_dip.denoise(_volume(), spatial_dims=3, spacing=(0, 1, 1)), "spacing"),
        (lambda: napari_dip.denoise(_volume()[:1], spatial_dims=3), "at least 2 slices"),
        (lambda: napari_dip.denoise(np.stack([_volume()] * 2, -1), spatial_dims=3), "channel_axis"),
        (lambda: napari_dip.super_resolve(_volume(), 2, spatial_dims=3), "2D images only"),
        (lambda: napari_dip.enhance(_volume(), spatial_dims=3), "2D images only"),
        (lambda: napari_dip.denoise(_volume(), spatial_dims=3, preset="unet"), "no 3D version"),
        (lambda: napari_dip.inpaint(_volume(), np.ones((6, 32, 32)) * np.arange(32) > 20, kind="hole",
                                    spatial_dims=3), "kind=.hole. fits a 2D meshgrid code"),
    ],
)
def test_bad_3d_requests_are_refused(call, words):
    with pytest.raises(ValueError, match=words):
        call()
