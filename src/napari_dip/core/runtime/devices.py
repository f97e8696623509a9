"""Device choice, automatic precision and memory estimates."""

from __future__ import annotations

import math

import torch
from torch import nn

from napari_dip.core import validation as check
from napari_dip.core.model.networks import member_count

DEVICES = ("auto", "cpu", "cuda", "mps")
#: Autocast precisions of a fit; "auto" picks bfloat16 where the device computes it natively, else float32.
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
#: Memory layouts of a fit's network; "auto" picks channels-last where it was measured faster.
MEMORY_FORMATS = ("auto", "channels_last", "contiguous")


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def available_devices() -> list[str]:
    """Device names usable here, best first ("auto" not included)."""
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    if mps_available():
        names.append("mps")
    return names + ["cpu"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"`` into CUDA, then MPS, then CPU; check that a named device exists."""
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    if name == "auto":
        return torch.device(available_devices()[0])
    kind = name.split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA is not available on this machine: use device='auto' or 'cpu'.")
    if kind == "mps" and not mps_available():
        raise ValueError("Apple MPS is not available on this machine: use device='auto' or 'cpu'.")
    if kind not in DEVICES:
        raise ValueError(f"Unknown device {device!r}: use one of {', '.join(DEVICES)}.")
    return torch.device(name)


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX-BF16); elsewhere torch emulates it."""
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if all(callable(probe) for probe in probes):
        return any(probe() for probe in probes)
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def cuda_native_bf16(device: torch.device) -> bool:
    """Whether the CUDA (or ROCm) ``device`` computes bfloat16 natively (compute capability 8.0 or more)."""
    if device.index is None:
        return torch.cuda.is_bf16_supported(including_emulation=False)
    with torch.cuda.device(device.index):
        return torch.cuda.is_bf16_supported(including_emulation=False)


def resolve_precision(precision: str, device: torch.device | str, spatial_dims: int = 2) -> str:
    """The autocast precision of a fit on ``device``: ``"auto"`` becomes "bfloat16" or "float32", others pass through.

    "auto" is bfloat16 on a CUDA device that runs it natively and on a CPU with
    AVX512-BF16 or AMX (2D fits only: there, the bfloat16 3D convolutions
    turned a volume's loss NaN within 10 iterations with torch 2.11),
    float32 everywhere else (MPS included), where bfloat16 would be emulated
    or unsupported.
    """
    check.choice("precision", precision, PRECISIONS)
    if precision != "auto":
        return precision
    device = torch.device(device)
    cpu = (lambda: False) if spatial_dims == 3 else cpu_native_bf16
    native = {"cuda": lambda: cuda_native_bf16(device), "cpu": cpu}.get(device.type, lambda: False)
    return "bfloat16" if native() else "float32"


def resolve_memory_format(memory_format: str, device: torch.device | str, spatial_dims: int = 2) -> str:
    """The memory layout of a fit's network on ``device``: ``"auto"`` becomes "channels_last" or "contiguous".

    "auto" is channels-last for 2D fits on a CPU with AVX-512, where oneDNN
    then convolves without reordering every activation to its blocked layout
    and back (the fast network's iterations ran 1.08-1.35x faster at 1 and 2
    threads, in float32 and bfloat16; ``benchmarks/speed.py --parts layout``),
    and contiguous elsewhere: for volumes (no gain measured), on CPUs without
    AVX-512 (2.2x slower measured on an AVX2 CPU) and on GPUs (not measured).
    """
    check.choice("memory_format", memory_format, MEMORY_FORMATS)
    if memory_format == "channels_last" and spatial_dims == 3:
        raise ValueError("memory_format='channels_last' lays out 2D fits; a 3D fit (spatial_dims=3) runs "
                         "contiguous: use 'auto' or 'contiguous'.")
    if memory_format != "auto":
        return memory_format
    fits = torch.device(device).type == "cpu" and spatial_dims == 2 and cpu_avx512()
    return "channels_last" if fits else "contiguous"


def cpu_avx512() -> bool:
    """Whether torch's CPU kernels run AVX-512 here (its dispatch level; AMX CPUs report AVX-512 too)."""
    return torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def estimate_memory(network: nn.Module, code_shape: tuple[int, ...], probe_side: int = 64) -> int:
    """Estimate the bytes one training step of ``network`` needs for a code of ``code_shape``.

    Activations are counted on a small probe input and scaled by area (volume in 3D); they
    are kept for the backward pass (x3 for gradients and temporaries). Weights
    count four times (weights, gradients, two Adam moments).
    """
    channels, *sides = code_shape[1:] if len(code_shape) == 5 else code_shape[-3:]
    probe = [min(probe_side, side) for side in sides]
    elements = 0

    def count(_module, _inputs, output):
        nonlocal elements
        if isinstance(output, torch.Tensor):
            elements += output.numel()

    leaves = [m for m in network.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(count) for m in leaves]
    was_training = network.training
    network.eval()  # keep BatchNorm statistics untouched
    device = next(network.parameters()).device
    try:
        with torch.no_grad():
            network(torch.zeros(member_count(network), channels, *probe, device=device))
    finally:
        for hook in hooks:
            hook.remove()
        network.train(was_training)
    scale = math.prod(sides) / math.prod(probe)
    weights = sum(p.numel() for p in network.parameters())
    return int(4 * (3 * elements * scale + 4 * weights))


def free_memory(device: torch.device) -> int | None:
    """Bytes free on ``device`` (None when unknown)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def fit_memory(network: nn.Module, code_shape: tuple[int, ...], target_shape: tuple[int, ...]) -> int:
    """Bytes of a fit from shapes alone: :func:`estimate_memory` plus the float32 code and target."""
    code_bytes = 4 * member_count(network) * math.prod(code_shape)
    return estimate_memory(network, code_shape) + code_bytes + 4 * math.prod(target_shape)
