"""Generator networks: skip hourglass, plain hourglass, U-Net, ResNet, Deep Decoder.

Every builder returns an ``nn.Module`` mapping a code ``z`` of shape
(N, C_in, H', W') to an image (N, C_out, H, W) in [0, 1] (sigmoid head).
For the convolutional nets H' = H; the Deep Decoder takes a code
``2**len(channels)`` times smaller per side (see :func:`code_downscale`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

ARCHITECTURES = ("skip", "hourglass", "unet", "resnet", "deep_decoder")
UPSAMPLE_MODES = ("bilinear", "nearest")


@dataclass(frozen=True)
class NetworkSpec:
    """Architecture and sizes of a generator.

    ``down``, ``up`` and ``skip`` hold the channels per scale (n_d, n_u, n_s);
    ``kernel_down`` / ``kernel_up`` the kernel size per scale (an int applies
    to every scale). ``padding`` is ``"reflection"`` or ``"zero"``;
    ``upsample`` is ``"bilinear"`` or ``"nearest"``, or a tuple with one mode
    per scale, the outermost (full-resolution) scale first.
    """

    architecture: str = "skip"
    down: tuple[int, ...] = (128,) * 5
    up: tuple[int, ...] = (128,) * 5
    skip: tuple[int, ...] = (4,) * 5
    kernel_down: int | tuple[int, ...] = 3
    kernel_up: int | tuple[int, ...] = 3
    kernel_skip: int = 1
    upsample: str | tuple[str, ...] = "bilinear"
    padding: str = "reflection"
    blocks: int = 10  # ResNet only
    extra: dict = field(default_factory=dict)

    @property
    def depth(self) -> int:
        """Number of times the net halves the image (0 for ResNet)."""
        if self.architecture == "resnet":
            return 0
        if self.architecture == "unet":
            return len(self.down) - 1
        return len(self.down)


def _per_scale(value: int | str | Sequence[int | str], scales: int, name: str = "value") -> tuple:
    values = (value,) * scales if isinstance(value, (int, str)) else tuple(value)
    if len(values) != scales:
        raise ValueError(f"{name}={value!r}: expected {scales} values (one per scale), got {len(values)}.")
    return values


def upsample_modes(spec: NetworkSpec) -> tuple[str, ...]:
    """The up-sampling mode of each of the ``spec.depth`` scales, outermost first; ValueError naming a bad mode."""
    modes = _per_scale(spec.upsample, spec.depth, "upsample")
    for mode in modes:
        if mode not in UPSAMPLE_MODES:
            raise ValueError(f"upsample={mode!r}: choose one of {', '.join(UPSAMPLE_MODES)} (or one per scale).")
    return modes


class PadConv(nn.Module):
    """Convolution preceded by reflection (or zero) padding that keeps the size / stride."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: str = "reflection"):
        super().__init__()
        self.pad = (kernel - 1) // 2
        self.reflect = padding == "reflection"
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=0 if self.reflect else self.pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reflect and self.pad:
            # Reflection needs the pad to be smaller than the side; replicate on tiny maps.
            mode = "reflect" if min(x.shape[-2:]) > self.pad else "replicate"
            x = F.pad(x, (self.pad,) * 4, mode=mode)
        return self.conv(x)


def conv_bn_act(c_in: int, c_out: int, kernel: int, stride: int = 1, padding: str = "reflection") -> nn.Sequential:
    return nn.Sequential(PadConv(c_in, c_out, kernel, stride, padding), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, inplace=True))


def _upsample(mode: str) -> nn.Upsample:
    if mode == "bilinear":
        return nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    return nn.Upsample(scale_factor=2, mode="nearest")


class SkipLevel(nn.Module):
    """One scale of the skip hourglass: skip branch, down branch, deeper levels, up branch."""

    def __init__(self, spec: NetworkSpec, scale: int, c_in: int):
        super().__init__()
        scales = len(spec.down)
        k_down = _per_scale(spec.kernel_down, scales, "kernel_down")[scale]
        k_up = _per_scale(spec.kernel_up, scales, "kernel_up")[scale]
        n_down, n_up, n_skip = spec.down[scale], spec.up[scale], spec.skip[scale]
        pad = spec.padding
        self.skip = conv_bn_act(c_in, n_skip, spec.kernel_skip, padding=pad) if n_skip else None
        self.down = nn.Sequential(
            conv_bn_act(c_in, n_down, k_down, stride=2, padding=pad),
            conv_bn_act(n_down, n_down, k_down, padding=pad),
        )
        self.deeper = SkipLevel(spec, scale + 1, n_down) if scale + 1 < scales else None
        c_deep = spec.up[scale + 1] if self.deeper is not None else n_down
        self.upsample = _upsample(upsample_modes(spec)[scale])
        self.merge = nn.Sequential(
            nn.BatchNorm2d(n_skip + c_deep),
            conv_bn_act(n_skip + c_deep, n_up, k_up, padding=pad),
            conv_bn_act(n_up, n_up, 1, padding=pad),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        deep = self.down(x)
        if self.deeper is not None:
            deep = self.deeper(deep)
        deep = self.upsample(deep)[..., : x.shape[-2], : x.shape[-1]]
        if self.skip is not None:
            deep = torch.cat([self.skip(x), deep], dim=1)
        return self.merge(deep)


class SkipNet(nn.Module):
    """The DIP "skip" encoder-decoder; with all skip widths 0 it is the plain hourglass."""

    def __init__(self, c_in: int, c_out: int, spec: NetworkSpec):
        super().__init__()
        scales = len(spec.down)
        if not (len(spec.up) == len(spec.skip) == scales):
            raise ValueError("down, up and skip need one entry per scale.")
        self.body = SkipLevel(spec, 0, c_in)
        self.head = nn.Sequential(PadConv(spec.up[0], c_out, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(z))


class UNet(nn.Module):
    """U-Net with double-conv blocks, strided down-sampling and concatenating skips."""

    def __init__(self, c_in: int, c_out: int, spec: NetworkSpec):
        super().__init__()
        widths, pad = spec.down, spec.padding
        self.inc = nn.Sequential(conv_bn_act(c_in, widths[0], 3, padding=pad), conv_bn_act(widths[0], widths[0], 3, padding=pad))
        self.downs = nn.ModuleList(
            nn.Sequential(conv_bn_act(a, b, 3, stride=2, padding=pad), conv_bn_act(b, b, 3, padding=pad))
            for a, b in zip(widths[:-1], widths[1:])
        )
        self.upsamples = nn.ModuleList(_upsample(mode) for mode in upsample_modes(spec))
        self.ups = nn.ModuleList(
            nn.Sequential(conv_bn_act(a + b, a, 3, padding=pad), conv_bn_act(a, a, 3, padding=pad))
            for a, b in zip(widths[:-1], widths[1:])
        )
        self.head = nn.Sequential(PadConv(widths[0], c_out, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features = [self.inc(z)]
        for down in self.downs:
            features.append(down(features[-1]))
        x = features.pop()
        for up, upsample in zip(reversed(self.ups), reversed(self.upsamples)):
            skip = features.pop()
            x = upsample(x)[..., : skip.shape[-2], : skip.shape[-1]]
            x = up(torch.cat([skip, x], dim=1))
        return self.head(x)


class ResidualBlock(nn.Module):
    def __init__(self, width: int, padding: str):
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_act(width, width, 3, padding=padding), PadConv(width, width, 3, padding=padding), nn.BatchNorm2d(width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNet(nn.Module):
    """Full-resolution residual network (no down-sampling)."""

    def __init__(self, c_in: int, c_out: int, spec: NetworkSpec):
        super().__init__()
        width = spec.down[0]
        self.net = nn.Sequential(
            PadConv(c_in, width, 3, padding=spec.padding),
            nn.LeakyReLU(0.2, inplace=True),
            *(ResidualBlock(width, spec.padding) for _ in range(spec.blocks)),
            PadConv(width, c_out, 1),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class DeepDecoder(nn.Module):
    """Deep Decoder (Heckel & Hand, 2019): 1x1 convolutions, up-sampling, ReLU, BatchNorm."""

    def __init__(self, c_in: int, c_out: int, spec: NetworkSpec):
        super().__init__()
        layers: list[nn.Module] = []
        widths = (c_in, *spec.down)
        modes = upsample_modes(spec)[::-1]  # the decoder goes from coarse to fine
        for a, b, mode in zip(widths[:-1], widths[1:], modes):
            layers += [nn.Conv2d(a, b, 1, bias=False), _upsample(mode), nn.ReLU(inplace=True), nn.BatchNorm2d(b)]
        layers += [nn.Conv2d(widths[-1], c_out, 1, bias=False), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def code_downscale(spec: NetworkSpec) -> int:
    """How many times smaller per side the code is than the output."""
    return 2 ** len(spec.down) if spec.architecture == "deep_decoder" else 1


def build_network(spec: NetworkSpec, in_channels: int, out_channels: int) -> nn.Module:
    """Build the generator described by ``spec``."""
    if spec.architecture in ("skip", "hourglass"):
        if spec.architecture == "hourglass":
            from dataclasses import replace

            spec = replace(spec, skip=(0,) * len(spec.down))
        return SkipNet(in_channels, out_channels, spec)
    builders = {"unet": UNet, "resnet": ResNet, "deep_decoder": DeepDecoder}
    if spec.architecture not in builders:
        raise ValueError(f"Unknown architecture {spec.architecture!r}: choose one of {', '.join(ARCHITECTURES)}.")
    return builders[spec.architecture](in_channels, out_channels, spec)
