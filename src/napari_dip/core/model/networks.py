"""Generator networks: skip hourglass, plain hourglass, U-Net, ResNet, Deep Decoder.

Every builder returns an ``nn.Module`` mapping a code ``z`` of shape
(N, C_in, H', W') to an image (N, C_out, H, W) in [0, 1] (sigmoid head).
For the convolutional nets H' = H; the Deep Decoder takes a code
``2**len(channels)`` times smaller per side (see :func:`code_downscale`).
The skip and hourglass nets also come in 3D (``NetworkSpec.dims = 3``):
Conv3d, BatchNorm3d and trilinear up-sampling on (N, C, Z, Y, X) codes, with
per-scale choices of whether Z is down-sampled and whether kernels span Z
(see :func:`volume_spec`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

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

    ``dims`` is 2 for images and 3 for volumes (skip / hourglass only). In 3D,
    ``z_down[s]`` says whether scale ``s`` halves Z as well as Y and X, and
    ``z_kernel[s]`` whether its kernels span Z (k x k x k) or not (1 x k x k);
    empty tuples mean True at every scale.

    ``input_norm`` puts a BatchNorm on the code before the skip net, so an
    optimised code steps in units of its own spread (skip / hourglass only).
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
    dims: int = 2
    z_down: tuple[bool, ...] = ()
    z_kernel: tuple[bool, ...] = ()
    input_norm: bool = False

    @property
    def depth(self) -> int:
        """Number of times the net halves the image (0 for ResNet)."""
        if self.architecture == "resnet":
            return 0
        if self.architecture == "unet":
            return len(self.down) - 1
        return len(self.down)

    @property
    def z_depth(self) -> int:
        """Number of times a 3D net halves Z (0 in 2D)."""
        if self.dims != 3:
            return 0
        return sum(self.z_down) if self.z_down else len(self.down)


#: Z extent (in voxels) below which a 3D net stops halving Z.
MIN_Z_DOWN = 8


def volume_spec(spec: NetworkSpec, depth: int, spacing: Sequence[float] = (1.0, 1.0, 1.0)) -> NetworkSpec:
    """The 3D version of ``spec`` for a volume of ``depth`` slices with voxel size ``spacing`` (Z, Y, X).

    Scale by scale, Y and X are halved; Z is halved too only while its voxels
    are less than twice as coarse as the (growing) Y / X pixels and at least
    :data:`MIN_Z_DOWN` slices remain, and the kernels span Z only while its
    voxels are less than twice as coarse (1 x k x k before that).
    """
    if len(spacing) != 3 or not all(float(v) > 0 for v in spacing):
        raise ValueError(f"spacing={tuple(spacing)!r}: give three positive voxel sizes (Z, Y, X), e.g. (2.0, 1.0, 1.0).")
    if spec.architecture not in ("skip", "hourglass"):
        raise ValueError(
            f"The {spec.architecture!r} network has no 3D version: use a skip-net preset ('paper' or 'fast')."
        )
    z_step, xy_step = float(spacing[0]), float(min(spacing[1:]))
    z_down, z_kernel = [], []
    for _ in spec.down:
        isotropic = z_step / xy_step < 2
        halve = isotropic and depth >= MIN_Z_DOWN
        z_kernel.append(isotropic)
        z_down.append(halve)
        if halve:
            depth, z_step = -(-depth // 2), z_step * 2
        xy_step *= 2
    return replace(spec, dims=3, z_down=tuple(z_down), z_kernel=tuple(z_kernel))


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


Size = int | tuple[int, ...]


class PadConv(nn.Module):
    """Convolution preceded by reflection (or zero) padding that keeps the size / stride.

    ``kernel`` and ``stride`` are an int or one value per spatial axis; ``dims``
    is 2 (Conv2d) or 3 (Conv3d).
    """

    def __init__(self, c_in: int, c_out: int, kernel: Size, stride: Size = 1, padding: str = "reflection",
                 dims: int = 2):
        super().__init__()
        kernels = (kernel,) * dims if isinstance(kernel, int) else tuple(kernel)
        self.pads = tuple((k - 1) // 2 for k in kernels)
        self.reflect = padding == "reflection"
        conv = nn.Conv3d if dims == 3 else nn.Conv2d
        self.conv = conv(c_in, c_out, kernels, stride, padding=0 if self.reflect else self.pads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reflect and any(self.pads):
            # Reflection needs the pad to be smaller than the side; replicate on tiny maps.
            sides = x.shape[-len(self.pads):]
            mode = "reflect" if all(s > p for s, p in zip(sides, self.pads)) else "replicate"
            x = F.pad(x, tuple(p for p in reversed(self.pads) for _ in range(2)), mode=mode)
        return self.conv(x)


def _batch_norm(channels: int, dims: int = 2) -> nn.Module:
    return nn.BatchNorm3d(channels) if dims == 3 else nn.BatchNorm2d(channels)


def conv_bn_act(c_in: int, c_out: int, kernel: Size, stride: Size = 1, padding: str = "reflection",
                dims: int = 2) -> nn.Sequential:
    return nn.Sequential(
        PadConv(c_in, c_out, kernel, stride, padding, dims), _batch_norm(c_out, dims), nn.LeakyReLU(0.2, inplace=True)
    )


def _upsample(mode: str, factor: Size = 2) -> nn.Upsample:
    if mode == "bilinear":
        linear = "trilinear" if isinstance(factor, tuple) and len(factor) == 3 else "bilinear"
        return nn.Upsample(scale_factor=factor, mode=linear, align_corners=False)
    return nn.Upsample(scale_factor=factor, mode="nearest")


def _scale_sizes(spec: NetworkSpec, scale: int, kernel: int) -> tuple[Size, Size]:
    """Kernel and stride of ``spec`` at ``scale``, per axis in 3D."""
    if spec.dims != 3:
        return kernel, 2
    spans = spec.z_kernel[scale] if spec.z_kernel else True
    halves = spec.z_down[scale] if spec.z_down else True
    return (kernel if spans else 1, kernel, kernel), (2 if halves else 1, 2, 2)


class SkipLevel(nn.Module):
    """One scale of the skip hourglass: skip branch, down branch, deeper levels, up branch."""

    def __init__(self, spec: NetworkSpec, scale: int, c_in: int):
        super().__init__()
        scales = len(spec.down)
        k_down = _per_scale(spec.kernel_down, scales, "kernel_down")[scale]
        k_up = _per_scale(spec.kernel_up, scales, "kernel_up")[scale]
        n_down, n_up, n_skip = spec.down[scale], spec.up[scale], spec.skip[scale]
        pad, dims = spec.padding, spec.dims
        (k_down, stride), (k_up, _) = _scale_sizes(spec, scale, k_down), _scale_sizes(spec, scale, k_up)
        self.skip = conv_bn_act(c_in, n_skip, spec.kernel_skip, padding=pad, dims=dims) if n_skip else None
        self.down = nn.Sequential(
            conv_bn_act(c_in, n_down, k_down, stride=stride, padding=pad, dims=dims),
            conv_bn_act(n_down, n_down, k_down, padding=pad, dims=dims),
        )
        self.deeper = SkipLevel(spec, scale + 1, n_down) if scale + 1 < scales else None
        c_deep = spec.up[scale + 1] if self.deeper is not None else n_down
        self.upsample = _upsample(upsample_modes(spec)[scale], stride if dims == 3 else 2)
        self.merge = nn.Sequential(
            _batch_norm(n_skip + c_deep, dims),
            conv_bn_act(n_skip + c_deep, n_up, k_up, padding=pad, dims=dims),
            conv_bn_act(n_up, n_up, 1, padding=pad, dims=dims),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        deep = self.down(x)
        if self.deeper is not None:
            deep = self.deeper(deep)
        deep = self.upsample(deep)[(..., *(slice(0, n) for n in x.shape[2:]))]
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
        self.norm = _batch_norm(c_in, spec.dims) if spec.input_norm else nn.Identity()
        self.body = SkipLevel(spec, 0, c_in)
        self.head = nn.Sequential(PadConv(spec.up[0], c_out, 1, dims=spec.dims), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.norm(z)))


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


class Members(nn.Module):
    """Independent generators fitted side by side: member ``k`` maps code ``k`` of the batch.

    The output is the members' outputs stacked along the batch axis; a fit
    averages them into its image (independent fits averaged, as the paper
    averages runs, in one fit).
    """

    def __init__(self, networks: Sequence[nn.Module]):
        super().__init__()
        self.networks = nn.ModuleList(networks)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.shape[0] != len(self.networks):
            raise ValueError(f"A code with {z.shape[0]} entries for {len(self.networks)} members: give one per member.")
        return torch.cat([network(code) for network, code in zip(self.networks, z.split(1), strict=True)])


def member_count(network: nn.Module) -> int:
    """How many codes (batch entries) one forward pass of ``network`` takes."""
    return len(network.networks) if isinstance(network, Members) else 1


def code_downscale(spec: NetworkSpec) -> int:
    """How many times smaller per side the code is than the output."""
    return 2 ** len(spec.down) if spec.architecture == "deep_decoder" else 1


def build_network(spec: NetworkSpec, in_channels: int, out_channels: int) -> nn.Module:
    """Build the generator described by ``spec``."""
    if spec.dims not in (2, 3) or (spec.dims == 3 and spec.architecture not in ("skip", "hourglass")):
        raise ValueError(f"A {spec.dims}D {spec.architecture!r} network does not exist: use 2D, or 3D with a skip net.")
    if spec.architecture in ("skip", "hourglass"):
        if spec.architecture == "hourglass":
            spec = replace(spec, skip=(0,) * len(spec.down))
        return SkipNet(in_channels, out_channels, spec)
    builders = {"unet": UNet, "resnet": ResNet, "deep_decoder": DeepDecoder}
    if spec.architecture not in builders:
        raise ValueError(f"Unknown architecture {spec.architecture!r}: choose one of {', '.join(ARCHITECTURES)}.")
    return builders[spec.architecture](in_channels, out_channels, spec)
