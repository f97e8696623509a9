"""What Adam fits and how: the parameter groups of a fit, and Adam itself."""

from __future__ import annotations

import torch
from torch import nn

from napari_dip.core.fitting.config import FitConfig


def adam(params: list, lr: float) -> torch.optim.Adam:
    """Adam, with its update fused into one kernel where the device has one (the same step, cheaper on CPU)."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError):  # devices or dtypes without the fused kernel
        return torch.optim.Adam(params, lr=lr)


def parameter_groups(network: nn.Module, code: torch.Tensor, config: FitConfig) -> list[dict]:
    """Adam's parameter groups: the network at ``lr``; the code (made trainable) and, with ``code_lr``, the
    BatchNorm scales and shifts at ``code_lr``."""
    code_lr = config.lr if config.code_lr is None else config.code_lr
    at_lr: list[torch.Tensor] = []
    at_code_lr: list[torch.Tensor] = []
    if config.optimize in ("net", "both"):
        for module in network.modules():
            own = list(module.parameters(recurse=False))
            normalises = isinstance(module, nn.modules.batchnorm._BatchNorm)
            (at_code_lr if normalises and config.code_lr is not None else at_lr).extend(own)
    if config.optimize in ("code", "both"):
        code.requires_grad_(True)
        at_code_lr.append(code)
    return [group for group in ({"params": at_lr, "lr": config.lr}, {"params": at_code_lr, "lr": code_lr})
            if group["params"]]
