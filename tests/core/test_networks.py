import pytest
import torch

import napari_dip
from napari_dip.core.model.networks import ARCHITECTURES, NetworkSpec, build_network, code_downscale
from napari_dip.core.tasks.prepare import prepare_denoise
from napari_dip.core.tasks.presets import PRESETS, Preset, task_preset

SMALL = dict(down=(8, 8, 16), up=(8, 8, 16), skip=(2, 2, 2))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_every_network_returns_the_code_size(architecture, channels):
    spec = NetworkSpec(architecture=architecture, blocks=2, **SMALL)
    net = build_network(spec, in_channels=5, out_channels=channels)
    size = 2 ** spec.depth * 3
    down = code_downscale(spec)
    out = net(torch.rand(1, 5, size // down, size // down))
    assert out.shape == (1, channels, size, size)
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_odd_sized_images_keep_their_size(architecture):
    image = torch.rand(37, 53).numpy()
    spec = NetworkSpec(architecture=architecture, blocks=2, **SMALL)
    task = prepare_denoise(image, preset=Preset(spec), iterations=1, device="cpu")
    output, _ = task.run()
    assert output.shape == (37, 53)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds(name):
    preset = PRESETS[name]
    in_channels = 3 if preset.code == "guide" else preset.code_channels
    net = build_network(preset.network, in_channels, 3)
    size = 2 ** (preset.network.depth + 1)
    code_size = size // code_downscale(preset.network)
    assert net(torch.rand(1, in_channels, code_size, code_size)).shape == (1, 3, size, size)


@pytest.mark.parametrize("name", ["unet", "resnet", "deep_decoder"])
def test_alternative_generators_denoise_odd_sizes(name):
    image = torch.rand(37, 53).numpy()
    assert napari_dip.denoise(image, preset=name, iterations=2).shape == (37, 53)


def test_fast_preset_is_lighter():
    paper = build_network(task_preset("denoise", preset="paper").network, 32, 3)
    fast = build_network(task_preset("denoise", preset="fast").network, 32, 3)
    count = lambda net: sum(p.numel() for p in net.parameters())  # noqa: E731
    assert count(fast) < count(paper) / 2


def test_zero_padding_and_nearest_upsampling_are_used():
    spec = NetworkSpec(padding="zero", upsample="nearest", **SMALL)
    net = build_network(spec, 2, 1)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size[0] == 3]
    assert convs and all(c.padding == (1, 1) for c in convs)
    assert any(isinstance(m, torch.nn.Upsample) and m.mode == "nearest" for m in net.modules())


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="Unknown architecture"):
        build_network(NetworkSpec(architecture="transformer"), 3, 3)


def test_flash_preset_upsamples_like_the_reference_code():
    """The reference flash / no-flash net: nearest, nearest, then bilinear, outermost scale first."""
    assert PRESETS["flash"].network.upsample == ("nearest", "nearest", "bilinear", "bilinear", "bilinear")
    net = build_network(PRESETS["flash"].network, 3, 3)
    level, modes = net.body, []
    while level is not None:
        modes.append(level.upsample.mode)
        level = level.deeper
    assert modes == ["nearest", "nearest", "bilinear", "bilinear", "bilinear"]


@pytest.mark.parametrize("architecture", ["skip", "unet", "deep_decoder"])
def test_upsample_per_scale(architecture):
    depth = NetworkSpec(architecture=architecture, **SMALL).depth
    spec = NetworkSpec(architecture=architecture, upsample=("nearest", "bilinear", "nearest")[:depth], **SMALL)
    net = build_network(spec, 4, 1)
    modes = [m.mode for m in net.modules() if isinstance(m, torch.nn.Upsample)]
    assert sorted(set(modes)) == ["bilinear", "nearest"]
    size = 2 ** spec.depth * 2
    code = torch.rand(1, 4, size // code_downscale(spec), size // code_downscale(spec))
    assert net(code).shape == (1, 1, size, size)


@pytest.mark.parametrize(
    "upsample, message",
    [(("nearest", "bilinear"), "3 values.*one per scale"), ("cubic", "upsample='cubic'.*bilinear, nearest")],
)
def test_bad_upsample_is_named(upsample, message):
    with pytest.raises(ValueError, match=message):
        build_network(NetworkSpec(upsample=upsample, **SMALL), 4, 1)
