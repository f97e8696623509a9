"""The GUI side of one run: collect the slices' results and describe the output layers.

:class:`RunSession` receives the worker's messages (in the GUI thread),
writes each finished slice into the output stack, keeps the current slice's
result when the user stops, and returns napari ``LayerDataTuple``s named after
the source, with its geometry and every setting in the metadata. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from napari_dip.gui.messages import RunFailed, SliceFinished, SliceStarted


@dataclass(frozen=True)
class OutputSpec:
    """One output layer of a task: its name suffix and how to show it."""

    suffix: str
    like_source: bool = True  # same value range as the input: reuse its contrast limits
    visible: bool = True


@dataclass(frozen=True)
class LayerPlan:
    """What the output layers look like, fixed when Run is pressed (the source may change later)."""

    source: str
    outputs: tuple[OutputSpec, ...]
    scale: tuple[float, ...]
    translate: tuple[float, ...]
    stack_shape: tuple[int, ...] = ()  # leading shape of the outputs; (1, ...) for one slice of a stack
    all_slices: bool = False
    rgb: bool = False
    contrast_limits: tuple[float, float] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # extra entries for the metadata


class RunSession:
    """Results of the slices of one run, gathered as the worker reports them."""

    def __init__(self, plan: LayerPlan, count: int):
        self.plan = plan
        self.count = count
        self.current: SliceStarted | None = None
        self.failure: RunFailed | None = None
        self.settings: dict[str, Any] = {}
        self.slices: list[dict[str, Any]] = []
        self._buffers: list[np.ndarray] | None = None

    @property
    def complete(self) -> bool:
        """Whether every slice has a result."""
        return len(self.slices) == self.count

    @property
    def has_output(self) -> bool:
        return bool(self.slices)

    def started(self, message: SliceStarted) -> None:
        self.current = message
        if not self.settings:  # the first slice's, as its finish records them (the classic share)
            self.settings = message.run.settings

    def finished(self, message: SliceFinished) -> None:
        self._store(message.index, message.outputs, message.stopped_at, message.stop_reason)
        self.current = None

    def failed(self, message: RunFailed) -> None:
        self.failure = message

    def keep_current(self) -> bool:
        """After a Stop: keep the current slice's result so far. False if it had not started fitting."""
        if self.current is None:
            return False
        run = self.current.run
        try:
            result = run.result()
        except RuntimeError:  # stopped before the first iteration
            return False
        outputs = result if isinstance(result, tuple) else (result,)
        self._store(self.current.index, outputs, run.history.stop_iteration, "stopped")
        self.current = None
        return True

    def _store(self, index: tuple[int, ...], outputs: tuple[np.ndarray, ...], stopped_at: int, reason: str) -> None:
        stack = self.plan.stack_shape
        if self._buffers is None:
            self._buffers = [np.zeros(stack + out.shape, dtype=out.dtype) for out in outputs]
        at = tuple(index) if self.plan.all_slices else (0,) * len(stack)
        for buffer, out in zip(self._buffers, outputs, strict=True):
            buffer[at] = out
        self.slices.append({"index": list(index), "stopped_at": int(stopped_at), "stop_reason": reason})

    def metadata(self) -> dict[str, Any]:
        """Every setting, the source, and where the fit stopped (per slice for stacks)."""
        last = self.slices[-1]
        meta = {**self.settings, "source": self.plan.source, **self.plan.metadata}
        meta["stopped_at"], meta["stop_reason"] = last["stopped_at"], last["stop_reason"]
        if self.plan.stack_shape:
            meta["slice_index"] = last["index"]
        if self.plan.all_slices:
            meta["slices"] = list(self.slices)
            meta["slices_done"] = len(self.slices)
            meta["slices_total"] = self.count
        return meta

    def summary(self, stopped: bool, elapsed: float) -> tuple[str, str]:
        """Progress-bar text and a one-line notification for the end of the run."""
        from napari_dip.core.extras.classic_blend import share_note

        meta = self.metadata()
        minutes, seconds = divmod(round(elapsed), 60)
        took = f"{minutes}:{seconds:02d}"
        if self.plan.all_slices:  # every slice runs its own iterations (the first more than the warm-started)
            done = f"{meta['slices_done']} of {meta['slices_total']} slices"
            if stopped:
                return f"stopped: {done}", f"Stopped with {done} restored; they are kept."
            return f"done: {done}", f"Done: {done} in {took}."
        at = f"{meta['stopped_at']} / {meta['iterations']}"
        average = f" Result {share_note(meta)}." if "classic_share" in meta else ""
        if stopped:
            return f"stopped at {at}", f"Stopped at {at}; the result so far is kept.{average}"
        if meta["stop_reason"] == "auto_stop":
            return f"auto-stopped at {at}", f"Auto-stopped at {at} in {took}.{average}"
        return f"done: {at}", f"Done: {meta['iterations']} iterations in {took}.{average}"

    def slice_translate(self, index: tuple[int, ...]) -> tuple[float, ...]:
        """Translate of one slice's layer (the plan's own for a run on the current slice)."""
        if not self.plan.all_slices:
            return self.plan.translate
        lead = len(self.plan.stack_shape)
        offset = [i * s for i, s in zip(index, self.plan.scale[:lead], strict=True)]
        return tuple(t + o for t, o in zip(self.plan.translate, [*offset, *[0.0] * (len(self.plan.translate) - lead)],
                                           strict=True))

    def _tuples(self, buffers: list[np.ndarray], meta: dict[str, Any], translate: tuple[float, ...],
                note: str = "") -> list[Any]:
        tuples = []
        for spec, data in zip(self.plan.outputs, buffers, strict=True):
            kwargs: dict[str, Any] = {
                "name": f"{self.plan.source} [{spec.suffix}{note}]",
                "scale": self.plan.scale,
                "translate": translate,
                "rgb": self.plan.rgb and data.ndim == len(self.plan.stack_shape) + 3,
                "visible": spec.visible,
                "metadata": {"napari_dip": {**meta, "output": spec.suffix}},
            }
            if spec.like_source and self.plan.contrast_limits is not None:
                kwargs["contrast_limits"] = list(self.plan.contrast_limits)
            tuples.append((data, kwargs, "image"))
        return tuples

    def layers(self) -> list[tuple[np.ndarray, dict[str, Any], str]]:
        """The output layers as napari ``(data, kwargs, "image")`` tuples (empty when nothing finished)."""
        if self._buffers is None:
            return []
        return self._tuples(self._buffers, self.metadata(), self.plan.translate)

    def snapshot_layers(
        self, outputs: tuple[np.ndarray, ...], iteration: int, index: tuple[int, ...]
    ) -> list[tuple[np.ndarray, dict[str, Any], str]]:
        """Output layers made from a snapshot of the history (slice ``index``), recording its iteration."""
        meta = {**self.settings, "source": self.plan.source, **self.plan.metadata}
        meta.update(kept_iteration=int(iteration), stopped_at=int(iteration), stop_reason="kept from history")
        if self.plan.stack_shape:
            meta["slice_index"] = list(index)
        ones = (1,) * len(self.plan.stack_shape)
        buffers = [out.reshape(ones + out.shape) for out in outputs]
        return self._tuples(buffers, meta, self.slice_translate(index), f", iteration {iteration} from the history")
