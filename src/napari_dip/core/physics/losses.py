"""What a fit minimises: the task's data term, chosen here, and the loss composed from it.

The data term compares the network's output with the observation through the
task's forward operator (:mod:`.operators`) or likelihood (:mod:`.noise`).
:func:`fit_loss` composes what Adam minimises from it: held-out observations
left out, the root of the term, Stein's unbiased risk estimate, and a total
variation penalty, each as the :class:`~napari_dip.core.fitting.config.FitConfig`
asks.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from napari_dip.core.fitting.config import FitConfig
from napari_dip.core.physics.operators import Identity, LanczosDownsample, Mask, total_variation


def data_term(channels: int, *, factor: int = 1, known: np.ndarray | None = None,
              likelihood: nn.Module | None = None) -> nn.Module:
    """The data term of a task: the squared error through Lanczos decimation by ``factor`` (super-resolution), on
    the ``known`` pixels ((H, W), inpainting), the given ``likelihood`` (photon noise), or the plain squared error."""
    if factor > 1:
        return LanczosDownsample(factor, channels)
    if known is not None:
        return Mask(torch.from_numpy(np.asarray(known, np.float32)))
    return likelihood if likelihood is not None else Identity()


def observed_loss(term: nn.Module, output: torch.Tensor, target: torch.Tensor,
                  left_out: torch.Tensor | None = None) -> torch.Tensor:
    """``term.loss(output, target)`` with the ``left_out`` observations (a boolean mask broadcastable to the target)
    counted as matched exactly. A pixel-wise term leaves them out of the output; a term whose observation is smaller
    than its output (a decimation) leaves them out of the observation it makes."""
    if left_out is None:
        return term.loss(output, target)
    if output.shape[2:] == target.shape[2:]:
        return term.loss(torch.where(left_out, target, output), target)
    return term.loss(output, target, left_out=left_out)


def divergence(output: torch.Tensor, moved: torch.Tensor, probe: torch.Tensor, step: float) -> torch.Tensor:
    """Each member's divergence of a network at the code, from its ``output`` there and its output ``moved`` at the
    code plus ``step`` times the Gaussian ``probe``: one-probe Monte Carlo with a finite difference."""
    return (probe * (moved.float() - output.float())).flatten(1).mean(1) / step


def fit_loss(term: nn.Module, output: torch.Tensor, target: torch.Tensor, config: FitConfig, *,
             held_out: torch.Tensor | None = None, fitted_share: float = 1.0,
             divergences: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """What Adam minimises and what the history records, summed over the members' outputs (so each member steps
    exactly as its own fit would).

    Adam minimises the data term (its root with ``root_loss``; with ``sure_sigma``, Stein's estimate of the error
    against the clean image from it and the members' ``divergences``) plus the weighted total variation. Held-out
    observations count as fitted exactly (``fitted_share`` is the share of the rest). The history records the same,
    except with ``sure_sigma``: the data term alone, which unlike the estimate stays positive for the backtracking.
    """
    terms = [observed_loss(term, member, target, held_out) for member in output.split(1)]
    recorded = None
    if config.root_loss:
        terms = [value.clamp_min(1e-12).sqrt() for value in terms]
    if config.sure_sigma is not None:  # (never with root_loss)
        recorded = terms[0] if len(terms) == 1 else torch.stack(terms).sum()
        variance = config.sure_sigma**2
        terms = [value / fitted_share - variance + 2 * variance * div for value, div in zip(terms, divergences)]
    loss = terms[0] if len(terms) == 1 else torch.stack(terms).sum()
    if config.tv_weight:
        loss = loss + config.tv_weight * len(terms) * total_variation(output)  # the TV is a mean over members
    return loss, (loss if recorded is None else recorded)
