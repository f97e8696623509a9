"""The worker generator and the output session, driven without a viewer."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip.core.tasks import prepare as tasks
from napari_dip.gui.form import progress_text
from napari_dip.gui.layers import SliceSource
from napari_dip.gui.messages import Failure, FitUpdate, RunFailed, SliceFinished, SliceStarted
from napari_dip.gui.runner import RunRequest, run_request
from napari_dip.gui.session import LayerPlan, OutputSpec, RunSession

KWARGS = {"preset": "fast", "device": "cpu", "iterations": 50, "preview_every": 5, "check_every": 5}


def _request(image, indices=((),), **kwargs):
    return RunRequest("denoise", (SliceSource(image, len(indices[0])),), tuple(indices), {**KWARGS, **kwargs},
                      preview_interval=0.0, update_interval=0.0)


def test_one_yield_per_iteration_so_stop_is_immediate(tiny_image):
    """Stopping after k yields of the fit leaves the fit at iteration k: Stop acts within one iteration."""
    steps = run_request(_request(tiny_image()))
    started = next(m for m in steps if isinstance(m, SliceStarted))
    updates = [next(steps) for _ in range(7)]
    steps.close()
    assert started.run.history.stop_iteration == 7
    assert [u.iteration for u in updates] == list(range(1, 8))  # update_interval=0: every iteration reported
    assert any(u.preview is not None for u in updates)
    assert all(u.preview.dtype == np.uint8 for u in updates if u.preview is not None)


def test_messages_of_a_complete_stack_run(tiny_image):
    stack = np.stack([tiny_image(seed=s) for s in range(2)])
    messages = [m for m in run_request(_request(stack, ((0,), (1,)), iterations=5)) if m is not None]
    kinds = [type(m).__name__ for m in messages]
    assert kinds.count("SliceStarted") == kinds.count("SliceFinished") == 2
    finished = [m for m in messages if isinstance(m, SliceFinished)]
    assert [f.index for f in finished] == [(0,), (1,)]
    assert all(f.stop_reason == "completed" and f.outputs[0].shape == (32, 32) for f in finished)
    losses = [loss for m in messages if isinstance(m, FitUpdate) for loss in m.losses]
    assert len(losses) == 10  # every iteration's loss reaches the GUI, in batches


def test_a_slice_sharing_the_last_fits_window_gets_that_fits_snapshots_of_itself(tiny_image):
    """The slices of one window share one fit; each gets the fit's snapshots of its own channel, as they were at
    their iterations."""
    from dataclasses import replace

    stack = np.stack([tiny_image(seed=s) for s in range(2)]).astype(np.float32) / 255
    request = replace(_request(stack, ((0,), (1,)), iterations=6, threads=1, use_ema=True, preview_every=2), history_every=2,
                      context=1)
    snapshots: dict[int, list] = {0: [], 1: []}
    for message in run_request(request):
        if isinstance(message, FitUpdate) and message.snapshot is not None:
            snapshots[message.position].append((message.iteration, message.snapshot[0]))
    window = tasks.prepare_denoise(stack, channel_axis=0, **{**KWARGS, "iterations": 6, "threads": 1,
                                                            "use_ema": True, "preview_every": 2})
    expected = [(p.iteration, window.to_image(p.ema_image)[1]) for p in window.steps() if p.iteration % 2 == 0]
    assert [i for i, _ in snapshots[1]] == [i for i, _ in expected] == [2, 4, 6]
    for (_, got), (_, want) in zip(snapshots[1], expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_failures_come_back_as_messages(monkeypatch, tiny_image):
    bad = list(run_request(_request(tiny_image(), lr=-1.0)))
    assert isinstance(bad[-1], RunFailed) and bad[-1].kind is Failure.INPUT and "learning rate" in bad[-1].message

    def broken(image, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setitem(tasks.TASKS, "denoise", broken)
    internal = list(run_request(_request(tiny_image())))
    assert internal == [RunFailed(internal[0].message, Failure.INTERNAL, 0)] and "boom" in internal[0].message


class _FakeRun:
    """Stands in for a TaskRun stopped mid-fit."""

    def __init__(self, iteration, fitted=True):
        self.settings = {"task": "denoise", "seed": 3}
        self.history = type("History", (), {"stop_iteration": iteration})()
        self._fitted = fitted

    def result(self):
        if not self._fitted:
            raise RuntimeError("The fit has not run a single iteration yet.")
        return np.full((4, 4), 9, dtype=np.uint8)


def _plan(**kwargs):
    base = dict(source="s", outputs=(OutputSpec("denoised"),), scale=(1.0, 1.0, 1.0), translate=(0.0, 0.0, 0.0),
                stack_shape=(3,), all_slices=True)
    return LayerPlan(**{**base, **kwargs})


def test_stop_mid_stack_keeps_done_slices_and_current_one():
    session = RunSession(_plan(), count=3)
    done = _FakeRun(20)
    session.started(SliceStarted(0, 3, (0,), done))
    session.finished(SliceFinished(0, (0,), (np.full((4, 4), 5, np.uint8),), 20, "completed"))
    session.started(SliceStarted(1, 3, (1,), _FakeRun(7)))
    assert session.keep_current()
    [(data, kwargs, kind)] = session.layers()
    assert kind == "image" and kwargs["name"] == "s [denoised]"
    assert data.shape == (3, 4, 4) and (data[0] == 5).all() and (data[1] == 9).all() and not data[2].any()
    meta = kwargs["metadata"]["napari_dip"]
    assert meta["seed"] == 3 and meta["slices_done"] == 2 and meta["slices_total"] == 3
    assert meta["stopped_at"] == 7 and meta["stop_reason"] == "stopped"


def test_stop_before_the_first_iteration_keeps_nothing():
    session = RunSession(_plan(stack_shape=(), all_slices=False, scale=(1.0, 1.0), translate=(0.0, 0.0)), count=1)
    session.started(SliceStarted(0, 1, (), _FakeRun(0, fitted=False)))
    assert not session.keep_current()
    assert session.layers() == []


@pytest.mark.parametrize(
    "args, expected",
    [((0, 1, 50, 100, 5.0), (0.5, "50/100 it · 10.0 it/s · 0:05 left")),
     ((1, 2, 0, 100, 0.0), (0.5, "slice 2/2 · 0/100 it · 0.0 it/s · -- left"))],
)
def test_progress_text(args, expected):
    assert progress_text(*args) == expected
