"""Compare: the classic methods of a task, run one after the other on the current slice, scored by a reference.

:func:`compare_methods` runs in a worker thread and yields one
:class:`MethodDone` per method of :func:`napari_dip.core.extras.classic.methods_for`;
the panel in :mod:`napari_dip._qt.compare` adds each result as a layer and
fills the PSNR / SSIM table. No Qt here.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CompareRequest:
    """The current slice's arrays and the methods to run on them."""

    methods: tuple[str, ...]
    image: np.ndarray
    extra: tuple[np.ndarray, ...] = ()  # the mask, for inpainting
    channel_axis: int | None = None
    factor: int = 1
    reference: np.ndarray | None = None
    others: dict[str, np.ndarray] = field(default_factory=dict)  # results to score too (the DIP output)


@dataclass(frozen=True)
class MethodDone:
    """One method's result (``output`` None and ``error`` set when it failed)."""

    name: str
    position: int
    count: int
    output: np.ndarray | None = None
    score: Any = None  # core.classic.Score with a reference
    error: str = ""


def compare_methods(request: CompareRequest) -> Generator[MethodDone, None, list[Any]]:
    """Run every method in turn (in the worker thread); return the scores of the other results too."""
    from napari_dip.core.extras.classic import run_classic, score

    count = len(request.methods)
    for position, name in enumerate(request.methods):
        try:
            output = run_classic(name, request.image, *request.extra, channel_axis=request.channel_axis,
                                 factor=request.factor)
            rated = None if request.reference is None else score(name, output, request.reference,
                                                                 request.channel_axis)
        except Exception as exc:  # noqa: BLE001 - failures go back to the GUI as data
            yield MethodDone(name, position, count, error=f"{name} failed: {exc}")
            continue
        yield MethodDone(name, position, count, output, rated)
    if request.reference is None:
        return []
    return [score(name, out, request.reference, request.channel_axis) for name, out in request.others.items()]


def verdict(scores: list[Any], dip: str = "DIP") -> str:
    """One line on which result is closer to the reference: it says so when a classic method beats ``dip``'s."""
    ours = next((rated for rated in scores if rated.name == dip), None)
    classic = [rated for rated in scores if rated.name != dip]
    if ours is None or not classic:
        return ""
    best = max(classic, key=lambda rated: rated.psnr)
    if best.psnr > ours.psnr:
        return (f"{best.name} beats the DIP result on this image: {best.psnr:.2f} dB against {ours.psnr:.2f} "
                "(PSNR to the reference); its layer is in the grid.")
    return f"The DIP result is the closest to the reference: {ours.psnr:.2f} dB, {best.name} {best.psnr:.2f} dB."
